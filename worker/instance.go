package worker

import (
	"fmt"
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
	caps       capTable
	interrupt  atomic.Int32 // why the turn was interrupted: interruptCPU or interruptWall
	allocFails uint64       // the engine's refused allocations when the turn started
	limit      turnLimit    // the CPU and wall-time watch over the running turn
	bootLogs   int          // console bytes written outside any invocation
	batch      bool         // a storage batch is open in this turn
	held       []heldResult // results held by the output gate

	cpuTotal atomic.Int64 // CPU nanoseconds spent in JavaScript turns (see runTurn)
	turn     turnClock    // the running turn's clock, for charges made before it ends
	buffered atomic.Int64 // bytes of subrequest responses held in Go (see readBuffered)
}

// NewInstance creates an isolate, runs the prelude and the Program's module
// code, and starts its loop. Module evaluation runs under the CPU limit.
func (rt *Runtime) NewInstance(prog *Program, cfg Config) (*Instance, error) {
	lim := cfg.Limits.Or(warren.DefaultLimits)
	in := &Instance{
		rt: rt, prog: prog, cfg: cfg, limits: lim, born: time.Now(),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{}),
		invs: map[int]*invocation{}, asyncOwner: map[int]*invocation{}, timers: map[int]*timer{},
	}
	w, err := rt.takeVM()
	if err != nil {
		return nil, err
	}
	handler := js.OpHandler(in.op)
	w.ops.target.Store(&handler)
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
	env, err := clone.Encode(in.cfg.Env, in.envCapRef)
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
