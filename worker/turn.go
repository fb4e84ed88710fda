package worker

// A turn is one task on the loop plus the microtasks it queues, run under
// the CPU budget of the live invocations and the wall-time backstop.

import (
	"context"
	"sync"
	"time"

	"github.com/warrenhq/warren"
)

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
	in.turn = turnClock{clock: clock, start: start, running: true}
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
	if rest := el - in.turn.charged; owner != nil && owner.usage != nil && rest > 0 {
		owner.usage.cpu.Add(int64(rest)) // the rest of the turn
	}
	in.turn = turnClock{}
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

// turnClock is the running turn's CPU clock. CPU is charged to the
// invocation that owns the turn when the turn ends; an invocation whose
// result or body end is delivered during the turn is charged up to then
// first (chargeSoFar), so that a caller reading its Usage as soon as it has
// the answer never reads less than the work that produced it.
type turnClock struct {
	clock   threadClock
	start   time.Time
	charged time.Duration // the part of the turn already charged
	running bool
}

// chargeSoFar charges inv the CPU the running turn has used since the last
// charge. Call it on the loop goroutine before delivering inv's result.
func (in *Instance) chargeSoFar(inv *invocation) {
	t := &in.turn
	if !t.running || inv.usage == nil {
		return
	}
	used, ok := t.clock.used()
	if !ok {
		used = time.Since(t.start)
	}
	if d := used - t.charged; d > 0 {
		inv.usage.cpu.Add(int64(d))
		t.charged = used
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
