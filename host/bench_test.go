package host_test

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/supervisor"
)

const hopApp = `export default { fetch() { return new Response("ok") } }`

const callHeavy = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    let x = 0;
    for (let i = 0; i < 20000; i++) x += i % 7;
    this.ctx.storage.kv.put("x", x);
    return new Response(String(this.ctx.storage.kv.get("x")));
  }
}`

func inprocessSup(b *testing.B) *supervisor.Supervisor {
	s, err := supervisor.New(supervisor.Options{Runtime: testrt.Runtime(b), Dir: b.TempDir(), Defaults: supervisor.Quotas{RequestsPerMinute: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

func processSup(b *testing.B, hosts int) *supervisor.Supervisor {
	dir := b.TempDir()
	pool, err := newPool(filepath.Join(dir, "apps"), hosts, 256<<20, 0)
	if err != nil {
		b.Fatal(err)
	}
	s, err := supervisor.New(supervisor.Options{Runner: pool, Dir: dir, Defaults: supervisor.Quotas{RequestsPerMinute: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	pool.Attach(s)
	b.Cleanup(s.Close)
	return s
}

// BenchmarkProcessHop: one trivial request at a time through the
// supervisor, apps in this process versus in a host process; reports the
// p50 of each and the added cost of the hop.
func BenchmarkProcessHop(b *testing.B) {
	for _, mode := range []string{"inprocess", "process"} {
		b.Run(mode, func(b *testing.B) {
			var s *supervisor.Supervisor
			if mode == "inprocess" {
				s = inprocessSup(b)
			} else {
				s = processSup(b, 1)
			}
			deployB(b, s, "hop", hopApp)
			for i := 0; i < 200; i++ {
				serveB(s, "hop")
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if code := serveB(s, "hop"); code != 200 {
					b.Fatalf("status %d", code)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkCallHeavyManyObjects: a handler that computes and touches
// storage, 8 concurrent clients over 32 apps; in process versus two hosts.
func BenchmarkCallHeavyManyObjects(b *testing.B) {
	for _, mode := range []string{"inprocess", "process-2-hosts"} {
		b.Run(mode, func(b *testing.B) {
			var s *supervisor.Supervisor
			if mode == "inprocess" {
				s = inprocessSup(b)
			} else {
				s = processSup(b, 2)
			}
			const apps = 32
			for i := 0; i < apps; i++ {
				deployB(b, s, fmt.Sprintf("a%d", i), callHeavy)
				serveB(s, fmt.Sprintf("a%d", i))
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := b.N / 8
			for c := 0; c < 8; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if code := serveB(s, fmt.Sprintf("a%d", (c*per+i)%apps)); code != 200 {
							b.Errorf("status %d", code)
							return
						}
					}
				}(c)
			}
			wg.Wait()
			b.ReportMetric(float64(per*8)/time.Since(start).Seconds(), "req/s")
		})
	}
}

func serveB(s *supervisor.Supervisor, id string) int {
	rec := httptest.NewRecorder()
	s.ServeApp(rec, httptest.NewRequest("GET", "http://x/", nil), id, "/")
	return rec.Code
}
