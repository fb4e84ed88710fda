package worker

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/warrenhq/warren/js"
)

// A pool of pre-booted VMs: each has run the core prelude and captured its
// dispatch function, but holds no app code, so any Program can adopt it.
// Taking one off the pool moves the prelude's cost (most of an isolate's
// start-up) off the request path; a goroutine refills the pool.

// warmVM is a VM that ran the core prelude.
type warmVM struct {
	vm       js.VM
	dispatch js.Func
	ops      *opSwitch
	loaded   map[int]bool // families already evaluated (index in Runtime.families)
}

// warmFamilies are evaluated in pre-booted VMs ahead of need: nearly every
// Worker parses request.url, and every Worker whose code says fetch (every
// fetch handler, every Durable Object stub call) needs url and events.
var warmFamilies = map[string]bool{"url": true, "events": true}

// opSwitch is the VM's op handler; the adopting Instance plugs itself in.
type opSwitch struct {
	target atomic.Pointer[js.OpHandler]
}

func (h *opSwitch) call(op string, args []any) (any, error) {
	f := h.target.Load()
	if f == nil {
		return nil, errors.New("the isolate is still starting")
	}
	return (*f)(op, args)
}

// bootVM makes a VM and runs the core prelude in it.
func (rt *Runtime) bootVM() (*warmVM, error) {
	sw := &opSwitch{}
	vm, err := rt.engine.NewVM(js.Options{Ops: sw.call})
	if err != nil {
		return nil, err
	}
	if err := vm.Run(rt.prelude); err != nil {
		vm.Close()
		return nil, err
	}
	d, err := vm.Func("__dispatch")
	if err != nil {
		vm.Close()
		return nil, err
	}
	w := &warmVM{vm: vm, dispatch: d, ops: sw, loaded: map[int]bool{}}
	for i, f := range rt.families {
		if !warmFamilies[f.Name] {
			continue
		}
		if err := vm.Run(f.bytecode); err != nil {
			vm.Close()
			return nil, err
		}
		w.loaded[i] = true
	}
	return w, nil
}

// poolIdle is how long no VM must have been taken before the filler boots
// more while the pool still holds one: a burst of new isolates (a deploy
// storm, a wave of Durable Object activations) is not slowed by its own
// refill competing for the same cores. An empty pool is refilled at once.
const poolIdle = 2 * time.Millisecond

// takeVM returns a pre-booted VM, or boots one now when the pool is empty.
func (rt *Runtime) takeVM() (*warmVM, error) {
	if rt.pool != nil && !rt.closing() {
		rt.lastTake.Store(time.Now().UnixNano())
		select {
		case w := <-rt.pool:
			rt.refill()
			return w, nil
		default:
			rt.refill()
		}
	}
	return rt.bootVM()
}

// refill wakes the filler goroutine.
func (rt *Runtime) refill() {
	select {
	case rt.poolWake <- struct{}{}:
	default:
	}
}

func (rt *Runtime) fillPool() {
	defer close(rt.poolDone)
	for {
		select {
		case <-rt.poolStop:
			return
		case <-rt.poolWake:
		}
		for len(rt.pool) < cap(rt.pool) && !rt.closing() {
			rt.waitIdle()
			w, err := rt.bootVM()
			if err != nil {
				break
			}
			select {
			case rt.pool <- w:
			default:
				w.vm.Close()
			}
		}
	}
}

func (rt *Runtime) closing() bool {
	select {
	case <-rt.poolStop:
		return true
	default:
		return false
	}
}

// Close stops the pool's filler and frees the pre-booted VMs. Instances made
// by the Runtime are not affected (close them first); Compile and
// NewInstance still work, booting VMs on the caller's goroutine.
func (rt *Runtime) Close() {
	if rt.pool == nil {
		return
	}
	rt.closeOnce.Do(func() {
		close(rt.poolStop)
		<-rt.poolDone
		for {
			select {
			case w := <-rt.pool:
				w.vm.Close()
			default:
				return
			}
		}
	})
}

// waitIdle returns when no VM has been taken for poolIdle, or at once when
// the pool is empty.
func (rt *Runtime) waitIdle() {
	for len(rt.pool) > 0 {
		wait := poolIdle - time.Since(time.Unix(0, rt.lastTake.Load()))
		if wait <= 0 {
			return
		}
		time.Sleep(wait)
	}
}
