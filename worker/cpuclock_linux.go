//go:build linux

package worker

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadClock measures the CPU time of the OS thread that runs one turn.
// startThreadClock locks the calling goroutine to its thread until stop, so
// that everything the turn runs (JavaScript and the host operations it
// calls) runs on that thread and is counted, and time spent waiting (on a
// lock, in a blocking call, descheduled on a loaded machine) is not.
type threadClock struct {
	id    int32         // the thread's CPU clock, readable from any thread of the process
	start time.Duration // the thread's CPU time when the turn started
	ok    bool          // the clock could be read at the start
}

// threadCPUClock is the clock id of thread tid's CPU clock, as the kernel
// builds it (include/linux/posix-timers.h: make_thread_cpuclock(tid,
// CPUCLOCK_SCHED) = ~tid << 3 | CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED)
// and glibc's pthread_getcpuclockid returns it. Any thread of the process
// may read it.
func threadCPUClock(tid int) int32 {
	const (
		cpuclockSched     = 2
		cpuclockPerThread = 4
	)
	return int32(^uint32(tid)<<3 | cpuclockPerThread | cpuclockSched)
}

func startThreadClock() threadClock {
	runtime.LockOSThread()
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return threadClock{}
	}
	return threadClock{id: threadCPUClock(unix.Gettid()), start: time.Duration(ts.Nano()), ok: true}
}

// stop returns the CPU time the thread used since startThreadClock (ok is
// false when the clock could not be read) and unlocks the goroutine from
// the thread. It must be called on the goroutine that started the clock.
func (c *threadClock) stop() (time.Duration, bool) {
	defer runtime.UnlockOSThread()
	if !c.ok {
		return 0, false
	}
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()) - c.start, true
}

// used returns the CPU time the thread used since the clock started, read
// from any goroutine while the turn runs.
func (c *threadClock) used() (time.Duration, bool) {
	if !c.ok {
		return 0, false
	}
	var ts unix.Timespec
	if unix.ClockGettime(c.id, &ts) != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()) - c.start, true
}
