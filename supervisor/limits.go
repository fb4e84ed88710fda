package supervisor

// An app's quotas and egress, read and changed apart from its code.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/egress"
)

// LimitsChange changes an app's quotas and egress: what it gives is set,
// the rest is kept. A quota of 0 goes back to the platform default; an
// empty Egress list takes the app's network away.
type LimitsChange struct {
	Limits *QuotasChange `json:"limits,omitempty"`
	Egress *[]string     `json:"egress,omitempty"`
}

// QuotasChange are the quotas a LimitsChange sets (nil: kept).
type QuotasChange struct {
	StorageBytes      *int64 `json:"storageBytes,omitempty"`
	MemoryMB          *int   `json:"memoryMB,omitempty"`
	CPUMs             *int   `json:"cpuMs,omitempty"`
	RequestsPerMinute *int   `json:"requestsPerMinute,omitempty"`
}

// apply returns q with the change's fields set.
func (c *QuotasChange) apply(q Quotas) Quotas {
	if c == nil {
		return q
	}
	if c.StorageBytes != nil {
		q.StorageBytes = *c.StorageBytes
	}
	if c.MemoryMB != nil {
		q.MemoryMB = *c.MemoryMB
	}
	if c.CPUMs != nil {
		q.CPUMs = *c.CPUMs
	}
	if c.RequestsPerMinute != nil {
		q.RequestsPerMinute = *c.RequestsPerMinute
	}
	return q
}

// ParseLimitsChange reads the body of PUT /api/v1/apps/{id}/limits.
func ParseLimitsChange(body []byte) (*LimitsChange, error) {
	var c LimitsChange
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "the limits are not valid JSON: " + err.Error(),
			Hint: `send {"limits": {"requestsPerMinute": 600, "cpuMs": 50, "memoryMB": 64, "storageBytes": 1048576}, "egress": ["api.example.com"]}: the fields given are set (0: the platform default), the others kept`}
	}
	return &c, nil
}

// AppLimits are an app's quotas and egress.
type AppLimits struct {
	App string `json:"app"`
	// Limits are the effective quotas: the app's overrides, else the
	// platform defaults (a 0 default, or one left out: no limit of the
	// platform's own).
	Limits    Quotas   `json:"limits"`
	Overrides Quotas   `json:"overrides"`
	Defaults  Quotas   `json:"defaults"`
	Egress    []string `json:"egress"`
}

func (s *Supervisor) limitsOf(a *app) *AppLimits {
	a.mu.Lock()
	over, eg := a.quotas, slices.Clone(a.egress)
	a.mu.Unlock()
	if eg == nil {
		eg = []string{}
	}
	return &AppLimits{App: a.id, Limits: s.quotasOf(a), Overrides: over, Defaults: s.opts.Defaults, Egress: eg}
}

// Limits returns the app's quotas and egress.
func (s *Supervisor) Limits(id string) (*AppLimits, error) {
	a, err := s.app(id)
	if err != nil {
		return nil, err
	}
	return s.limitsOf(a), nil
}

// SetLimits changes the app's quotas and egress without a deploy (the
// next deploy keeps them, unless it sets them). A change of requests per
// minute applies to the next request; one of the other quotas or of
// egress restarts the app's code, as a deploy does (requests in flight on
// it fail with a retryable error; its data is kept).
func (s *Supervisor) SetLimits(id string, c *LimitsChange) (*AppLimits, error) {
	a, err := s.app(id)
	if err != nil {
		return nil, err
	}
	if c.Egress != nil {
		for _, h := range *c.Egress {
			if err := egress.CheckPattern(h); err != nil {
				return nil, &warren.Error{Code: warren.CodeBadRequest, Message: err.Error(), Hint: egressHint}
			}
		}
	}
	a.mu.Lock()
	if a.deleted {
		a.mu.Unlock()
		return nil, notFound(id)
	}
	quotas, allow := c.Limits.apply(a.quotas), a.egress
	if c.Egress != nil {
		allow = slices.Clone(*c.Egress)
	}
	if err := quotas.validate(); err != nil {
		a.mu.Unlock()
		return nil, err
	}
	qj, _ := json.Marshal(quotas)
	ej, _ := json.Marshal(allow)
	if allow == nil {
		ej = []byte("[]")
	}
	if _, err := s.db.Exec(`UPDATE apps SET quotas = ?, egress = ? WHERE id = ?`, string(qj), string(ej), id); err != nil {
		a.mu.Unlock()
		return nil, storeErrorOf(err, "the limits", "the app keeps its limits")
	}
	restart := quotas.StorageBytes != a.quotas.StorageBytes || quotas.MemoryMB != a.quotas.MemoryMB || quotas.CPUMs != a.quotas.CPUMs || !slices.Equal(allow, a.egress)
	if restart {
		s.runner.Stop(id) // its code starts again under the new quotas
	}
	a.quotas, a.egress, a.spec = quotas, allow, nil
	a.mu.Unlock()
	s.log.Info("app limits set", "app", id, "limits", string(qj), "egress", string(ej))
	a.logs.add(LogLine{Time: time.Now().UTC(), Level: "limits", Message: "limits set: " + describeQuotas(quotas) + "; egress: " + listOr(allow)})
	return s.limitsOf(a), nil
}

// describeQuotas names the overrides an app has.
func describeQuotas(q Quotas) string {
	var parts []string
	add := func(name string, v int64) {
		if v != 0 {
			parts = append(parts, name+" "+strconv.FormatInt(v, 10))
		}
	}
	add("storageBytes", q.StorageBytes)
	add("memoryMB", int64(q.MemoryMB))
	add("cpuMs", int64(q.CPUMs))
	add("requestsPerMinute", int64(q.RequestsPerMinute))
	switch len(parts) {
	case 0:
		return "the platform defaults"
	case 4:
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%s (others: the platform defaults)", strings.Join(parts, ", "))
}
