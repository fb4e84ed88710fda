package testrt

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"
)

// ReportLatencies reports the p50 and p99 of per-iteration latencies in
// milliseconds.
func ReportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.5) - 1
		return lat[max(0, min(len(lat)-1, i))]
	}
	b.ReportMetric(float64(pct(0.50))/1e6, "p50-ms")
	b.ReportMetric(float64(pct(0.99))/1e6, "p99-ms")
}

// RSS returns the process's resident set size in bytes, after a full GC
// that returns freed memory to the OS. It skips tb where there is no
// /proc/self/statm.
func RSS(tb testing.TB) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skipf("no /proc/self/statm: %v", err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		tb.Fatalf("parse statm %q: %v", b, err)
	}
	return resident * int64(os.Getpagesize())
}
