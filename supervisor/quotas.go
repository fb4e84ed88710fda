package supervisor

import (
	"cmp"
	"fmt"
	"sync"
	"time"

	"github.com/warrenhq/warren"
)

// Quotas are what one app may use. Zero fields mean "the platform default"
// in overrides, and "no limit of Warren's own" in defaults (engine limits
// still apply).
type Quotas struct {
	// StorageBytes bounds the app's database (SQLite page limit).
	StorageBytes int64 `json:"storageBytes,omitempty"`
	// MemoryMB bounds the app's isolate heap.
	MemoryMB int `json:"memoryMB,omitempty"`
	// CPUMs bounds the JavaScript CPU time of one request.
	CPUMs int `json:"cpuMs,omitempty"`
	// RequestsPerMinute bounds the requests the app serves per minute;
	// past it clients get 429 with Retry-After.
	RequestsPerMinute int `json:"requestsPerMinute,omitempty"`
}

// Or returns q with zero fields taken from def.
func (q Quotas) Or(def Quotas) Quotas {
	q.StorageBytes = cmp.Or(q.StorageBytes, def.StorageBytes)
	q.MemoryMB = cmp.Or(q.MemoryMB, def.MemoryMB)
	q.CPUMs = cmp.Or(q.CPUMs, def.CPUMs)
	q.RequestsPerMinute = cmp.Or(q.RequestsPerMinute, def.RequestsPerMinute)
	return q
}

func (q Quotas) validate() error {
	bad := func(field string, v any, hint string) error {
		return &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("limits.%s = %v is not allowed", field, v), Hint: hint}
	}
	switch {
	case q.StorageBytes < 0 || (q.StorageBytes > 0 && q.StorageBytes < 64<<10):
		return bad("storageBytes", q.StorageBytes, "give at least 65536 bytes, or 0 for the platform default")
	case q.MemoryMB < 0 || (q.MemoryMB > 0 && q.MemoryMB < 8) || q.MemoryMB > 4096:
		return bad("memoryMB", q.MemoryMB, "give 8 to 4096, or 0 for the platform default")
	case q.CPUMs < 0 || q.CPUMs > 5*60*1000:
		return bad("cpuMs", q.CPUMs, "give 1 to 300000, or 0 for the platform default")
	case q.RequestsPerMinute < 0:
		return bad("requestsPerMinute", q.RequestsPerMinute, "give a positive number, or 0 for the platform default")
	}
	return nil
}

// DefaultQuotas are the platform defaults of the built-in supervisor.
var DefaultQuotas = Quotas{StorageBytes: 256 << 20, MemoryMB: 64, CPUMs: 1000, RequestsPerMinute: 6000}

// rateWindow counts requests in the current minute.
type rateWindow struct {
	limit   func() int
	mu      sync.Mutex
	minute  int64
	count   int
	refused bool // a refusal was logged this minute
}

// allow counts a request at now, or says how long until the next minute.
func (rw *rateWindow) allow(now time.Time) (time.Duration, bool) {
	limit := rw.limit()
	m := now.Unix() / 60
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if m != rw.minute {
		rw.minute, rw.count, rw.refused = m, 0, false
	}
	if limit > 0 && rw.count >= limit {
		return time.Unix((m+1)*60, 0).Sub(now), false
	}
	rw.count++
	return 0, true
}

// firstRefusal reports whether this is the first refusal of the minute (the
// operator gets one log line per app per minute, not one per request).
func (rw *rateWindow) firstRefusal() bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	first := !rw.refused
	rw.refused = true
	return first
}
