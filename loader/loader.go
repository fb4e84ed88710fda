// Package loader is the Worker Loader: it turns code into running Dynamic
// Workers on demand, with Cloudflare's semantics. Get(id, getCode) returns a
// stub at once and calls getCode only when the id is not cached; Load(code)
// always makes a fresh, uncached Worker. Cached Workers are kept in an LRU
// under a count and memory budget; an evicted or broken isolate is simply
// rebuilt from its compiled bytecode on the next request.
package loader

import (
	"container/list"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// Defaults for Options.
const (
	DefaultMaxWorkers   = 4096
	DefaultMemoryBudget = 1 << 30
)

// WorkerMemory is the memory one live Worker is estimated to hold, beyond
// its bytecode, for memory budgets: its isolate (engine heap with the
// prelude, Go-side state) and, for an app of the supervisor, its open
// SQLite database with its page cache. It is the one figure for both: the
// Loader's budget counts it (plus twice the bytecode) per cached Worker,
// the supervisor's in-process runner per live app. The figure is
// AppRSS1000 in docs/BENCHMARKS.md: 774 KiB of RSS per live app, 1,000
// apps each touched once. An isolate alone measured 425 to 587 KiB
// (BenchmarkIdleIsolateRSS; the Loader used 450 KiB before), so for
// Workers without a database the estimate errs toward evicting early.
const WorkerMemory = 768 << 10

// Options configure a Loader.
type Options struct {
	// MaxWorkers bounds the number of cached Workers.
	MaxWorkers int
	// MemoryBudget bounds the estimated memory of cached Workers' isolates.
	MemoryBudget int64
	// Limits apply to every Worker; a Worker's own limits can only lower them.
	Limits warren.Limits
	// Outbound is the egress policy of Workers that do not set their own;
	// nil denies all outbound requests.
	Outbound *worker.Outbound
	// Logs receives every Worker's console output and exceptions (tails).
	Logs worker.LogSink
}

// Loader loads and caches Dynamic Workers. It is safe for concurrent use.
type Loader struct {
	rt   *worker.Runtime
	opts Options

	mu      sync.Mutex
	entries map[string]*list.Element // id → *entry
	lru     *list.List
	memory  int64
	anon    atomic.Int64

	stats Stats
}

// Stats count the loader's work.
type Stats struct {
	Loads     atomic.Int64 // getCode callbacks run / Load calls
	Isolates  atomic.Int64 // isolates created
	Evictions atomic.Int64 // cached Workers evicted
}

// New returns a Loader running code on rt.
func New(rt *worker.Runtime, opts Options) *Loader {
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = DefaultMaxWorkers
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = DefaultMemoryBudget
	}
	return &Loader{rt: rt, opts: opts, entries: map[string]*list.Element{}, lru: list.New()}
}

// Stats returns the loader's counters.
func (l *Loader) Stats() *Stats { return &l.stats }

// Len returns the number of cached Workers.
func (l *Loader) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// GetCode produces the code for a Worker when the loader needs it.
type GetCode func(ctx context.Context) (*worker.LoadCode, error)

// Get returns the stub for the Worker cached under id. getCode runs only when
// the Worker is not cached (first use, or after eviction), when a request
// first needs it.
func (l *Loader) Get(id string, getCode GetCode) *Stub {
	return &Stub{l: l, id: id, getCode: getCode}
}

// Load returns a stub for a fresh Worker running code; it is not cached
// under any id and is dropped when the stub is no longer used (or evicted).
func (l *Loader) Load(code *worker.LoadCode) *Stub {
	id := fmt.Sprintf("\x00anon-%d", l.anon.Add(1))
	return &Stub{l: l, id: id, getCode: func(context.Context) (*worker.LoadCode, error) { return code, nil }, anon: true}
}

// Abort discards the cached Worker id (its isolate and code); the next
// request runs getCode again.
func (l *Loader) Abort(id string) {
	l.mu.Lock()
	el, ok := l.entries[id]
	if ok {
		l.removeLocked(el)
	}
	l.mu.Unlock()
}

// Close discards every cached Worker.
func (l *Loader) Close() {
	l.mu.Lock()
	for l.lru.Len() > 0 {
		l.removeLocked(l.lru.Back())
	}
	l.mu.Unlock()
}

type entry struct {
	id   string
	prog *worker.Program
	err  error // compile error: every request fails with it
	cfg  worker.Config
	size int64

	mu   sync.Mutex
	inst *worker.Instance
}

func (l *Loader) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	l.lru.Remove(el)
	delete(l.entries, e.id)
	l.memory -= e.size
	go func() {
		e.mu.Lock()
		if e.inst != nil {
			// Requests in flight finish; the isolate closes when idle.
			e.inst.Retire()
			e.inst = nil
		}
		e.mu.Unlock()
	}()
}

// lookup returns the cached entry for id.
func (l *Loader) lookup(id string) (*entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.entries[id]
	if !ok {
		return nil, false
	}
	l.lru.MoveToFront(el)
	return el.Value.(*entry), true
}

// entry returns the entry for id, creating it with getCode if needed.
func (l *Loader) entry(ctx context.Context, id string, getCode GetCode) (*entry, error) {
	if e, ok := l.lookup(id); ok {
		return e, nil
	}
	l.stats.Loads.Add(1)
	lc, err := getCode(ctx)
	if err != nil {
		return nil, err
	}
	return l.put(id, lc, nil), nil
}

func (l *Loader) put(id string, lc *worker.LoadCode, logs worker.LogSink) *entry {
	e := &entry{id: id}
	if lc == nil || lc.Code == nil {
		e.err = &warren.Error{Code: warren.CodeBadCode, Message: "the Worker Loader got no code"}
	} else {
		e.prog, e.err = l.rt.Compile(lc.Code)
	}
	out := l.opts.Outbound
	if lc != nil && lc.Outbound != nil {
		out = lc.Outbound
	}
	if logs == nil {
		logs = l.opts.Logs
	}
	e.cfg = worker.Config{CodeID: strings.TrimPrefix(id, "\x00"), Outbound: out, Logs: logs, Limits: l.opts.Limits.Or(warren.DefaultLimits)}
	if lc != nil {
		e.cfg.Env = lc.Env
		e.cfg.Namespaces = lc.Namespaces
		e.cfg.Limits = e.cfg.Limits.Min(lc.Limits)
	}
	e.cfg.Self = func(name string, props any) worker.Entrypoint {
		return &entryEntrypoint{l: l, e: e, name: name, opts: worker.Invoke{Props: props}}
	}
	if e.prog != nil {
		e.size = WorkerMemory + 2*int64(len(e.prog.Bytecode))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[id]; ok {
		// Someone else loaded it meanwhile; same id means same code.
		l.lru.MoveToFront(el)
		return el.Value.(*entry)
	}
	l.entries[id] = l.lru.PushFront(e)
	l.memory += e.size
	for l.lru.Len() > 1 && (l.lru.Len() > l.opts.MaxWorkers || l.memory > l.opts.MemoryBudget) {
		l.removeLocked(l.lru.Back())
		l.stats.Evictions.Add(1)
	}
	return e
}

// instance returns the entry's live isolate, creating it when needed.
func (l *Loader) instance(e *entry) (*worker.Instance, error) {
	if e.err != nil {
		return nil, e.err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inst != nil && e.inst.Broken() == nil {
		return e.inst, nil
	}
	if e.inst != nil {
		go e.inst.Close()
		e.inst = nil
	}
	inst, err := l.rt.NewInstance(e.prog, e.cfg)
	if err != nil {
		return nil, err
	}
	l.stats.Isolates.Add(1)
	e.inst = inst
	return inst, nil
}

// Stub is a loaded (or loading) Dynamic Worker; it implements
// worker.WorkerStub.
type Stub struct {
	l       *Loader
	id      string
	getCode GetCode
	anon    bool
	logs    worker.LogSink

	mu sync.Mutex
	e  *entry // for anonymous Workers, pinned to the stub
}

var _ worker.WorkerStub = (*Stub)(nil)

// ID returns the id the Worker is cached under ("" for Load).
func (s *Stub) ID() string {
	if s.anon {
		return ""
	}
	return s.id
}

func (s *Stub) instance(ctx context.Context) (*worker.Instance, error) {
	var e *entry
	if s.anon {
		s.mu.Lock()
		if s.e == nil {
			lc, err := s.getCode(ctx)
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			s.l.stats.Loads.Add(1)
			s.e = s.l.put(s.id, lc, s.logs)
		}
		e = s.e
		s.mu.Unlock()
	} else {
		var err error
		e, err = s.l.entry(ctx, s.id, s.getCode)
		if err != nil {
			return nil, err
		}
	}
	return s.l.instance(e)
}

// Entrypoint returns the named entrypoint ("" or "default" for the default
// export) with props as its ctx.props and limits lowering the Worker's.
func (s *Stub) Entrypoint(name string, props any, limits warren.Limits) worker.Entrypoint {
	if name == "default" {
		name = ""
	}
	return &Entrypoint{s: s, name: name, opts: worker.Invoke{Props: props, Limits: limits}}
}

// Fetch sends req to the default entrypoint.
func (s *Stub) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	return s.Entrypoint("", nil, warren.Limits{}).Fetch(ctx, req)
}

// Entrypoint is one entrypoint of a loaded Worker.
type Entrypoint struct {
	s    *Stub
	name string
	opts worker.Invoke
}

// Fetch delivers an HTTP request. An isolate retired (evicted) between
// lookup and delivery is replaced once.
func (ep *Entrypoint) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	for try := 0; ; try++ {
		inst, err := ep.s.instance(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := inst.Fetch(ctx, ep.name, ep.opts, req)
		if err == worker.ErrClosed && try == 0 {
			continue
		}
		return resp, err
	}
}

// Call invokes an RPC method, like Fetch replacing a retired isolate once.
func (ep *Entrypoint) Call(ctx context.Context, method string, args []any) (any, error) {
	for try := 0; ; try++ {
		inst, err := ep.s.instance(ctx)
		if err != nil {
			return nil, err
		}
		r, err := inst.Call(ctx, ep.name, ep.opts, method, args)
		if err == worker.ErrClosed && try == 0 {
			continue
		}
		return r, err
	}
}

// Binding returns the loader as a binding for a Worker's env (env.LOADER).
// Workers it loads inherit outbound as their egress policy unless their code
// sets globalOutbound.
func (l *Loader) Binding(outbound *worker.Outbound) worker.Loader {
	return &binding{l: l, outbound: outbound}
}

type binding struct {
	l        *Loader
	outbound *worker.Outbound
	stubs    sync.Map // name → *Stub
	count    atomic.Int64
}

func (b *binding) Lookup(name string) (worker.WorkerStub, bool) {
	if _, ok := b.l.lookup(name); !ok {
		return nil, false
	}
	if st, ok := b.stubs.Load(name); ok {
		return st.(*Stub), true
	}
	st := &Stub{l: b.l, id: name, getCode: func(context.Context) (*worker.LoadCode, error) {
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the Worker was evicted from the cache", Hint: "retry: LOADER.get will run its callback again"}
	}}
	if b.count.Add(1) <= maxBindingStubs {
		b.stubs.Store(name, st)
	}
	return st, true
}

// maxBindingStubs bounds the stubs a binding remembers (so that isolates
// reuse capability ids for Workers they look up again).
const maxBindingStubs = 4096

func (b *binding) Load(ctx context.Context, name string, code *worker.LoadCode) (worker.WorkerStub, error) {
	if code.Outbound == nil {
		code.Outbound = b.outbound
	}
	if name == "" {
		s := b.l.Load(code)
		if _, err := s.instance(ctx); err != nil && warren.ErrorCode(err) == warren.CodeBadCode {
			return nil, err
		}
		return s, nil
	}
	e := b.l.put(name, code, nil)
	if e.err != nil {
		b.l.Abort(name)
		return nil, e.err
	}
	return &Stub{l: b.l, id: name, getCode: func(context.Context) (*worker.LoadCode, error) { return code, nil }}, nil
}

// LoadWithLogs is Load with a log sink of its own for this Worker (used for
// one-shot runs whose logs go back to the caller).
func (l *Loader) LoadWithLogs(code *worker.LoadCode, logs worker.LogSink) *Stub {
	s := l.Load(code)
	s.logs = logs
	return s
}

// Discard drops the Worker of a Load stub now instead of waiting for eviction.
func (s *Stub) Discard() {
	if !s.anon {
		return
	}
	s.l.Abort(s.id)
}

// entryEntrypoint routes ctx.exports calls of a loaded Worker to its current
// isolate.
type entryEntrypoint struct {
	l    *Loader
	e    *entry
	name string
	opts worker.Invoke
}

func (x *entryEntrypoint) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	inst, err := x.l.instance(x.e)
	if err != nil {
		return nil, err
	}
	return inst.Fetch(ctx, x.name, x.opts, req)
}

func (x *entryEntrypoint) Call(ctx context.Context, method string, args []any) (any, error) {
	inst, err := x.l.instance(x.e)
	if err != nil {
		return nil, err
	}
	return inst.Call(ctx, x.name, x.opts, method, args)
}

// ObjectInstance starts an Instance of the Worker's code that hosts a
// Durable Object (a facet), with the Worker's env, limits and egress.
func (s *Stub) ObjectInstance(ctx context.Context, spec *worker.ObjectSpec) (*worker.Instance, error) {
	var e *entry
	if s.anon {
		if _, err := s.instance(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		e = s.e
		s.mu.Unlock()
	} else {
		var err error
		if e, err = s.l.entry(ctx, s.id, s.getCode); err != nil {
			return nil, err
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	cfg := e.cfg
	cfg.Object = spec
	return s.l.rt.NewInstance(e.prog, cfg)
}
