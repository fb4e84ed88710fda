//go:build !linux

package worker

import "time"

// threadClock stands for a thread CPU clock where there is none: a turn's
// CPU time is its wall time, and the CPU limit is a wall-time timer.
type threadClock struct{}

func startThreadClock() threadClock                { return threadClock{} }
func (c *threadClock) stop() (time.Duration, bool) { return 0, false }
func (c *threadClock) used() (time.Duration, bool) { return 0, false }
