//go:build linux

package worker

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestThreadCPUClockID checks threadCPUClock against the kernel: the clock it
// names, read from the thread itself, is that thread's CPU clock
// (CLOCK_THREAD_CPUTIME_ID), not the process's or another thread's; and from
// another thread it does not advance while the thread sleeps.
func TestThreadCPUClockID(t *testing.T) {
	read := func(id int32) time.Duration {
		var ts unix.Timespec
		if err := unix.ClockGettime(id, &ts); err != nil {
			t.Fatalf("clock_gettime(%d): %v", id, err)
		}
		return time.Duration(ts.Nano())
	}
	type sample struct{ a, self, b time.Duration }
	ids := make(chan int32)
	got := make(chan sample)
	release := make(chan struct{})
	// Other threads of the process burn CPU meanwhile, so that the process
	// clock runs well ahead of this thread's.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// It spins on purpose, to burn CPU on another thread.
		for n := 0; ; n++ {
			if n%1024 == 0 {
				select {
				case <-stop:
					return
				default:
				}
			}
		}
	}()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		id := threadCPUClock(unix.Gettid())
		for t0 := time.Now(); time.Since(t0) < 20*time.Millisecond; {
		}
		a := read(id)
		self := read(unix.CLOCK_THREAD_CPUTIME_ID)
		b := read(id)
		got <- sample{a, self, b}
		ids <- id
		<-release // sleep, using no CPU, while the test reads the clock
	}()
	s := <-got
	if !(s.a <= s.self && s.self <= s.b) {
		t.Fatalf("clock %v, then the thread's own CPU clock %v, then the clock %v: not the same clock", s.a, s.self, s.b)
	}
	if proc := read(unix.CLOCK_PROCESS_CPUTIME_ID); proc < s.b+5*time.Millisecond {
		t.Logf("process CPU %v is close to the thread's %v: the check above is weak on this run", proc, s.b)
	}
	id := <-ids
	c1 := read(id)
	time.Sleep(20 * time.Millisecond)
	c2 := read(id)
	close(release)
	if c2-c1 > 5*time.Millisecond {
		t.Fatalf("a sleeping thread's CPU clock advanced by %v", c2-c1)
	}
	if c1 < s.b {
		t.Fatalf("the thread's CPU clock read from another thread went back: %v < %v", c1, s.b)
	}
}
