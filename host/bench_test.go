package host_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/supervisor"
)

const hopApp = `export default { fetch() { return new Response("ok") } }`

// callHeavy is a handler dominated by JavaScript function calls (each one
// takes the engine's process-wide allocator lock: js-engines.md, "quickjs
// scaling problem"), then a storage write.
const callHeavy = `import { DurableObject } from "cloudflare:workers";
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
export class App extends DurableObject {
  fetch() {
    const x = fib(16);
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
	s, _ := processSupPool(b, hosts)
	return s
}

func processSupPool(b *testing.B, hosts int) (*supervisor.Supervisor, *host.Pool) {
	dir := b.TempDir()
	pool, err := newPool(filepath.Join(dir, "apps"), hosts, 256<<20, 0)
	if err != nil {
		b.Fatal(err)
	}
	return host.Supervise(b, pool, supervisor.Options{Dir: dir, Defaults: supervisor.Quotas{RequestsPerMinute: 1 << 30}}), pool
}

// cpuOf returns the CPU time (user + system) the processes have used, and
// this process's own.
func cpuOf(pids []int) (hosts, self time.Duration) {
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		hosts += time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return hosts, self
}

// BenchmarkProcessHop: one trivial request at a time through the
// supervisor, apps in this process versus in a host process; reports the
// p50 of each and the added cost of the hop.
func BenchmarkProcessHop(b *testing.B) {
	for _, mode := range []string{"inprocess", "process"} {
		b.Run(mode, func(b *testing.B) {
			var s *supervisor.Supervisor
			var pids []int
			if mode == "inprocess" {
				s = inprocessSup(b)
			} else {
				var pool *host.Pool
				s, pool = processSupPool(b, 1)
				pids = pool.PIDs()
			}
			deployB(b, s, "hop", hopApp)
			for i := 0; i < 200; i++ {
				serveB(s, "hop")
			}
			lat := make([]time.Duration, 0, b.N)
			h0, s0 := cpuOf(pids)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if code := serveB(s, "hop"); code != 200 {
					b.Fatalf("status %d", code)
				}
				lat = append(lat, time.Since(t0))
			}
			h1, s1 := cpuOf(pids)
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			// CPU per request, less sensitive than latency to a busy machine.
			b.ReportMetric(float64((s1-s0).Microseconds())/float64(b.N), "self-cpu-µs/op")
			b.ReportMetric(float64((h1-h0).Microseconds())/float64(b.N), "host-cpu-µs/op")
		})
	}
}

// loopHeavy computes without calling functions (no allocator lock), for
// comparison.
const loopHeavy = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    let x = 0;
    for (let i = 0; i < 20000; i++) x += i % 7;
    this.ctx.storage.kv.put("x", x);
    return new Response(String(this.ctx.storage.kv.get("x")));
  }
}`

// BenchmarkLoopHeavyManyObjects is BenchmarkCallHeavyManyObjects with a
// handler that loops without calls.
func BenchmarkLoopHeavyManyObjects(b *testing.B) { benchManyObjects(b, loopHeavy) }

// BenchmarkCallHeavyManyObjects: a call-heavy handler (fib(16), about
// 3,200 calls) that then touches storage, 8 concurrent clients over 32
// apps; in process versus two hosts.
func BenchmarkCallHeavyManyObjects(b *testing.B) { benchManyObjects(b, callHeavy) }

func benchManyObjects(b *testing.B, src string) {
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
				deployB(b, s, fmt.Sprintf("a%d", i), src)
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
