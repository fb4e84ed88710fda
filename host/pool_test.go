package host_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/egress"
	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/internal/confinetest"
	"github.com/warrenhq/warren/project"
	"github.com/warrenhq/warren/sandbox"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// TestMain lets the test binary be a host process: the pool re-executes it
// with WARREN_HOST_TEST_CHILD=1.
func TestMain(m *testing.M) {
	if os.Getenv("WARREN_HOST_TEST_CHILD") == "1" {
		opts, err := host.ChildFromEnv()
		if err == nil {
			if os.Getenv("WARREN_HOST_TEST_NOCONFINE") == "" {
				opts.Confine = host.Confine(opts) // tests run confined hosts, as warren serve does
			}
			opts.Confine = probeConfine(opts.Confine) // TestHostReachesOnlyItsApps
			stop := startChildProfile()
			err = host.RunChild(opts)
			stop()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newPoolSup(t *testing.T, hosts int) (*supervisor.Supervisor, *host.Pool) {
	return newPoolSupMem(t, hosts, 0)
}

func newPoolSupMem(t *testing.T, hosts int, hostMemory uint64) (*supervisor.Supervisor, *host.Pool) {
	t.Helper()
	dir := t.TempDir()
	pool, err := newPool(filepath.Join(dir, "apps"), hosts, 64<<20, hostMemory)
	if err != nil {
		t.Fatal(err)
	}
	sup := host.Supervise(t, pool, supervisor.Options{Dir: dir,
		Egress: func(allow []string) worker.Fetcher { return egress.New(true, allow) }})
	return sup, pool
}

const counter = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS w (k TEXT PRIMARY KEY)"); }
  fetch(req) {
    const u = new URL(req.url);
    if (req.method === "POST") { this.ctx.storage.sql.exec("INSERT INTO w VALUES (?)", u.searchParams.get("k")); return new Response("ok"); }
    if (u.pathname === "/check") return new Response(this.ctx.storage.sql.exec("PRAGMA integrity_check").one().integrity_check);
    if (u.pathname === "/keys") return new Response(this.ctx.storage.sql.exec("SELECT k FROM w").toArray().map(r => r.k).join(","));
    console.log("counted at", u.pathname);
    return new Response("n=" + this.ctx.storage.sql.exec("SELECT count(*) AS n FROM w").one().n + " pid-host");
  }
}`

func deploy(t *testing.T, s *supervisor.Supervisor, id, src string, egress ...string) {
	t.Helper()
	if _, _, err := s.Deploy(context.Background(), id, &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src), Egress: egress}); err != nil {
		t.Fatalf("deploy %s: %v", id, err)
	}
}

func do(s *supervisor.Supervisor, method, id, path string) (code int, body string) {
	rec := httptest.NewRecorder()
	defer func() {
		if recover() == http.ErrAbortHandler { // the body broke midway: net/http would cut the connection
			code, body = 503, "response aborted: the host died"
		}
	}()
	s.ServeApp(rec, httptest.NewRequest(method, "http://x"+path, nil), id, strings.Split(path, "?")[0])
	return rec.Code, rec.Body.String()
}

func TestAppsInHostProcesses(t *testing.T) {
	s, pool := newPoolSup(t, 2)
	deploy(t, s, "c1", counter)
	if code, body := do(s, "POST", "c1", "/?k=a"); code != 200 || body != "ok" {
		t.Fatalf("write: %d %s", code, body)
	}
	if code, body := do(s, "GET", "c1", "/x"); code != 200 || body != "n=1 pid-host" {
		t.Fatalf("read: %d %s", code, body)
	}
	// Validation runs in a host: errors come back with their position.
	_, _, err := s.Deploy(context.Background(), "c1", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.ts", "export class App {\n  fetch( {\n}")})
	if warren.ErrorCode(err) != warren.CodeBadCode || !strings.Contains(err.Error(), "app.ts:") {
		t.Fatalf("broken deploy: %v", err)
	}
	// Console output reaches the app's log in the control plane; usage is metered.
	lines, _ := s.Logs("c1", 0)
	var all []string
	for _, l := range lines {
		all = append(all, l.Level+" "+l.Message)
	}
	if !strings.Contains(strings.Join(all, "\n"), "log counted at /x") {
		t.Fatalf("logs: %q", all)
	}
	rows, err := s.Usage("c1", "all")
	if err != nil || len(rows) != 1 || rows[0].Requests != 2 || rows[0].RowsWritten != 1 || rows[0].CPUMs <= 0 {
		t.Fatalf("usage: %+v %v", rows, err)
	}
	if info, _ := s.App("c1"); !info.Running {
		t.Fatalf("not running: %+v", info)
	}
	if st := pool.Stats(); st.Hosts != 2 || st.Live != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestEgressThroughControlPlane(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "backend "+r.URL.Path) }))
	defer backend.Close()
	s, _ := newPoolSup(t, 1)
	src := fmt.Sprintf(`export default { async fetch() {
  try { const r = await fetch(%q); return new Response(await r.text()); }
  catch (e) { return new Response("DENIED " + e.message); } } }`, backend.URL+"/p")
	deploy(t, s, "closed", src)
	deploy(t, s, "open", src, strings.TrimPrefix(backend.URL, "http://")) // 127.0.0.1:port
	if _, body := do(s, "GET", "closed", "/"); !strings.HasPrefix(body, "DENIED") {
		t.Fatalf("closed: %s", body)
	}
	if _, body := do(s, "GET", "open", "/"); body != "backend /p" {
		t.Fatalf("open: %s", body)
	}
	if rows, _ := s.Usage("open", "all"); len(rows) != 1 || rows[0].Outbound != 1 {
		t.Fatalf("outbound metering: %+v", rows)
	}
}

// A host killed with SIGKILL in the middle of a write load loses no
// acknowledged write; apps on the other host keep answering throughout.
// WARREN_CRASH_ROUNDS sets the number of kills (default 1).
func TestHostCrashContained(t *testing.T) {
	s, pool := newPoolSup(t, 2)
	onA, onB := host.OneAppPerHost(pool) // one app on each host
	deploy(t, s, onA, counter)
	deploy(t, s, onB, counter)
	victim := pool.PIDs()[0]

	var mu sync.Mutex
	acked := map[string][]string{}
	var bFailures, aFailures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := onA
				if w%2 == 1 {
					id = onB
				}
				k := fmt.Sprintf("k%d", seq.Add(1))
				code, body := do(s, "POST", id, "/?k="+k)
				if code == 200 && body == "ok" {
					mu.Lock()
					acked[id] = append(acked[id], k)
					mu.Unlock()
				} else if id == onB {
					bFailures.Add(1)
					t.Errorf("app on the surviving host failed: %d %s", code, body)
				} else {
					aFailures.Add(1)
					// The client gets 503 unavailable (the app's log names the host).
					if code != 503 || !strings.Contains(body, `"code": "unavailable"`) {
						t.Errorf("app on the killed host: want a 503 unavailable, got %d %s", code, body)
					}
				}
			}
		}(w)
	}
	rounds := 1
	fmt.Sscan(os.Getenv("WARREN_CRASH_ROUNDS"), &rounds)
	for r := 0; r < rounds; r++ {
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond) // a random point of the load
		syscall.Kill(victim, syscall.SIGKILL)
		// Wait for the restart, then let the load run on the new host a while.
		deadline := time.Now().Add(20 * time.Second)
		for pool.PIDs()[0] == victim && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if pool.PIDs()[0] == victim {
			t.Fatal("the killed host was not restarted")
		}
		victim = pool.PIDs()[0]
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, id := range []string{onA, onB} {
		_, body := do(s, "GET", id, "/keys")
		have := map[string]bool{}
		for _, k := range strings.Split(body, ",") {
			have[k] = true
		}
		for _, k := range acked[id] {
			if !have[k] {
				t.Fatalf("acknowledged write %s of %s is missing after the host crash", k, id)
			}
		}
		if _, c := do(s, "GET", id, "/check"); c != "ok" {
			t.Fatalf("integrity_check of %s: %q", id, c)
		}
		if len(acked[id]) == 0 {
			t.Fatalf("no write to %s was acknowledged; the test proved nothing", id)
		}
	}
	if st := pool.Stats(); st.HostRestarts != int64(rounds) {
		t.Fatalf("restarts: %+v", st)
	}
	t.Logf("%d kills: acked %d on the killed host (%d refused during the crash), %d on the other (%d failures)", rounds, len(acked[onA]), aFailures.Load(), len(acked[onB]), bFailures.Load())
}

// A host that exhausts its memory limit (its cgroup) is killed and
// restarted; the platform carries on.
func TestHostMemoryLimit(t *testing.T) {
	if m := sandbox.ProbeCgroups(); !m.Applied {
		confinetest.Missing(t, "cgroup", m.Detail)
	}
	s, pool := newPoolSupMem(t, 1, 100<<20)
	deploy(t, s, "calm", counter)
	if code, _ := do(s, "POST", "calm", "/?k=before"); code != 200 {
		t.Fatal(code)
	}
	// The isolate may use up to 128 MiB (the platform maximum), more than the host has.
	for i := 0; i < 3; i++ {
		_, _, err := s.Deploy(context.Background(), fmt.Sprintf("hog%d", i), &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js",
			`export default { async fetch() {
  // 64 MiB each, held while the others allocate: together past the host's limit.
  const a = []; for (let i = 0; i < 8; i++) a.push(new Float64Array(1 << 20).fill(1));
  await new Promise(r => setTimeout(r, 2000));
  return new Response(String(a.length));
} }`), Limits: supervisor.Quotas{MemoryMB: 1024}})
		if err != nil {
			t.Fatal(err)
		}
	}
	victim := pool.PIDs()[0]
	// Several hogs at once: each isolate stays under its own limit, together
	// they pass the host's.
	var wg sync.WaitGroup
	var crashed atomic.Int64
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if code, body := do(s, "GET", fmt.Sprintf("hog%d", i), "/"); code == 503 && strings.Contains(body, `"code": "unavailable"`) { // a host crash, not the isolate's memory limit
				crashed.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if crashed.Load() == 0 {
		t.Fatal("the host survived three 64 MiB isolates under a 100 MiB limit")
	}
	deadline := time.Now().Add(20 * time.Second)
	for pool.PIDs()[0] == victim && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := do(s, "GET", "calm", "/keys"); code != 200 || body != "before" {
		t.Fatalf("after the host was restarted: %d %s", code, body)
	}
	if st := pool.Stats(); st.HostRestarts != 1 {
		t.Fatalf("restarts: %+v", st)
	}
}

// One-shot runs execute in a host: their logs come back to the caller's
// sink, their outbound fetches go through the run's policy in the control
// plane, and killing the hosts fails a run in flight with a 503, not the
// control plane.
func TestRunsInHosts(t *testing.T) {
	_, pool := newPoolSup(t, 2)
	var seen atomic.Value
	via := worker.FetcherFunc(func(ctx context.Context, req *http.Request) (*http.Response, error) {
		seen.Store(req.Method + " " + req.URL.String())
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("from via"))}, nil
	})
	src := `export default { async fetch(req) {
  console.log("run saw", req.method, new URL(req.url).pathname, await req.text());
  if (new URL(req.url).pathname === "/spin") { while (true) {} }
  let out;
  try { out = await (await fetch("https://example.test/q")).text(); } catch (e) { out = "DENIED " + e.message; }
  return new Response("ran " + out, { headers: { "x-run": "1" } });
} }`
	runOnce := func(out *worker.Outbound, method, path, body string) (*http.Response, []string, error) {
		var mu sync.Mutex
		var logs []string
		req := httptest.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
		resp, err := pool.RunOnce(context.Background(), &worker.LoadCode{Code: warren.SingleModule("run.js", src), Outbound: out, Limits: warren.Limits{CPU: 200 * time.Millisecond}}, req,
			func(e worker.LogEntry) { mu.Lock(); logs = append(logs, e.Message); mu.Unlock() })
		mu.Lock()
		defer mu.Unlock()
		return resp, logs, err
	}
	for i := 0; i < 4; i++ { // runs take the hosts in turn
		resp, logs, err := runOnce(&worker.Outbound{Via: via}, "POST", "/p", "payload")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ran from via" || resp.Header.Get("x-run") != "1" {
			t.Fatalf("run %d: %q %v", i, b, resp.Header)
		}
		if seen.Load() != "GET https://example.test/q" {
			t.Fatalf("outbound: %v", seen.Load())
		}
		if len(logs) != 1 || logs[0] != "run saw POST /p payload" {
			t.Fatalf("logs: %q", logs)
		}
	}
	resp, _, err := runOnce(worker.DenyAll, "GET", "/", "")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); !strings.HasPrefix(string(b), "ran DENIED") {
		t.Fatalf("denied run: %q", b)
	}
	// Limits travel with the run.
	if _, _, err := runOnce(worker.DenyAll, "GET", "/spin", ""); warren.ErrorCode(err) != warren.CodeLimit {
		t.Fatalf("busy loop: %v", err)
	}
	if n := host.RunsInFlight(pool); n != 0 {
		t.Fatalf("%d runs still registered after they ended", n)
	}
	// A run in flight when its host dies fails with 503.
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		req := httptest.NewRequest("GET", "http://localhost/spin", nil)
		_, err := pool.RunOnce(context.Background(), &worker.LoadCode{Code: warren.SingleModule("run.js", src), Outbound: worker.DenyAll, Limits: warren.Limits{CPU: time.Minute, Wall: time.Minute}}, req,
			func(worker.LogEntry) { started <- struct{}{} })
		done <- err
	}()
	<-started
	for _, pid := range pool.RunPIDs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := <-done; warren.ErrorCode(err) != warren.CodeUnavailable {
		t.Fatalf("run whose host died: %v", err)
	}
	if n := host.RunsInFlight(pool); n != 0 {
		t.Fatalf("%d runs still registered after their host died", n)
	}
}

// The counters the hosts keep (cold starts, isolates created) restart from
// zero with a new host process; the pool accumulates them, so the sums it
// reports to /metrics never go down when a host is killed.
func TestHostCountersSurviveRestart(t *testing.T) {
	s, pool := newPoolSup(t, 1)
	deploy(t, s, "obj", counter)
	deploy(t, s, "stateless", `export default { fetch() { return new Response("hi") } }`)
	for _, id := range []string{"obj", "stateless"} {
		if code, _ := do(s, "GET", id, "/keys"); code != 200 {
			t.Fatalf("%s: %d", id, code)
		}
	}
	before := pool.Stats()
	if before.ColdStarts == 0 || before.Isolates == 0 {
		t.Fatalf("no cold start or isolate counted: %+v", before)
	}
	victim := pool.PIDs()[0]
	syscall.Kill(victim, syscall.SIGKILL)
	deadline := time.Now().Add(20 * time.Second)
	for pool.PIDs()[0] == victim && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	after := pool.Stats()
	if after.ColdStarts < before.ColdStarts || after.Isolates < before.Isolates || after.Evictions < before.Evictions {
		t.Fatalf("counters went down across a host restart: before %+v, after %+v", before, after)
	}
	for _, id := range []string{"obj", "stateless"} { // they start again on the new host
		if code, _ := do(s, "GET", id, "/keys"); code != 200 {
			t.Fatalf("%s after the restart: %d", id, code)
		}
	}
	if again := pool.Stats(); again.ColdStarts <= before.ColdStarts || again.Isolates <= before.Isolates {
		t.Fatalf("the new host's counts are not added: before %+v, now %+v", before, again)
	}
}

// One-shot runs (anyone's code, with the run API open) never run in a host
// that holds tenant apps: they have hosts of their own, apart from the
// apps' processes.
func TestRunsNeverOnAppHosts(t *testing.T) {
	s, pool := newPoolSup(t, 2)
	onA, onB := host.OneAppPerHost(pool)
	for _, id := range []string{onA, onB} { // both app hosts hold a live app
		deploy(t, s, id, counter)
		if code, body := do(s, "POST", id, "/?k=a"); code != 200 || body != "ok" {
			t.Fatalf("%s: %d %s", id, code, body)
		}
	}
	src := `export default { async fetch() { await new Promise(r => setTimeout(r, 400)); return new Response("slept") } }`
	const runs = 4
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for i := 0; i < runs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := pool.RunOnce(context.Background(), &worker.LoadCode{Code: warren.SingleModule("run.js", src), Outbound: worker.DenyAll}, httptest.NewRequest("GET", "http://localhost/", nil), nil)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "slept" {
				errs <- fmt.Errorf("run answered %q", b)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		on, n := host.RunsOnAppHosts(pool)
		if on > 0 {
			t.Errorf("%d of %d runs in flight are on a host that runs apps", on, n)
			break
		}
		if n == runs || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	apps := map[int]bool{}
	for _, pid := range pool.PIDs() {
		apps[pid] = true
	}
	if len(pool.RunPIDs()) == 0 {
		t.Fatal("the pool has no host for runs")
	}
	for _, pid := range pool.RunPIDs() {
		if apps[pid] {
			t.Errorf("run host %d is also an apps host (%v)", pid, pool.PIDs())
		}
	}
}

// A wrangler project (warren serve --config) runs in a host: its objects
// keep their data across a host crash, its logs reach the control plane,
// and its outbound fetches follow its policy there.
func TestProjectInHost(t *testing.T) {
	dir := t.TempDir()
	src := `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  fetch() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (1)");
    return new Response(String(this.ctx.storage.sql.exec("SELECT count(*) AS n FROM c").one().n));
  }
}
export default { async fetch(req, env) {
  const u = new URL(req.url);
  if (u.pathname === "/out") { try { await fetch("http://example.test/"); return new Response("fetched"); } catch (e) { return new Response("DENIED"); } }
  console.log("project saw", u.pathname, env.GREETING);
  return env.COUNTER.get(env.COUNTER.idFromName(u.pathname)).fetch(req);
} }`
	cfg := &project.Config{Name: "p", Main: "index.js", Vars: map[string]any{"GREETING": "hi"},
		Migrations: []project.Migration{{Tag: "v1", NewSqliteClasses: []string{"Counter"}}}}
	cfg.DurableObjects.Bindings = []project.DOBinding{{Name: "COUNTER", ClassName: "Counter"}}
	var mu sync.Mutex
	var logs []string
	exe, _ := os.Executable()
	pool, err := host.NewPool(host.PoolOptions{AppsDir: dir, MemoryBudget: 64 << 20,
		Command: func() *exec.Cmd { return exec.Command(exe, "-test.run=^$") },
		Env:     []string{"WARREN_HOST_TEST_CHILD=1"},
		Project: &host.ProjectSpec{Config: cfg, Code: warren.SingleModule("index.js", src), Outbound: worker.DenyAll,
			Logs: func(e worker.LogEntry) { mu.Lock(); logs = append(logs, e.Message); mu.Unlock() }}})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	get := func(path string) (int, string) {
		resp, err := pool.Project().Fetch(context.Background(), httptest.NewRequest("GET", path, nil))
		if err != nil {
			return warren.ErrorCode(err).HTTPStatus(), err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i := 1; i <= 3; i++ {
		if code, body := get("/alice"); code != 200 || body != fmt.Sprint(i) {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	if _, body := get("/out"); body != "DENIED" {
		t.Fatalf("egress: %s", body)
	}
	mu.Lock()
	if len(logs) == 0 || logs[0] != "project saw /alice hi" {
		t.Fatalf("logs: %q", logs)
	}
	mu.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "objects")); err != nil {
		t.Fatalf("the objects' databases are not in the data folder: %v", err)
	}
	old := pool.PIDs()[0]
	syscall.Kill(old, syscall.SIGKILL)
	for deadline := time.Now().Add(30 * time.Second); ; {
		code, body := get("/alice")
		if code == 200 {
			if body != "4" {
				t.Fatalf("after the host restarted: %s, want 4 (the three acknowledged writes kept)", body)
			}
			break
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("while the host restarts: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pool.PIDs()[0] == old {
		t.Fatal("the host was not restarted")
	}
}
