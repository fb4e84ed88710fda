package supervisor_test

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/supervisor"
)

// scrape returns the value of each warren_* sample of /metrics.
func scrape(t *testing.T, s *supervisor.Supervisor) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^(warren_\S+) (\S+)$`).FindAllStringSubmatch(rec.Body.String(), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] = v
	}
	return out
}

// lowering is a runner whose counters drop (as a host's do when it
// restarts), to check what /metrics makes of it.
type lowering struct {
	*supervisor.InProcess
	cold atomic.Int64
}

func (l *lowering) Stats() supervisor.RunnerStats {
	st := l.InProcess.Stats()
	st.ColdStarts, st.Isolates, st.Evictions, st.HostRestarts = l.cold.Load(), l.cold.Load(), l.cold.Load(), l.cold.Load()
	return st
}

// Prometheus counters never go down: not when a runner's counters restart
// from zero (a host process restarted), not when an app is deleted and
// deployed again, not when an app moves into or out of the top apps.
func TestMetricsCountersNeverGoDown(t *testing.T) {
	dir := t.TempDir()
	r := &lowering{InProcess: supervisor.NewInProcess(supervisor.InProcessOptions{Runtime: testrt.Runtime(t), Dir: filepath.Join(dir, "apps")})}
	s := newSup(t, supervisor.Options{Dir: dir, Runner: r})
	r.cold.Store(7)
	before := scrape(t, s)
	r.cold.Store(2)
	after := scrape(t, s)
	for _, name := range []string{"warren_cold_starts_total", "warren_isolates_created_total", "warren_evictions_total", "warren_host_restarts_total"} {
		if before[name] != 7 || after[name] < before[name] {
			t.Errorf("%s: %v, then %v", name, before[name], after[name])
		}
	}

	// An app deleted and deployed again keeps counting.
	const app = `export default { fetch() { return new Response("x") } }`
	deploy(t, s, "again", app)
	for i := 0; i < 3; i++ {
		get(t, s, "again", "/")
	}
	if m := scrape(t, s); m[`warren_app_requests_total{app="again"}`] != 3 {
		t.Fatalf("before the deletion: %v", m)
	}
	if err := s.Delete("again"); err != nil {
		t.Fatal(err)
	}
	deploy(t, s, "again", app)
	get(t, s, "again", "/")
	if m := scrape(t, s); m[`warren_app_requests_total{app="again"}`] != 4 {
		t.Fatalf("after a new deploy of the id: %v, want 4", m[`warren_app_requests_total{app="again"}`])
	}

	// Past the top apps, the rest go under _other; deleting one of them
	// does not take its requests out of _other.
	for i := 0; i <= supervisor.MetricsTopApps; i++ {
		id := fmt.Sprintf("app%02d", i)
		deploy(t, s, id, app)
		for j := 0; j < 2; j++ {
			get(t, s, id, "/")
		}
	}
	m := scrape(t, s)
	other := m[`warren_app_requests_total{app="_other"}`]
	if other != 4 { // two apps of 2 requests each: the top is again's 4 and 49 of the others
		t.Fatalf("_other: %v", other)
	}
	if err := s.Delete("app50"); err != nil {
		t.Fatal(err)
	}
	if m := scrape(t, s); m[`warren_app_requests_total{app="_other"}`] < other {
		t.Fatalf("_other went down from %v to %v after a deletion", other, m[`warren_app_requests_total{app="_other"}`])
	}
}
