package warren

import (
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
	if l.MemoryBytes == 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.CPU == 0 {
		l.CPU = d.CPU
	}
	if l.Wall == 0 {
		l.Wall = d.Wall
	}
	if l.Subrequests == 0 {
		l.Subrequests = d.Subrequests
	}
	if l.StackDepth == 0 {
		l.StackDepth = d.StackDepth
	}
	if l.RequestBodyBytes == 0 {
		l.RequestBodyBytes = d.RequestBodyBytes
	}
	if l.ResponseBodyBytes == 0 {
		l.ResponseBodyBytes = d.ResponseBodyBytes
	}
	if l.Timers == 0 {
		l.Timers = d.Timers
	}
	if l.LogBytes == 0 {
		l.LogBytes = d.LogBytes
	}
	return l
}

// Min returns the lower of each pair of set fields (a zero field takes the
// other's value).
func (l Limits) Min(o Limits) Limits {
	// Only positive values are limits; zero and negative ones are unset.
	minD := func(a, b time.Duration) time.Duration {
		if b <= 0 {
			return a
		}
		if a <= 0 || b < a {
			return b
		}
		return a
	}
	minI := func(a, b int64) int64 {
		if b <= 0 {
			return a
		}
		if a <= 0 || b < a {
			return b
		}
		return a
	}
	l.MemoryBytes = minI(l.MemoryBytes, o.MemoryBytes)
	l.CPU = minD(l.CPU, o.CPU)
	l.Wall = minD(l.Wall, o.Wall)
	l.Subrequests = int(minI(int64(l.Subrequests), int64(o.Subrequests)))
	l.StackDepth = int(minI(int64(l.StackDepth), int64(o.StackDepth)))
	l.RequestBodyBytes = minI(l.RequestBodyBytes, o.RequestBodyBytes)
	l.ResponseBodyBytes = minI(l.ResponseBodyBytes, o.ResponseBodyBytes)
	l.Timers = int(minI(int64(l.Timers), int64(o.Timers)))
	l.LogBytes = int(minI(int64(l.LogBytes), int64(o.LogBytes)))
	return l
}

// LimitError reports that an invocation hit limit name at value, with how to
// raise it.
func LimitError(name string, value any, hint string) *Error {
	return &Error{Code: CodeLimit, Limit: name, Message: fmt.Sprintf("the invocation exceeded its %s limit (%v)", name, value), Hint: hint}
}
