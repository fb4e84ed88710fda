package worker

import (
	"container/heap"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/webapi"
)

// timer is a pending setTimeout or setInterval of an isolate.
type timer struct {
	id     int
	due    time.Time
	seq    uint64 // creation order: timers due at the same time fire in it
	owner  *invocation
	repeat bool
	every  time.Duration
	index  int // in the heap; -1 when not queued
}

// timerHeap orders timers by due time, then by creation.
type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }

func (h *timerHeap) Push(x any) { t := x.(*timer); t.index = len(*h); *h = append(*h, t) }

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

// Timers: one Go timer per isolate wakes the loop for the earliest due
// timer; due timers fire in (due time, creation) order, each in its own
// turn, so microtasks run between them as in browsers.

func init() {
	opsOf(map[string]opFunc{
		"timer.set": func(in *Instance, args []any) (any, error) { return in.opTimerSet(args) },
		"timer.clear": func(in *Instance, args []any) (any, error) {
			id, err := webapi.ArgInt(args, 0)
			if err != nil {
				return nil, err
			}
			in.clearTimer(id)
			return nil, nil
		},
	})
}

func (in *Instance) opTimerSet(args []any) (any, error) {
	ms, err := webapi.ArgInt(args, 0)
	if err != nil {
		return nil, err
	}
	if len(in.timers) >= in.limits.Timers {
		return nil, warren.LimitError("timers", in.limits.Timers, "too many timers are pending at once; clear timers you no longer need")
	}
	repeat := webapi.ArgBool(args, 1)
	d := time.Duration(ms) * time.Millisecond
	if repeat && d < time.Millisecond {
		d = time.Millisecond
	}
	in.nextID++
	in.timerSeq++
	t := &timer{id: in.nextID, due: time.Now().Add(d), seq: in.timerSeq, owner: in.current, repeat: repeat, every: d}
	in.timers[t.id] = t
	heap.Push(&in.timerQ, t)
	in.armTimers()
	return t.id, nil
}

func (in *Instance) clearTimer(id int) {
	t, ok := in.timers[id]
	if !ok {
		return
	}
	delete(in.timers, id)
	if t.index >= 0 {
		heap.Remove(&in.timerQ, t.index)
	}
	in.armTimers()
}

// armTimers sets the wake-up for the earliest timer.
func (in *Instance) armTimers() {
	if len(in.timerQ) == 0 {
		if in.timerWake != nil {
			in.timerWake.Stop()
		}
		return
	}
	due := in.timerQ[0].due
	if in.timerWake != nil && in.timerArmed.Equal(due) {
		return
	}
	in.timerArmed = due
	d := time.Until(due)
	if in.timerWake == nil {
		in.timerWake = time.AfterFunc(d, func() { in.post(in.fireTimers) })
	} else {
		in.timerWake.Reset(d)
	}
}

// fireTimers queues a turn for every due timer, in order.
func (in *Instance) fireTimers() {
	in.timerArmed = time.Time{}
	now := time.Now()
	for len(in.timerQ) > 0 && !in.timerQ[0].due.After(now) {
		t := heap.Pop(&in.timerQ).(*timer)
		if t.repeat {
			t.due = now.Add(t.every)
			in.timerSeq++
			t.seq = in.timerSeq
			heap.Push(&in.timerQ, t)
		}
		in.post(func() {
			if _, ok := in.timers[t.id]; !ok || in.broken.Load() != nil {
				return
			}
			if !t.repeat {
				delete(in.timers, t.id)
			}
			in.current = t.owner
			if _, err := in.dispatch.Call("timer", t.id); err != nil {
				in.uncaught(t.owner, err)
			}
		})
	}
	in.armTimers()
}
