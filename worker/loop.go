package worker

// The event loop: all JavaScript of an Instance runs on its loop goroutine;
// other goroutines post tasks to it. Each task runs as a turn (turn.go).

import "github.com/warrenhq/warren"

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
		in.detectHang()
	}
}

// detectHang fails, at once, a request that can never be answered: the
// queue is empty, and nothing the isolate waits for (a timer, an outbound
// call, another request that could settle a shared promise) is pending, so
// no event will ever run its code again. Cloudflare cancels such a request
// the same way instead of letting it wait out its wall-time limit. Durable
// Objects are left alone: a request there may wait for a later one (a long
// poll, a lobby), which is an event nothing here can foresee.
func (in *Instance) detectHang() {
	if in.cfg.Object != nil || len(in.invs) != 1 || len(in.timers) > 0 || len(in.asyncOwner) > 0 || in.broken.Load() != nil {
		return
	}
	in.mu.Lock()
	queued := len(in.queue)
	in.mu.Unlock()
	if queued > 0 {
		return
	}
	for _, inv := range in.invs {
		switch {
		case !inv.settled:
			in.finish(inv, invResult{err: &warren.Error{Code: warren.CodeException, Message: "the Worker's code hung: its handler is waiting on a promise that can never settle (no timer, fetch or other request is pending), so it would never produce a response", Hint: "make sure every promise the handler awaits is resolved or rejected (a missing resolve() call, or an await on a promise nothing settles)"}})
		case !inv.done:
			// Answered, but its waitUntil work waits on nothing: end it.
			in.complete(inv)
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
