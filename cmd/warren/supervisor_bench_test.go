package main

// Benchmarks of apps through the built-in supervisor (issue 4), over HTTP on
// loopback against a real server: Warren in process (ServeCommand, as
// `warren serve` runs it), and, when bench/workerd has been installed
// (npm ci --prefix bench/workerd), workerd as a child process running the
// same supervisor + facets pattern (bench/workerd/supervisor.js), so that
// both are measured side by side in one run. Each benchmark has a "warren"
// and a "workerd" sub-benchmark; the workerd one is skipped when the binary
// is missing (or set WARREN_BENCH_WORKERD to a workerd binary).
//
// They report their own figures (b.ReportMetric) and check no timing.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchAppCode is the app every benchmark deploys: a Durable Object class
// App whose fetch increments a counter in its own SQLite database and
// returns it. Plain JavaScript, so workerd loads the same text.
const benchAppCode = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  }
  fetch(request) {
    const n = this.ctx.storage.sql.exec("INSERT INTO c VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n").one().n;
    return new Response(String(n));
  }
}
`

// uniqueApp returns the app's code made unique to id (a comment), so that
// every new app's code is compiled, as a newly generated app's would be.
func uniqueApp(id string) string { return benchAppCode + "// app " + id + "\n" }

const benchAdminToken = "bench-admin-token-0123456789"

// appServer is a running server with a supervisor: Warren or workerd.
type appServer struct {
	name   string
	base   string
	client *http.Client
	// rss returns the server's resident memory in bytes (after a GC for
	// Warren, which runs in this process).
	rss func(tb testing.TB) int64
	// goHeap returns the Go heap in use (Warren only; nil for workerd).
	goHeap func() int64
}

// startWarren starts `warren serve` in process with a memory budget for
// live apps of budgetMiB (0: the default). WARREN_BENCH_ISOLATION, when set,
// is passed as --isolation (else the server's default). Its RSS is this
// process's plus that of its child processes (host processes under
// --isolation=process).
func startWarren(b *testing.B, budgetMiB int) *appServer {
	args := benchIsolation("--listen", "127.0.0.1:0", "--admin-token", benchAdminToken)
	if budgetMiB > 0 {
		args = append(args, "--app-memory", strconv.Itoa(budgetMiB))
	}
	base := startServeWith(b, b.TempDir(), io.Discard, args...)
	return &appServer{name: "warren", base: base, client: &http.Client{}, rss: func(tb testing.TB) int64 {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(200 * time.Millisecond)
		return treeRSS(tb, strconv.Itoa(os.Getpid()))
	}, goHeap: func() int64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapInuse)
	}}
}

// workerdBinary returns the workerd binary to compare with, or "".
func workerdBinary() string {
	if p := os.Getenv("WARREN_BENCH_WORKERD"); p != "" {
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "..", "bench", "workerd", "node_modules", ".bin", "workerd"))
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// startWorkerd runs workerd with bench/workerd/config.capnp on a listener
// made here (passed as fd 3), storage in a temporary folder. It skips the
// benchmark when workerd is not installed.
func startWorkerd(b *testing.B) *appServer {
	bin := workerdBinary()
	if bin == "" {
		b.Skip("workerd is not installed: run `npm ci --prefix bench/workerd` (or set WARREN_BENCH_WORKERD)")
	}
	config, _ := filepath.Abs(filepath.Join("..", "..", "bench", "workerd", "config.capnp"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // f keeps the socket open
	storage := b.TempDir()
	cmd := exec.Command(bin, "serve", config, "--experimental", "--socket-fd", "http=3", "--directory-path", "do-storage="+storage)
	cmd.ExtraFiles = []*os.File{f}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start workerd: %v", err)
	}
	f.Close()
	pid := cmd.Process.Pid
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s := &appServer{name: "workerd", base: "http://" + addr, client: &http.Client{}, rss: func(tb testing.TB) int64 {
		time.Sleep(200 * time.Millisecond)
		return treeRSS(tb, strconv.Itoa(pid))
	}}
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := s.client.Get(s.base + "/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("workerd did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// eachServer runs fn as a sub-benchmark against Warren and against workerd.
func eachServer(b *testing.B, budgetMiB int, fn func(b *testing.B, s *appServer)) {
	b.Run("warren", func(b *testing.B) { fn(b, startWarren(b, budgetMiB)) })
	b.Run("workerd", func(b *testing.B) { fn(b, startWorkerd(b)) })
}

// treeRSS sums VmRSS over pid and its descendants (found through
// /proc/<pid>/task/<tid>/children), in bytes.
func treeRSS(tb testing.TB, pid string) int64 {
	total := procRSS(tb, pid)
	for _, c := range childPIDs(pid) {
		total += treeRSSQuiet(c)
	}
	return total
}

// treeRSSQuiet is treeRSS for descendants, which may exit while read.
func treeRSSQuiet(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			total = kb << 10
		}
	}
	for _, c := range childPIDs(pid) {
		total += treeRSSQuiet(c)
	}
	return total
}

func childPIDs(pid string) []string {
	tasks, _ := os.ReadDir("/proc/" + pid + "/task")
	var out []string
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/children")
		if err == nil {
			out = append(out, strings.Fields(string(b))...)
		}
	}
	return out
}

// procRSS reads VmRSS of /proc/<pid>/status in bytes.
func procRSS(tb testing.TB, pid string) int64 {
	return procStatus(tb, pid, "VmRSS:")
}

func procStatus(tb testing.TB, pid, field string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("parse %s %q: %v", field, rest, err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/%s/status", field, pid)
	return 0
}

// do sends one request and checks its status.
func (s *appServer) do(tb testing.TB, method, path, body string, want int) string {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/javascript")
	}
	req.Header.Set("Authorization", "Bearer "+benchAdminToken)
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		tb.Fatalf("%s %s on %s: status %d, want %d: %s", method, path, s.name, resp.StatusCode, want, got)
	}
	return string(got)
}

// deploy deploys a new app under id with code unique to it.
func (s *appServer) deploy(tb testing.TB, id string) {
	s.do(tb, http.MethodPut, "/api/v1/apps/"+id, uniqueApp(id), http.StatusCreated)
}

// touch sends one request to the app and returns the body.
func (s *appServer) touch(tb testing.TB, id string) string {
	return s.do(tb, http.MethodGet, "/apps/"+id+"/", "", http.StatusOK)
}

// deployTouched deploys n apps, prefix0 to prefix<n-1>, one at a time, and
// touches each once.
func (s *appServer) deployTouched(tb testing.TB, prefix string, n int) {
	for i := 0; i < n; i++ {
		id := prefix + strconv.Itoa(i)
		s.deploy(tb, id)
		s.touch(tb, id)
	}
}

// latencies collects per-iteration durations and reports percentiles.
type latencies []time.Duration

func (l latencies) pct(p float64) float64 {
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)) * p)
	if i >= len(s) {
		i = len(s) - 1
	}
	return float64(s[i].Nanoseconds()) / 1e6
}

func (l latencies) report(b *testing.B, prefix string) {
	if len(l) == 0 {
		return
	}
	b.ReportMetric(l.pct(0.5), prefix+"p50-ms")
	b.ReportMetric(l.pct(0.99), prefix+"p99-ms")
}

// benchRunID keeps app ids unique across the runs of one process.
var benchRunID atomic.Int64

func appPrefix() string { return fmt.Sprintf("r%d-", benchRunID.Add(1)) }

// BenchmarkAppDeployFirstRequest (figure 1): deploy a new app (new code)
// and serve its first request, PUT then GET, one app per iteration. A 20 ms
// pause (not timed) between iterations lets background work finish (the
// pool of pre-booted VMs refill), so this is the latency one deploy sees on
// an otherwise idle server; Apps1000Deployed is the back-to-back figure.
// Target p50 <= 3 ms; workerd ~13 ms (brief).
func BenchmarkAppDeployFirstRequest(b *testing.B) {
	eachServer(b, 0, func(b *testing.B, s *appServer) {
		pre := appPrefix()
		s.deploy(b, pre+"warm")
		s.touch(b, pre+"warm")
		var total, dep, first latencies
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			time.Sleep(20 * time.Millisecond)
			id := pre + strconv.Itoa(i)
			b.StartTimer()
			t0 := time.Now()
			s.deploy(b, id)
			t1 := time.Now()
			if got := s.touch(b, id); got != "1" {
				b.Fatalf("first request: %q", got)
			}
			t2 := time.Now()
			total, dep, first = append(total, t2.Sub(t0)), append(dep, t1.Sub(t0)), append(first, t2.Sub(t1))
		}
		b.StopTimer()
		total.report(b, "")
		b.ReportMetric(dep.pct(0.5), "deploy-p50-ms")
		b.ReportMetric(first.pct(0.5), "first-p50-ms")
	})
}

// BenchmarkAppCounter (figure 2): one client increments one app's counter
// (a SQLite upsert in the facet's database) through the supervisor, one
// request at a time. Target p50 <= 0.35 ms; workerd ~1.4 ms (brief).
func BenchmarkAppCounter(b *testing.B) {
	eachServer(b, 0, func(b *testing.B, s *appServer) {
		id := appPrefix() + "counter"
		s.deploy(b, id)
		for i := 0; i < 100; i++ {
			s.touch(b, id)
		}
		lat := make(latencies, 0, b.N)
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			s.touch(b, id)
			lat = append(lat, time.Since(t0))
		}
		el := time.Since(start)
		b.StopTimer()
		lat.report(b, "")
		b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	})
}

// BenchmarkAppCounter16Clients64Apps: 16 clients increment the counters of
// 64 apps (each client its own connection, apps in turn). Not one of issue
// 4's figures; the brief's workerd figure is ~665 req/s.
func BenchmarkAppCounter16Clients64Apps(b *testing.B) {
	eachServer(b, 0, func(b *testing.B, s *appServer) {
		pre := appPrefix()
		for o := 0; o < 64; o++ {
			s.deploy(b, pre+strconv.Itoa(o))
			s.touch(b, pre+strconv.Itoa(o))
		}
		const clients = 16
		per := (b.N + clients - 1) / clients
		lat := make([]latencies, clients)
		errc := make(chan error, clients)
		b.ResetTimer()
		start := time.Now()
		for c := 0; c < clients; c++ {
			go func(c int) {
				client := &http.Client{Transport: &http.Transport{}}
				defer client.CloseIdleConnections()
				for i := 0; i < per; i++ {
					t0 := time.Now()
					resp, err := client.Get(s.base + "/apps/" + pre + strconv.Itoa((c*per+i)%64) + "/")
					if err != nil {
						errc <- err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errc <- fmt.Errorf("status %d", resp.StatusCode)
						return
					}
					lat[c] = append(lat[c], time.Since(t0))
				}
				errc <- nil
			}(c)
		}
		for c := 0; c < clients; c++ {
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(start)
		b.StopTimer()
		var all latencies
		for _, l := range lat {
			all = append(all, l...)
		}
		all.report(b, "")
		b.ReportMetric(float64(per*clients)/el.Seconds(), "req/s")
	})
}

// benchManyApps is the number of apps of AppRSS1000 and Apps1000Deployed.
const benchManyApps = 1000

// BenchmarkAppRSS1000 (figure 3): the resident memory each app costs once
// deployed and touched once (its facet live: isolate and open database),
// over 1,000 apps: RSS after minus RSS before (after a GC for Warren), per
// app. Measured once per invocation: run with -benchtime 1x. The default
// memory budget (512 MiB) keeps all 1,000 live. Target <= 250 KiB;
// workerd ~1.9 MiB (brief).
func BenchmarkAppRSS1000(b *testing.B) {
	eachServer(b, 0, func(b *testing.B, s *appServer) {
		pre := appPrefix()
		s.deployTouched(b, pre+"warm", 10) // one-time costs out of the baseline
		b.StopTimer()
		before := s.rss(b)
		var heap0 int64
		if s.goHeap != nil {
			heap0 = s.goHeap()
		}
		b.StartTimer()
		t0 := time.Now()
		s.deployTouched(b, pre, benchManyApps)
		el := time.Since(t0)
		b.StopTimer()
		after := s.rss(b)
		b.ReportMetric(float64(after-before)/1024/benchManyApps, "KiB/app")
		if s.goHeap != nil {
			b.ReportMetric(float64(s.goHeap()-heap0)/1024/benchManyApps, "GoHeapKiB/app")
		}
		b.ReportMetric(float64(after)/(1<<20), "RSS-MiB")
		b.ReportMetric(el.Seconds(), "s/1000-deployed+touched")
		b.ReportMetric(0, "ns/op")
	})
}

// BenchmarkApps1000Deployed (figure 4): 1,000 new apps (each with its own
// code) deployed one at a time, back to back; each deploy returns when the
// app is ready to serve (Warren compiles and checks the code first).
// Target <= 2 s; workerd ~15 s (brief).
func BenchmarkApps1000Deployed(b *testing.B) {
	eachServer(b, 0, func(b *testing.B, s *appServer) {
		pre := appPrefix()
		s.deploy(b, pre+"warm")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			for o := 0; o < benchManyApps; o++ {
				s.deploy(b, fmt.Sprintf("%s%d-%d", pre, i, o))
			}
			b.ReportMetric(time.Since(t0).Seconds(), "s/1000")
		}
		b.StopTimer()
		// The deployed apps serve: check a few.
		for o := 0; o < benchManyApps; o += 250 {
			if got := s.touch(b, fmt.Sprintf("%s0-%d", pre, o)); got != "1" {
				b.Fatalf("app %d: %q", o, got)
			}
		}
		b.ReportMetric(0, "ns/op")
	})
}

// benchEvictApps and benchEvictBudgetMiB are the size of AppsEvicted10000:
// 10,000 apps against a 64 MiB budget (128 live apps at the supervisor's
// estimate of 512 KiB each).
const (
	benchEvictApps      = 10000
	benchEvictBudgetMiB = 64
)

// BenchmarkAppsEvicted10000 (figure 5, Warren only: workerd has no memory
// budget): 10,000 apps deployed and touched once each, one at a time, with
// --app-memory 64; the supervisor closes least recently used idle apps past
// the budget. Reports the peak RSS growth over the baseline (sampled every
// 10 ms) against the budget, the final growth, and warren_evictions_total
// from /metrics, the Go heap's growth (what stays per app whether or not
// it is live; this process's), and the host processes' share of the final
// growth (under --isolation=process). Run with -benchtime 1x.
func BenchmarkAppsEvicted10000(b *testing.B) {
	s := startWarren(b, benchEvictBudgetMiB)
	pre := appPrefix()
	s.deployTouched(b, pre+"warm", 10)
	base := s.rss(b)
	self := strconv.Itoa(os.Getpid())
	selfBase := procRSS(b, self) // this process: the control plane under --isolation=process
	heap0 := s.goHeap()
	var peak atomic.Int64
	peak.Store(base)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if r := treeRSS(b, self); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	b.ResetTimer()
	t0 := time.Now()
	s.deployTouched(b, pre, benchEvictApps)
	el := time.Since(t0)
	b.StopTimer()
	close(stop)
	<-stopped
	after := s.rss(b)
	selfAfter := procRSS(b, self)
	metrics := s.do(b, http.MethodGet, "/metrics", "", http.StatusOK)
	b.ReportMetric(float64(peak.Load()-base)/(1<<20), "peak-growth-MiB")
	b.ReportMetric(float64(after-base)/(1<<20), "final-growth-MiB")
	b.ReportMetric(float64(s.goHeap()-heap0)/(1<<20), "final-GoHeap-growth-MiB")
	// The host processes' share of the final growth (0 in process).
	b.ReportMetric(float64((after-selfAfter)-(base-selfBase))/(1<<20), "final-hosts-growth-MiB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(benchEvictBudgetMiB, "budget-MiB")
	b.ReportMetric(promValue(b, metrics, "warren_evictions_total"), "evictions")
	b.ReportMetric(promValue(b, metrics, "warren_active_objects"), "live-apps")
	b.ReportMetric(el.Seconds(), "s/10000")
	b.ReportMetric(0, "ns/op")
}

// promValue returns the value of an unlabelled series in a Prometheus text
// exposition.
func promValue(tb testing.TB, text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				tb.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	tb.Fatalf("no %s in /metrics", name)
	return 0
}
