package warren

import (
	"encoding/json"
	"testing"
	"time"
)

// Limits cross JSON (the host protocol's runs) with their durations in
// milliseconds, as their names say, and come back whole.
func TestLimitsJSONRoundTrip(t *testing.T) {
	for _, l := range []Limits{
		{},
		DefaultLimits,
		{CPU: 50 * time.Millisecond, Wall: 2 * time.Second, MemoryBytes: 64 << 20, Subrequests: 3},
		{CPU: 1500 * time.Microsecond, Wall: time.Nanosecond, Timers: 1, LogBytes: 9, StackDepth: 7, RequestBodyBytes: 1, ResponseBodyBytes: 2},
		{CPU: 100 * 24 * time.Hour},
	} {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back Limits
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back != l {
			t.Errorf("%+v → %s → %+v", l, b, back)
		}
	}
	b, _ := json.Marshal(Limits{CPU: 50 * time.Millisecond, Wall: 1500 * time.Microsecond})
	if string(b) != `{"cpuMs":50,"wallMs":1.5}` {
		t.Errorf("JSON %s, want milliseconds", b)
	}
	var l Limits
	if err := json.Unmarshal([]byte(`{"cpuMs": 50, "memoryBytes": 1024}`), &l); err != nil || l != (Limits{CPU: 50 * time.Millisecond, MemoryBytes: 1024}) {
		t.Errorf(`{"cpuMs": 50} read as %+v (%v)`, l, err)
	}
	for _, bad := range []string{`{"cpuMs": 1e300}`, `{"wallMs": "5"}`} {
		if err := json.Unmarshal([]byte(bad), &l); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
