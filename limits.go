package warren

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Limits bound one invocation of a Worker and the isolate it runs in. Zero
// fields mean "use the default"; an operator's limits and a loader's limits
// combine with Min, so a loader can only lower what the operator allows.
//
// In JSON the durations are milliseconds, as their names say ("cpuMs": 50
// is 50 ms; fractions keep sub-millisecond values), the other fields are
// in the units of their names.
type Limits struct {
	// MemoryBytes is the isolate's engine heap limit.
	MemoryBytes int64 `json:"memoryBytes,omitempty"`
	// CPU is the JavaScript execution time per invocation (JSON: cpuMs).
	CPU time.Duration `json:"-"`
	// Wall is the total time per invocation, including waiting on I/O
	// (JSON: wallMs).
	Wall time.Duration `json:"-"`
	// Subrequests is the number of outbound fetches and RPC calls per invocation.
	Subrequests int `json:"subRequests,omitempty"`
	// StackDepth is the JavaScript call depth limit (engine stack slots).
	StackDepth int `json:"stackDepth,omitempty"`
	// RequestBodyBytes bounds the size of a request body sent to the Worker.
	RequestBodyBytes int64 `json:"requestBodyBytes,omitempty"`
	// ResponseBodyBytes bounds the size of a response body (including a
	// streamed one) and of an outbound fetch's response.
	ResponseBodyBytes int64 `json:"responseBodyBytes,omitempty"`
	// Timers bounds the timers pending at once in one isolate.
	Timers int `json:"timers,omitempty"`
	// LogBytes bounds the console output kept per invocation.
	LogBytes int `json:"logBytes,omitempty"`
}

// limitsFields are the fields of Limits that JSON takes as they are.
type limitsFields Limits

// limitsJSON is Limits as JSON: its durations in milliseconds.
type limitsJSON struct {
	*limitsFields
	CPUMs  float64 `json:"cpuMs,omitempty"`
	WallMs float64 `json:"wallMs,omitempty"`
}

// MarshalJSON writes l with its durations in milliseconds.
func (l Limits) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitsJSON{limitsFields: (*limitsFields)(&l), CPUMs: toMs(l.CPU), WallMs: toMs(l.Wall)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Limits) UnmarshalJSON(b []byte) error {
	v := limitsJSON{limitsFields: (*limitsFields)(l)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	cpu, err := fromMs("cpuMs", v.CPUMs)
	if err != nil {
		return err
	}
	wall, err := fromMs("wallMs", v.WallMs)
	if err != nil {
		return err
	}
	l.CPU, l.Wall = cpu, wall
	return nil
}

func toMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fromMs(name string, ms float64) (time.Duration, error) {
	ns := math.Round(ms * float64(time.Millisecond))
	if ns > math.MaxInt64 || ns < math.MinInt64 {
		return 0, fmt.Errorf("limits: %s = %v is out of range", name, ms)
	}
	return time.Duration(ns), nil
}

// DefaultLimits are the limits when nothing else is set. They are generous
// by Workers standards because QuickJS is an interpreter (see docs/DECISIONS.md).
var DefaultLimits = Limits{
	MemoryBytes:       128 << 20,
	CPU:               5 * time.Second,
	Wall:              30 * time.Second,
	Subrequests:       50,
	StackDepth:        0, // engine default
	RequestBodyBytes:  32 << 20,
	ResponseBodyBytes: 32 << 20,
	Timers:            10000,
	LogBytes:          256 << 10,
}

// Or returns l with every zero field taken from d.
func (l Limits) Or(d Limits) Limits {
	l.MemoryBytes = cmp.Or(l.MemoryBytes, d.MemoryBytes)
	l.CPU = cmp.Or(l.CPU, d.CPU)
	l.Wall = cmp.Or(l.Wall, d.Wall)
	l.Subrequests = cmp.Or(l.Subrequests, d.Subrequests)
	l.StackDepth = cmp.Or(l.StackDepth, d.StackDepth)
	l.RequestBodyBytes = cmp.Or(l.RequestBodyBytes, d.RequestBodyBytes)
	l.ResponseBodyBytes = cmp.Or(l.ResponseBodyBytes, d.ResponseBodyBytes)
	l.Timers = cmp.Or(l.Timers, d.Timers)
	l.LogBytes = cmp.Or(l.LogBytes, d.LogBytes)
	return l
}

// Min returns the lower of each pair of set fields (a zero field takes the
// other's value).
func (l Limits) Min(o Limits) Limits {
	l.MemoryBytes = minSet(l.MemoryBytes, o.MemoryBytes)
	l.CPU = minSet(l.CPU, o.CPU)
	l.Wall = minSet(l.Wall, o.Wall)
	l.Subrequests = minSet(l.Subrequests, o.Subrequests)
	l.StackDepth = minSet(l.StackDepth, o.StackDepth)
	l.RequestBodyBytes = minSet(l.RequestBodyBytes, o.RequestBodyBytes)
	l.ResponseBodyBytes = minSet(l.ResponseBodyBytes, o.ResponseBodyBytes)
	l.Timers = minSet(l.Timers, o.Timers)
	l.LogBytes = minSet(l.LogBytes, o.LogBytes)
	return l
}

// minSet returns the lower of two limits. Only positive values are limits:
// a zero or negative one is unset and takes the other's value.
func minSet[T ~int | ~int64](a, b T) T {
	if b <= 0 {
		return a
	}
	if a <= 0 || b < a {
		return b
	}
	return a
}

// LimitError reports that an invocation hit limit name at value, with how to
// raise it.
func LimitError(name string, value any, hint string) *Error {
	return &Error{Code: CodeLimit, Limit: name, Message: fmt.Sprintf("the invocation exceeded its %s limit (%v)", name, value), Hint: hint}
}
