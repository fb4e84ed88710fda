package host

import (
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// What crosses the host protocol comes back whole: an app's spec with its
// quotas (cpuMs in milliseconds), a run's limits (durations in
// milliseconds in the JSON, whole nanoseconds in Go).
func TestSpecAndLimitsRoundTrip(t *testing.T) {
	ws := wireSpec{ID: "my-app", ParentID: "ab12", Version: 3, Hash: "h a/sh", Class: "App",
		Quotas: supervisor.Quotas{StorageBytes: 1 << 40, MemoryMB: 64, CPUMs: 50, RequestsPerMinute: 600}, Egress: true}
	back, err := decodeSpec(ws.encode())
	if err != nil || back != ws {
		t.Fatalf("spec %+v came back as %+v (%v)", ws, back, err)
	}
	for _, l := range []warren.Limits{{}, warren.DefaultLimits, {CPU: 50 * time.Millisecond, Wall: 1500 * time.Microsecond, Subrequests: 2, MemoryBytes: 8 << 20}} {
		s := encodeLimits(l)
		back, err := decodeLimits(s)
		if err != nil || back != l {
			t.Errorf("limits %+v → %s → %+v (%v)", l, s, back, err)
		}
	}
	if s := encodeLimits(warren.Limits{CPU: 50 * time.Millisecond}); s != `{"cpuMs":50}` {
		t.Errorf("limits cross as %s, want cpuMs in milliseconds", s)
	}
}
