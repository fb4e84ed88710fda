package worker

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"
)

// Usage accumulates what the invocations started under a context from
// WithUsage consume, across every isolate they reach (an app's facet, the
// facets and Workers it calls). Fields are updated atomically while the
// invocations run; read them with the accessor methods.
type Usage struct {
	cpu         atomic.Int64 // CPU nanoseconds of JavaScript turns (see Instance.runTurn)
	subrequests atomic.Int64 // outbound fetches and calls started
}

// CPU returns the JavaScript CPU time charged so far: on Linux the CPU time
// of the thread that ran each turn (a turn that waited, in a blocking host
// call or for a core, is not charged for the wait), elsewhere its wall time.
// A turn is charged to the invocation that was running when it ended, so
// concurrent invocations of one isolate share their turns approximately; the
// sum is exact.
func (u *Usage) CPU() time.Duration { return time.Duration(u.cpu.Load()) }

// Subrequests returns the outbound fetches started so far.
func (u *Usage) Subrequests() int64 { return u.subrequests.Load() }

type usageKey struct{}

// WithUsage returns a context whose invocations charge u.
func WithUsage(ctx context.Context, u *Usage) context.Context {
	return context.WithValue(ctx, usageKey{}, u)
}

func usageFrom(ctx context.Context) *Usage {
	u, _ := ctx.Value(usageKey{}).(*Usage)
	return u
}

// CPUTime returns the JavaScript CPU time this isolate has used (measured as
// Usage.CPU is).
func (in *Instance) CPUTime() time.Duration { return time.Duration(in.cpuTotal.Load()) }

// Exports describes the module's exports: name → "class", "function",
// "object" or "other", followed (space-separated) by what makes the export
// callable: "fetch" (an object whose fetch is a function; a class with a
// fetch method, or that mentions fetch: a class field), "DurableObject" or
// "WorkerEntrypoint" (a class that extends it). Deploy-time checks use it
// to refuse code that lacks the class or handler it is meant to run.
func (in *Instance) Exports(ctx context.Context) (map[string]string, error) {
	type res struct {
		v   any
		err error
	}
	ch := make(chan res, 1)
	if !in.post(func() {
		v, err := in.dispatch.Call("exports")
		if err != nil {
			err = in.exceptionError(err, "while listing exports") // on the loop: it may read the VM
		}
		ch <- res{v, err}
	}) {
		return nil, ErrClosed
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		s, _ := r.v.(string)
		out := map[string]string{}
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, err
		}
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
