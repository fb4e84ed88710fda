package host

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// wireSpec is the AppSpec as it crosses the socket (no functions).
type wireSpec struct {
	ID       string
	ParentID string
	Version  int
	Hash     string
	Class    string
	Quotas   supervisor.Quotas
	Egress   bool
}

// The spec and the usage cross on every request, so they are space-separated
// fields rather than JSON (a JSON spec cost the host about 15 µs a request).
// Strings are path-escaped, so they hold no spaces.

// encode returns the spec's header value.
func (ws *wireSpec) encode() string {
	var b strings.Builder
	for _, s := range []string{ws.ID, ws.ParentID, ws.Hash, ws.Class} {
		b.WriteString(url.PathEscape(s))
		b.WriteByte(' ')
	}
	for _, n := range []int64{int64(ws.Version), ws.Quotas.StorageBytes, int64(ws.Quotas.MemoryMB), int64(ws.Quotas.CPUMs), int64(ws.Quotas.RequestsPerMinute)} {
		b.WriteString(strconv.FormatInt(n, 10))
		b.WriteByte(' ')
	}
	if ws.Egress {
		b.WriteByte('1')
	} else {
		b.WriteByte('0')
	}
	return b.String()
}

var errSpec = errors.New("malformed app spec")

// decodeSpec parses what encode wrote.
func decodeSpec(s string) (wireSpec, error) {
	f := strings.Split(s, " ")
	if len(f) != 10 {
		return wireSpec{}, errSpec
	}
	var strs [4]string
	for i := range strs {
		v, err := url.PathUnescape(f[i])
		if err != nil {
			return wireSpec{}, errSpec
		}
		strs[i] = v
	}
	var nums [5]int64
	for i := range nums {
		n, err := strconv.ParseInt(f[4+i], 10, 64)
		if err != nil || n < 0 || (i != 1 && n > 1<<31) {
			return wireSpec{}, errSpec
		}
		nums[i] = n
	}
	if f[9] != "0" && f[9] != "1" {
		return wireSpec{}, errSpec
	}
	return wireSpec{ID: strs[0], ParentID: strs[1], Hash: strs[2], Class: strs[3], Version: int(nums[0]),
		Quotas: supervisor.Quotas{StorageBytes: nums[1], MemoryMB: int(nums[2]), CPUMs: int(nums[3]), RequestsPerMinute: int(nums[4])},
		Egress: f[9] == "1"}, nil
}

// usageValue is a request's usage as the host reports it: CPU nanoseconds,
// rows read, rows written.
func usageValue(ru *supervisor.RunUsage) string {
	if ru == nil {
		return "0 0 0"
	}
	return strconv.FormatInt(int64(ru.CPU), 10) + " " + strconv.FormatInt(ru.RowsRead, 10) + " " + strconv.FormatInt(ru.RowsWritten, 10)
}

// parseUsage reads a host's usage into ru. A subverted host could send
// anything: what does not parse is ignored, and nothing is metered below
// zero.
func parseUsage(s string, ru *supervisor.RunUsage) {
	f := strings.Split(s, " ")
	if len(f) != 3 {
		return
	}
	var n [3]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return
		}
		n[i] = max(v, 0)
	}
	ru.CPU, ru.RowsRead, ru.RowsWritten = time.Duration(n[0]), n[1], n[2]
}

// encodeLimits is a run's limits as they cross (hdrLimits): JSON, with the
// durations in milliseconds (warren.Limits.MarshalJSON).
func encodeLimits(l warren.Limits) string {
	b, _ := json.Marshal(l)
	return string(b)
}

// decodeLimits reads what encodeLimits wrote.
func decodeLimits(s string) (warren.Limits, error) {
	var l warren.Limits
	err := json.Unmarshal([]byte(s), &l)
	return l, err
}
