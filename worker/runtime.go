// Package worker runs Worker code in isolates: it compiles WorkerCode once
// into a Program (bundled by esbuild, compiled to bytecode and cached), makes
// Instances (one isolate each, with its own event loop) from a Program, and
// delivers fetch and RPC invocations to them under Limits.
//
// Concurrency: every call into an isolate happens on that Instance's loop
// goroutine. Other goroutines post work to the loop; see Instance.
package worker

import (
	"container/list"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/bundle"
	"github.com/warrenhq/warren/js"
	"github.com/warrenhq/warren/webapi"
)

// Program is compiled Worker code: what every Instance of it starts from.
type Program struct {
	Hash      string
	Bytecode  []byte
	SourceMap *bundle.SourceMap
	Source    string
	// families are the Web API families evaluated in every isolate of the
	// Program before its code (indexes into Runtime.families).
	families []int
}

// MapStack rewrites engine positions in a stack or message to positions in
// the original modules.
func (p *Program) MapStack(s string) string { return p.SourceMap.MapStack(s) }

// Runtime compiles code and creates instances. It is safe for concurrent use.
type Runtime struct {
	engine   js.Engine
	prelude  []byte
	families []family

	pool      chan *warmVM  // pre-booted VMs (nil: no pool)
	poolWake  chan struct{} // asks the filler for more
	lastTake  atomic.Int64  // when a VM was last taken off the pool (UnixNano)
	poolStop  chan struct{} // closed by Close
	poolDone  chan struct{} // closed when the filler has returned
	closeOnce sync.Once

	mu       sync.Mutex
	programs map[string]*list.Element // hash → element holding *Program
	lru      *list.List
	maxProgs int
}

// DefaultWarmVMs is the number of pre-booted VMs a Runtime keeps ready.
const DefaultWarmVMs = 4

// NewRuntime compiles the Web API prelude with engine and keeps
// DefaultWarmVMs pre-booted VMs ready.
func NewRuntime(engine js.Engine) (*Runtime, error) {
	return NewRuntimeWarm(engine, DefaultWarmVMs)
}

// NewRuntimeWarm is NewRuntime keeping warm pre-booted VMs ready (0: none;
// every isolate then boots on the caller's goroutine).
func NewRuntimeWarm(engine js.Engine, warm int) (*Runtime, error) {
	bc, err := engine.CompileRuntime(webapi.Prelude())
	if err != nil {
		return nil, fmt.Errorf("compile prelude: %w", err)
	}
	rt := &Runtime{engine: engine, prelude: bc, programs: map[string]*list.Element{}, lru: list.New(), maxProgs: 512}
	for _, f := range webapi.Families() {
		fbc, err := engine.CompileRuntime(f.Boot)
		if err != nil {
			return nil, fmt.Errorf("compile Web API family %s: %w", f.Name, err)
		}
		rt.families = append(rt.families, family{Family: f, bytecode: fbc})
	}
	if warm > 0 {
		rt.pool = make(chan *warmVM, warm)
		rt.poolWake = make(chan struct{}, 1)
		rt.poolStop, rt.poolDone = make(chan struct{}), make(chan struct{})
		go rt.fillPool()
		rt.refill()
	}
	return rt, nil
}

type family struct {
	webapi.Family
	bytecode []byte
}

// implied lists core globals whose use needs a family right away.
var implied = map[string][]string{
	"url":    {"fetch", "Request"},
	"events": {"fetch", "Request"},
}

// familiesFor returns the indexes (in evaluation order) of the families that
// source mentions, with the families those use in turn.
func (rt *Runtime) familiesFor(source string) []int {
	need := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if need[name] {
			return
		}
		need[name] = true
		for _, f := range rt.families {
			if f.Name == name {
				for _, u := range f.Uses {
					visit(u)
				}
			}
		}
	}
	for _, f := range rt.families {
		if webapi.Mentions(source, f.Globals) || webapi.Mentions(source, implied[f.Name]) {
			visit(f.Name)
		}
	}
	var out []int
	for i, f := range rt.families {
		if need[f.Name] {
			out = append(out, i)
		}
	}
	return out
}

// Engine returns the runtime's engine.
func (rt *Runtime) Engine() js.Engine { return rt.engine }

// Compile bundles and compiles code, or returns the cached Program for
// identical code. Errors are *warren.Error with CodeBadCode.
func (rt *Runtime) Compile(code *warren.WorkerCode) (*Program, error) {
	if err := code.Validate(); err != nil {
		return nil, err
	}
	hash := bundle.Hash(code)
	rt.mu.Lock()
	if el, ok := rt.programs[hash]; ok {
		rt.lru.MoveToFront(el)
		p := el.Value.(*Program)
		rt.mu.Unlock()
		return p, nil
	}
	rt.mu.Unlock()
	out, err := bundle.Build(code)
	if err != nil {
		return nil, err
	}
	bc, err := rt.engine.CompileModule(bundle.Pad(out.Source), code.MainModule)
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeBadCode, Message: "the engine could not compile the bundled code: " + err.Error()}
	}
	sm, _ := bundle.ParseSourceMap(out.SourceMap)
	p := &Program{Hash: hash, Bytecode: bc, SourceMap: sm, Source: out.Source, families: rt.familiesFor(out.Source)}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if el, ok := rt.programs[hash]; ok {
		return el.Value.(*Program), nil
	}
	rt.programs[hash] = rt.lru.PushFront(p)
	for rt.lru.Len() > rt.maxProgs {
		old := rt.lru.Back()
		rt.lru.Remove(old)
		delete(rt.programs, old.Value.(*Program).Hash)
	}
	return p, nil
}

// Fetcher receives HTTP requests: a service binding, an entrypoint of
// another Worker, or a globalOutbound gateway.
type Fetcher interface {
	Fetch(ctx context.Context, req *http.Request) (*http.Response, error)
}

// FetcherFunc adapts a function to Fetcher.
type FetcherFunc func(ctx context.Context, req *http.Request) (*http.Response, error)

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	return f(ctx, req)
}

// Target receives RPC calls. Arguments and the result are values as
// clone.Decode returns them; capabilities inside them are already resolved
// to Go values (Fetcher, Target, ...). A returned *warren.Error or
// *clone.JSError reaches JavaScript as a thrown error with its name and message.
type Target interface {
	Call(ctx context.Context, method string, args []any) (any, error)
}

// TargetFunc adapts a function to Target.
type TargetFunc func(ctx context.Context, method string, args []any) (any, error)

// Call calls f.
func (f TargetFunc) Call(ctx context.Context, method string, args []any) (any, error) {
	return f(ctx, method, args)
}

// Entrypoint is an entrypoint of a Worker: it takes fetches and RPC calls.
type Entrypoint interface {
	Fetcher
	Target
}

// Loader is a Worker Loader binding as seen from an isolate (env.LOADER).
type Loader interface {
	// Lookup returns the Worker cached under name, if its code is known.
	Lookup(name string) (WorkerStub, bool)
	// Load compiles code for a new Worker, cached under name when name is
	// not empty. The returned stub's entrypoints fail with the compile error
	// if the code is bad.
	Load(ctx context.Context, name string, code *LoadCode) (WorkerStub, error)
}

// WorkerStub is a loaded Dynamic Worker.
type WorkerStub interface {
	// Entrypoint returns the named entrypoint ("" is the default export).
	Entrypoint(name string, props any, limits warren.Limits) Entrypoint
	// ObjectInstance starts an Instance of the Worker's code hosting a
	// Durable Object (a facet): its class and storage are in spec.
	ObjectInstance(ctx context.Context, spec *ObjectSpec) (*Instance, error)
}

// LoadCode is what a loader's getCode callback returned: the code plus its
// environment and egress policy.
type LoadCode struct {
	Code   *warren.WorkerCode
	Env    map[string]any
	Limits warren.Limits
	// Outbound is the egress policy: nil inherits the loader's own.
	Outbound *Outbound
	// Namespaces are the Durable Object namespaces of the code's own
	// classes (ctx.exports.<Class>); set by the platform, never by code.
	Namespaces map[string]Namespace
}

// Outbound is an egress policy for fetch() and connect().
type Outbound struct {
	// Deny refuses every outbound request (globalOutbound: null).
	Deny bool
	// Via, when set, receives every outbound request instead of the network.
	Via Fetcher
	// Direct is the network client used when neither Deny nor Via is set.
	Direct Fetcher
}

// DenyAll is the policy of globalOutbound: null.
var DenyAll = &Outbound{Deny: true}

// LogEntry is one line of console output or one uncaught exception.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // log, info, warn, error, debug, exception
	Message string    `json:"message"`
	CodeID  string    `json:"codeId,omitempty"`
}

// LogSink receives an Instance's log entries (the loader's tails).
type LogSink func(LogEntry)
