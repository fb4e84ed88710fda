package worker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/js"
)

// Config is what an Instance runs with besides its Program.
type Config struct {
	// CodeID names the code in logs (a loader id, an app id).
	CodeID string
	// Env is the Worker's env: plain values and capabilities (Fetcher,
	// Target, Entrypoint, Loader).
	Env map[string]any
	// Limits for each invocation; zero fields take warren.DefaultLimits.
	Limits warren.Limits
	// Outbound is the egress policy; nil denies all outbound requests.
	Outbound *Outbound
	// Logs receives console output and uncaught exceptions.
	Logs LogSink
	// Namespaces are the Durable Object namespaces of the Worker's own
	// classes, by class name: ctx.exports.<Class> in JavaScript.
	Namespaces map[string]Namespace
	// Object, when set, makes the Instance host a Durable Object.
	Object *ObjectSpec
	// Self, when set, gives the entrypoints behind ctx.exports: the owner
	// routes them to whichever isolate serves this Worker then. When nil,
	// they go to this Instance.
	Self func(entrypoint string, props any) Entrypoint
}

// Instance is one isolate running a Program, with its own event loop.
//
// All JavaScript runs on the Instance's loop goroutine. Fetch and Call post
// an invocation to the loop and wait for its result; host operations that
// wait on I/O (outbound fetch, RPC to other Workers) run on their own
// goroutines and post their results back to the loop. An invocation that
// exceeds a CPU or memory limit breaks the isolate: every invocation in it
// fails with the limit's error and the Instance reports Broken; its owner
// (the loader) replaces it with a fresh one from the same Program.
type Instance struct {
	rt     *Runtime
	prog   *Program
	cfg    Config
	limits warren.Limits
	born   time.Time

	vm       js.VM
	dispatch js.Func

	mu        sync.Mutex
	closeOnce sync.Once
	queue     []task
	wake      chan struct{}
	closed    bool
	broken    atomic.Pointer[warren.Error]
	// retiring asks the loop to exit once no invocation is in flight.
	retiring atomic.Bool
	stop     chan struct{}
	exited   chan struct{}

	// Owned by the loop goroutine.
	nextID     int
	invs       map[int]*invocation
	current    *invocation
	asyncOwner map[int]*invocation
	timers     map[int]*timer // pending, by id
	timerQ     timerHeap
	timerSeq   uint64
	timerWake  *time.Timer
	timerArmed time.Time
	caps       map[int]any
	capIDs     map[any]int  // ids of comparable capabilities, to reuse them
	interrupt  atomic.Int32 // why the turn was interrupted: interruptCPU or interruptWall
	allocFails uint64       // the engine's refused allocations when the turn started
	limit      turnLimit    // the CPU and wall-time watch over the running turn
	bootLogs   int          // console bytes written outside any invocation
	batch      bool         // a storage batch is open in this turn
	held       []heldResult // results held by the output gate

	cpuTotal atomic.Int64 // CPU nanoseconds spent in JavaScript turns (see runTurn)
}

type invocation struct {
	id      int
	ctx     context.Context
	cancel  context.CancelFunc
	kind    string // "fetch" or "call"
	cpuLeft time.Duration
	subreqs int
	// answered is set once the invocation sent its response or RPC result.
	answered bool
	// limitErr is the limit a host operation refused with; when the
	// exception it threw escapes, the invocation fails with this error.
	limitErr *warren.Error
	// Per-invocation limits (the instance's, lowered by Invoke.Limits).
	cpuLimit  time.Duration
	wallLimit time.Duration
	subLimit  int
	wall      *time.Timer
	result    chan invResult
	settled   bool // result delivered
	done      bool // all work finished
	stream    *bodyStream
	logs      int
	usage     *Usage // charged with CPU and subrequests, when the caller asked
}

type invResult struct {
	resp  *http.Response
	value any
	err   error
}

// NewInstance creates an isolate, runs the prelude and the Program's module
// code, and starts its loop. Module evaluation runs under the CPU limit.
func (rt *Runtime) NewInstance(prog *Program, cfg Config) (*Instance, error) {
	lim := cfg.Limits.Or(warren.DefaultLimits)
	in := &Instance{
		rt: rt, prog: prog, cfg: cfg, limits: lim, born: time.Now(),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{}),
		invs: map[int]*invocation{}, asyncOwner: map[int]*invocation{}, timers: map[int]*timer{}, caps: map[int]any{},
	}
	w, err := rt.takeVM()
	if err != nil {
		return nil, err
	}
	host := js.HostFunc(in.host)
	w.host.target.Store(&host)
	w.vm.SetLimits(lim.MemoryBytes, lim.StackDepth)
	in.vm, in.dispatch = w.vm, w.dispatch
	if err := in.boot(w.loaded); err != nil {
		w.vm.Close()
		return nil, err
	}
	go in.loop()
	return in, nil
}

// boot runs, in a VM that ran the core prelude, the Web API families the
// Program needs, its env and its module code.
func (in *Instance) boot(loaded map[int]bool) error {
	for _, i := range in.prog.families {
		if loaded[i] {
			continue
		}
		f := in.rt.families[i]
		if err := in.vm.Run(f.bytecode); err != nil {
			return fmt.Errorf("load Web API family %s: %w", f.Name, err)
		}
	}
	env, err := clone.Encode(in.cfg.Env, in.capID)
	if err != nil {
		return &warren.Error{Code: warren.CodeBadRequest, Message: "env cannot be passed to the Worker: " + err.Error()}
	}
	var failure error
	where := "while evaluating the Worker's top-level code"
	in.runTurn(in.limits.CPU, func() {
		if _, err := in.dispatch.Call("init", env); err != nil {
			failure = err
			return
		}
		if err := in.vm.Run(in.prog.Bytecode); err != nil {
			failure = err
			return
		}
		if _, err := in.dispatch.Call("start"); err != nil {
			failure = err
			return
		}
		if o := in.cfg.Object; o != nil {
			where = fmt.Sprintf("in the constructor of Durable Object class %s", o.Class)
			if _, err := in.dispatch.Call("object", o.Class, o.ID, o.Name); err != nil {
				failure = err
			}
		}
	})
	if b := in.broken.Load(); b != nil {
		return b
	}
	if failure != nil {
		return in.exceptionError(failure, where)
	}
	return nil
}

// Program returns the Program the Instance runs.
func (in *Instance) Program() *Program { return in.prog }

// Broken returns the error that broke the isolate, or nil while it is usable.
func (in *Instance) Broken() error {
	if b := in.broken.Load(); b != nil {
		return b
	}
	return nil
}

// Close stops the loop and frees the isolate. In-flight invocations fail.
func (in *Instance) Close() {
	in.closeOnce.Do(func() {
		in.mu.Lock()
		in.closed = true
		in.mu.Unlock()
		close(in.stop)
	})
	<-in.exited
}

// task is work for the loop; inv, when set, is an invocation that the task
// starts, registered before the turn so that its limits bound the turn.
type task struct {
	f   func()
	inv *invocation
}

func (in *Instance) post(f func()) bool { return in.postTask(task{f: f}) }

func (in *Instance) postTask(t task) bool {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return false
	}
	in.queue = append(in.queue, t)
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default:
	}
	return true
}

// Retire closes the Instance once it has no invocation in flight (at once
// if it is idle). Owners use it to evict an isolate without failing the
// requests it is serving.
func (in *Instance) Retire() {
	in.retiring.Store(true)
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

func (in *Instance) loop() {
	defer close(in.exited)
	defer in.shutdown()
	for {
		if in.retiring.Load() && len(in.invs) == 0 {
			in.mu.Lock()
			idle := len(in.queue) == 0
			if idle {
				in.closed = true // refuse new work from now on
			}
			in.mu.Unlock()
			if idle {
				return
			}
		}
		select {
		case <-in.stop:
			return
		case <-in.wake:
		}
		for {
			in.mu.Lock()
			q := in.queue
			in.queue = nil
			in.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, t := range q {
				if in.broken.Load() != nil {
					t.f() // tasks check brokenness themselves and fail fast
					continue
				}
				if t.inv != nil {
					in.start(t.inv)
				}
				in.runTurn(in.turnBudget(), t.f)
			}
		}
	}
}

func (in *Instance) shutdown() {
	err := &warren.Error{Code: warren.CodeUnavailable, Message: "the isolate was shut down while the request was in flight", Hint: "retry the request"}
	if b := in.broken.Load(); b != nil {
		err = b
	}
	in.mu.Lock()
	in.closed = true
	q := in.queue
	in.queue = nil
	in.mu.Unlock()
	for _, t := range q {
		// Invocations that were posted but never started.
		if t.inv != nil && !t.inv.settled {
			t.inv.settled = true
			t.inv.result <- invResult{err: err}
			t.inv.cancel()
		}
	}
	for _, inv := range in.invs {
		in.finish(inv, invResult{err: err})
	}
	if in.timerWake != nil {
		in.timerWake.Stop()
	}
	in.limit.stop()
	in.timers, in.timerQ = map[int]*timer{}, nil
	if in.vm != nil {
		in.vm.Close()
	}
}

// turnBudget is the CPU time the next turn may use: the least any active
// invocation has left.
func (in *Instance) turnBudget() time.Duration {
	b := in.limits.CPU
	for _, inv := range in.invs {
		if !inv.done && inv.cpuLeft < b {
			b = inv.cpuLeft
		}
	}
	if b < time.Millisecond {
		b = time.Millisecond
	}
	return b
}

// cpuLimitNow is the CPU limit that bounded the last turn: the smallest of
// the live invocations' limits, or the instance's.
func (in *Instance) cpuLimitNow() time.Duration {
	l := in.limits.CPU
	for _, inv := range in.invs {
		if inv.cpuLimit > 0 && inv.cpuLimit < l {
			l = inv.cpuLimit
		}
	}
	return l
}

// wallLimitNow is the wall-time limit of the running turn: the smallest of
// the live invocations' limits, or the instance's.
func (in *Instance) wallLimitNow() time.Duration {
	l := in.limits.Wall
	for _, inv := range in.invs {
		if !inv.done && inv.wallLimit > 0 && inv.wallLimit < l {
			l = inv.wallLimit
		}
	}
	return l
}

// Reasons for an interrupt (Instance.interrupt).
const (
	interruptCPU  = 1 // the turn used its CPU budget
	interruptWall = 2 // the turn ran for its wall-time limit without using it
)

// interruptError is the limit error for the interrupt of the last turn.
func (in *Instance) interruptError() *warren.Error {
	if in.interrupt.Load() == interruptWall {
		return warren.LimitError("wall time", in.wallLimitNow(), "the code ran JavaScript for longer than the wall-time limit without returning to the event loop (the machine may be overloaded); make it do less work per request, or raise the wall-time limit")
	}
	return warren.LimitError("CPU time", in.cpuLimitNow(),
		"the code ran too long without yielding (a busy loop, a catastrophic regular expression, or a flood of microtasks); make it do less work per request, or raise the cpuMs limit")
}

// runTurn runs f and then drains microtasks, interrupting JavaScript when it
// runs past budget.
//
// CPU time is the CPU time of the OS thread that runs the turn (Linux: the
// goroutine is locked to its thread for the turn, see threadClock), so a turn
// that waits (in a blocking host call, or descheduled on a loaded machine) is
// neither charged nor stopped for the wait. The limit timer reads that
// thread's CPU clock when it fires and interrupts only once the turn used
// its budget; otherwise it waits for the rest. A turn is still interrupted
// once it has run for the wall-time limit (the smallest of the live
// invocations'), so that a starved thread cannot hold its requests forever.
// Elsewhere, CPU time is the turn's wall time, as before.
func (in *Instance) runTurn(budget time.Duration, f func()) {
	in.interrupt.Store(0)
	in.allocFails, _ = in.allocFailures()
	clock := startThreadClock()
	start := time.Now()
	in.limit.arm(in, clock, start, budget, in.wallLimitNow())
	owner := in.current
	f()
	if in.current != nil {
		owner = in.current
	}
	jobErr := in.vm.RunJobs()
	in.limit.disarm()
	in.commitTurn()
	el, ok := clock.stop()
	if !ok {
		el = time.Since(start)
	}
	in.cpuTotal.Add(int64(el))
	if cur := in.current; cur != nil {
		owner = cur
	}
	if owner != nil && owner.usage != nil {
		owner.usage.cpu.Add(int64(el))
	}
	for _, inv := range in.invs {
		if !inv.done {
			inv.cpuLeft -= el
		}
	}
	if in.interrupt.Load() != 0 {
		in.breakWith(in.interruptError())
		return
	}
	if jobErr != nil {
		if le := in.limitFromException(jobErr); le != nil {
			in.breakWith(le)
			return
		}
		in.log("exception", "unhandled error in a promise job: "+jobErr.Error())
	}
}

// turnLimit watches the running turn: one timer per Instance, armed for each
// turn and re-armed while the turn has CPU budget left.
type turnLimit struct {
	mu      sync.Mutex
	t       *time.Timer
	in      *Instance
	active  bool               // a turn is running and has not been stopped
	fired   bool               // the running turn was stopped
	stmt    context.CancelFunc // cancels the SQL statement running in the turn
	clock   threadClock
	start   time.Time
	budget  time.Duration
	wallMax time.Duration
}

// minRearm bounds how often the timer fires for one turn.
const minRearm = 100 * time.Microsecond

func (l *turnLimit) arm(in *Instance, clock threadClock, start time.Time, budget, wallMax time.Duration) {
	l.mu.Lock()
	// The wall-time backstop is never earlier than the CPU budget, which is
	// where the limit was when turns were timed by the wall clock.
	l.in, l.clock, l.start, l.budget, l.wallMax, l.active, l.fired = in, clock, start, budget, max(wallMax, budget), true, false
	if l.t == nil {
		l.t = time.AfterFunc(budget, l.check)
	} else {
		l.t.Reset(budget)
	}
	l.mu.Unlock()
}

func (l *turnLimit) disarm() {
	l.mu.Lock()
	l.active, l.fired, l.stmt = false, false, nil
	l.t.Stop()
	l.mu.Unlock()
}

// stop releases the timer for good.
func (l *turnLimit) stop() {
	l.mu.Lock()
	l.active = false
	if l.t != nil {
		l.t.Stop()
	}
	l.mu.Unlock()
}

// check runs on the timer's goroutine: it interrupts the turn once it used
// its CPU budget or ran for wallMax, and otherwise re-arms itself for the
// earliest time either can happen (a thread uses at most one second of CPU
// per second).
func (l *turnLimit) check() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.active {
		return // the turn ended (a late firing)
	}
	wall := time.Since(l.start)
	used, ok := l.clock.used()
	if !ok {
		used = wall // no CPU clock: wall time, as on other systems
	}
	var reason int32
	switch {
	case used >= l.budget:
		reason = interruptCPU
	case wall >= l.wallMax:
		reason = interruptWall
	default:
		l.t.Reset(max(min(l.budget-used, l.wallMax-wall), minRearm))
		return
	}
	l.active, l.fired = false, true
	l.in.interrupt.Store(reason)
	l.in.vm.Interrupt()
	if l.stmt != nil {
		l.stmt()
	}
}

// statementContext is the context of a SQL statement run by the turn: it is
// cancelled when the turn is stopped (its CPU budget used, or its wall-time
// backstop), so a statement is bounded by the turn's CPU as JavaScript is.
// Outside a turn, it times out after a turn's budget of wall time.
func (in *Instance) statementContext() (context.Context, context.CancelFunc) {
	l := &in.limit
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.active && !l.fired {
		return context.WithTimeout(context.Background(), in.turnBudget())
	}
	ctx, cancel := context.WithCancel(context.Background())
	if l.fired {
		cancel()
		return ctx, cancel
	}
	l.stmt = cancel
	return ctx, func() {
		l.mu.Lock()
		l.stmt = nil
		l.mu.Unlock()
		cancel()
	}
}

// breakWith marks the isolate unusable and fails every invocation in it.
func (in *Instance) breakWith(e *warren.Error) {
	if !in.broken.CompareAndSwap(nil, e) {
		return
	}
	in.log("error", "isolate discarded: "+e.Error())
	for _, inv := range in.invs {
		in.finish(inv, invResult{err: e})
	}
}

// limitFromException maps engine exceptions that mean a limit was hit.
func (in *Instance) limitFromException(err error) *warren.Error {
	var je *js.Error
	msg := err.Error()
	if errors.As(err, &je) {
		msg = je.Name + ": " + je.Message
	}
	switch {
	case in.interrupt.Load() != 0 || strings.Contains(msg, "interrupted"):
		return in.interruptError()
	case strings.Contains(msg, "out of memory") || strings.Contains(msg, "string too long") || strings.Contains(msg, "OOM"):
		return in.memoryError()
	case msg == "Error: Uncaught null" || msg == "Uncaught null" || msg == "InternalError: (the error's message could not be read)":
		// QuickJS throws null when it cannot even allocate the exception, and
		// an out-of-memory InternalError's message cannot be read back; but
		// an app may throw null, or an error whose message getter throws. It
		// is the memory limit only if the engine refused an allocation in
		// this turn (or, where allocations are not counted, always: a
		// discarded isolate is safe).
		if in.outOfMemory() {
			return in.memoryError()
		}
	}
	return nil
}

func (in *Instance) memoryError() *warren.Error {
	return warren.LimitError("memory", fmt.Sprintf("%d MiB", in.limits.MemoryBytes>>20), "the isolate ran out of memory; keep less data in memory (stream large bodies, page through results), or raise the memory limit")
}

// allocCounter is implemented by VMs that count the allocations their
// engine refused (js/quickjs).
type allocCounter interface {
	AllocFailures() (n uint64, ok bool)
}

// allocFailures returns the VM's count of refused allocations (ok false if
// it has none).
func (in *Instance) allocFailures() (uint64, bool) {
	if c, ok := in.vm.(allocCounter); ok {
		return c.AllocFailures()
	}
	return 0, false
}

// outOfMemory reports whether the engine refused an allocation since the
// start of the running turn, or true when it cannot tell. Call it on the
// loop goroutine (or before the loop starts).
func (in *Instance) outOfMemory() bool {
	n, ok := in.allocFailures()
	return !ok || n != in.allocFails
}

// firstAppFrame returns the first position in stack that is in the app's
// code, not the runtime's.
func firstAppFrame(stack string) string {
	for _, line := range strings.Split(stack, "\n") {
		if i := strings.LastIndex(line, "("); i >= 0 && !strings.Contains(line, "warren:runtime") && !strings.Contains(line, "(native)") {
			return strings.TrimSuffix(line[i+1:], ")")
		}
	}
	return ""
}

// exceptionError turns a JavaScript exception into a *warren.Error.
func (in *Instance) exceptionError(err error, where string) *warren.Error {
	if le := in.limitFromException(err); le != nil {
		return le
	}
	var je *js.Error
	if errors.As(err, &je) {
		e := &warren.Error{Code: warren.CodeException, Name: je.Name, Message: strings.TrimSpace(fmt.Sprintf("uncaught %s: %s %s", je.Name, je.Message, where)), Stack: in.prog.MapStack(je.Stack)}
		if je.Name == "InternalError" && strings.Contains(je.Message, "stack overflow") {
			var depth any = in.limits.StackDepth
			if in.limits.StackDepth == 0 {
				depth = "engine default"
			}
			e = warren.LimitError("stack depth", depth, "the code recursed too deeply; make the recursion iterative or bound its depth")
			e.Stack = je.Stack
		}
		if je.Line > 0 {
			e.Message += " (at " + in.prog.MapStack(fmt.Sprintf("<eval>:%d:%d", je.Line, je.Column)) + ")"
		}
		if at := firstAppFrame(e.Stack); at != "" && !strings.Contains(e.Message, " (at ") {
			e.Message += " (at " + at + ")"
		}
		return e
	}
	var we *warren.Error
	if errors.As(err, &we) {
		return we
	}
	return &warren.Error{Code: warren.CodeInternal, Message: err.Error()}
}

func (in *Instance) log(level, msg string) {
	if in.cfg.Logs == nil {
		return
	}
	// Output is counted per invocation; output outside one (module top
	// level, timers of finished requests) counts against the isolate.
	counter := &in.bootLogs
	if inv := in.current; inv != nil {
		counter = &inv.logs
	}
	*counter += len(msg)
	if *counter > in.limits.LogBytes {
		if *counter-len(msg) <= in.limits.LogBytes {
			in.cfg.Logs(LogEntry{Time: time.Now(), Level: "warn", Message: fmt.Sprintf("log limit of %d bytes reached; further console output is dropped", in.limits.LogBytes), CodeID: in.cfg.CodeID})
		}
		return
	}
	if level == "exception" || level == "error" {
		msg = in.prog.MapStack(msg)
	}
	in.cfg.Logs(LogEntry{Time: time.Now(), Level: level, Message: msg, CodeID: in.cfg.CodeID})
}

// ---- invocations ----

// ErrClosed is returned by Fetch and Call on an Instance that was closed or
// retired; the owner should get a fresh Instance and retry.
var ErrClosed = &warren.Error{Code: warren.CodeUnavailable, Message: "the isolate is closed", Hint: "retry the request"}

// Invoke holds per-invocation options.
type Invoke struct {
	// Props is what the entrypoint sees as ctx.props.
	Props any
	// Limits lower the instance's CPU, wall-time and subrequest limits for
	// this invocation (other fields are ignored).
	Limits warren.Limits
}

func (in *Instance) begin(ctx context.Context, kind string, opts Invoke) (*invocation, error) {
	if b := in.broken.Load(); b != nil {
		return nil, b
	}
	lim := in.limits.Min(opts.Limits)
	cctx, cancel := context.WithCancel(ctx)
	inv := &invocation{ctx: cctx, cancel: cancel, kind: kind, cpuLeft: lim.CPU, cpuLimit: lim.CPU, wallLimit: lim.Wall, subLimit: lim.Subrequests, result: make(chan invResult, 1), usage: usageFrom(ctx)}
	return inv, nil
}

// start registers inv on the loop and arms its wall-time limit.
func (in *Instance) start(inv *invocation) {
	in.nextID++
	inv.id = in.nextID
	in.invs[inv.id] = inv
	in.current = inv
	inv.wall = time.AfterFunc(inv.wallLimit, func() {
		in.post(func() {
			in.finish(inv, invResult{err: warren.LimitError("wall time", inv.wallLimit, "the request waited too long (on a fetch, a timer, or a promise that never settles); make sure every promise settles, or raise the wall-time limit")})
		})
	})
}

// finish delivers a result (once) and, when the invocation has no more work,
// releases its resources.
func (in *Instance) finish(inv *invocation, r invResult) {
	if r.err == nil && inv.kind == "fetch" && r.resp == nil {
		r.err = &warren.Error{Code: warren.CodeException, Message: "the Worker finished without a response"}
	}
	if !inv.settled {
		inv.settled = true
		inv.result <- r
	} else if r.err != nil && inv.stream != nil {
		inv.stream.finish(r.err)
	}
	if r.err != nil || inv.done {
		in.complete(inv)
	}
}

func (in *Instance) complete(inv *invocation) {
	inv.done = true
	if inv.stream != nil {
		inv.stream.finish(nil)
	}
	if inv.wall != nil {
		inv.wall.Stop()
	}
	inv.cancel()
	delete(in.invs, inv.id)
	for id, t := range in.timers {
		if t.owner == inv {
			in.clearTimer(id)
		}
	}
	if in.current == inv {
		in.current = nil
	}
}

// Fetch delivers an HTTP request to entrypoint (""/"default" for the
// default export) with props as ctx.props. The response body may still be
// streaming when Fetch returns; close it when done.
func (in *Instance) Fetch(ctx context.Context, entrypoint string, opts Invoke, req *http.Request) (*http.Response, error) {
	in.mu.Lock()
	closed := in.closed
	in.mu.Unlock()
	if closed {
		return nil, ErrClosed // before the body is read, so the caller can retry
	}
	args, err := fetchArgs(req, in.limits.RequestBodyBytes)
	if err != nil {
		return nil, err
	}
	propsText, err := clone.Encode(opts.Props, nil)
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "props cannot be cloned: " + err.Error()}
	}
	inv, err := in.begin(ctx, "fetch", opts)
	if err != nil {
		return nil, err
	}
	if !in.postTask(task{inv: inv, f: func() {
		if b := in.broken.Load(); b != nil {
			in.finish(inv, invResult{err: b})
			return
		}
		if _, err := in.dispatch.Call("fetch", inv.id, entrypoint, propsText, args.method, args.url, args.headers, args.body, args.bodyKind); err != nil {
			in.finish(inv, invResult{err: in.exceptionError(err, "")})
		}
	}}) {
		if args.bodyKind == 0 || args.body == "" {
			return nil, ErrClosed // no body was consumed: the caller can retry
		}
		// The body is gone: this one cannot be retried transparently.
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the isolate closed while the request was being delivered", Hint: "retry the request"}
	}
	return in.wait(ctx, inv)
}

// Call invokes an RPC method on entrypoint with args (values as clone.Decode
// returns them).
func (in *Instance) Call(ctx context.Context, entrypoint string, opts Invoke, method string, args []any) (any, error) {
	propsText, err := clone.Encode(opts.Props, nil)
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "props cannot be cloned: " + err.Error()}
	}
	inv, err := in.begin(ctx, "call", opts)
	if err != nil {
		return nil, err
	}
	if !in.postTask(task{inv: inv, f: func() {
		if b := in.broken.Load(); b != nil {
			in.finish(inv, invResult{err: b})
			return
		}
		argsText, err := clone.Encode(args, in.capID)
		if err != nil {
			in.finish(inv, invResult{err: &warren.Error{Code: warren.CodeBadRequest, Message: "arguments cannot be cloned: " + err.Error()}})
			return
		}
		if _, err := in.dispatch.Call("call", inv.id, entrypoint, propsText, method, argsText); err != nil {
			in.finish(inv, invResult{err: in.exceptionError(err, "")})
		}
	}}) {
		return nil, ErrClosed
	}
	r, err := in.waitValue(ctx, inv)
	return r, err
}

func (in *Instance) wait(ctx context.Context, inv *invocation) (*http.Response, error) {
	select {
	case r := <-inv.result:
		return r.resp, r.err
	case <-ctx.Done():
		in.post(func() { in.finish(inv, invResult{err: ctx.Err()}) })
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the request was cancelled: " + ctx.Err().Error()}
	}
}

func (in *Instance) waitValue(ctx context.Context, inv *invocation) (any, error) {
	select {
	case r := <-inv.result:
		return r.value, r.err
	case <-ctx.Done():
		in.post(func() { in.finish(inv, invResult{err: ctx.Err()}) })
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the call was cancelled: " + ctx.Err().Error()}
	}
}

// ---- wire formats ----

type wireRequest struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
	Body    *string     `json:"body"`           // base64
	Text    *string     `json:"text,omitempty"` // the body, when it is UTF-8 text (Go to JS only)
}

type wireResponse struct {
	Status     int         `json:"status"`
	StatusText string      `json:"statusText,omitempty"`
	Headers    [][2]string `json:"headers"`
	Body       *string     `json:"body,omitempty"`
	URL        string      `json:"url,omitempty"`
	Redirected bool        `json:"redirected,omitempty"`
}

func wireToRequest(ctx context.Context, text string) (*http.Request, error) {
	var w wireRequest
	if err := json.Unmarshal([]byte(text), &w); err != nil {
		return nil, fmt.Errorf("bad request from the Worker: %w", err)
	}
	var body io.Reader
	if w.Body != nil {
		b, err := base64.StdEncoding.DecodeString(*w.Body)
		if err != nil {
			return nil, err
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, w.Method, w.URL, body)
	if err != nil {
		return nil, fmt.Errorf("bad request from the Worker: %w", err)
	}
	for _, h := range w.Headers {
		req.Header.Add(h[0], h[1])
	}
	return req, nil
}

func responseToWire(resp *http.Response, maxBody int64, url string) (string, error) {
	if resp == nil {
		return "", errors.New("no response")
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return "", fmt.Errorf("reading the response body: %w", err)
	}
	if int64(len(b)) > maxBody {
		return "", &warren.Error{Code: warren.CodeTooLarge, Limit: "response body", Message: fmt.Sprintf("the response body is larger than the limit of %d bytes", maxBody), Hint: "fetch less data (use Range requests or paging), or raise the responseBodyBytes limit"}
	}
	w := wireResponse{Status: resp.StatusCode, URL: url}
	if len(resp.Status) > 4 {
		w.StatusText = resp.Status[4:]
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Headers = append(w.Headers, [2]string{k, v})
		}
	}
	s := base64.StdEncoding.EncodeToString(b)
	w.Body = &s
	out, err := json.Marshal(w)
	return string(out), err
}
