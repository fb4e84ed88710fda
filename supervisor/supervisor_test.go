package supervisor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/egress"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

const counterJS = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (k TEXT PRIMARY KEY, v INTEGER)");
    const v = this.ctx.storage.sql.exec("INSERT INTO c VALUES ('n', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v").one().v;
    return new Response("v1 " + v + " " + new URL(req.url).pathname);
  }
}`

// counterV2 reads the same table: a new version keeps the data.
const counterV2 = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const v = this.ctx.storage.sql.exec("SELECT v FROM c WHERE k = 'n'").one().v;
    return new Response("v2 sees " + v);
  }
}`

func newSup(t *testing.T, opts supervisor.Options) *supervisor.Supervisor {
	t.Helper()
	opts.Runtime = testrt.Runtime(t)
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := supervisor.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func deploy(t *testing.T, s *supervisor.Supervisor, id, src string) *supervisor.Version {
	t.Helper()
	v, _, err := s.Deploy(context.Background(), id, &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src)})
	if err != nil {
		t.Fatalf("deploy %s: %v", id, err)
	}
	return v
}

// get sends a request to app id and returns status and body.
func get(t *testing.T, s *supervisor.Supervisor, id, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeApp(rec, httptest.NewRequest("GET", "http://x/apps/"+id+path, nil), id, path)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestDeployServeSwapRollbackDelete(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	deploy(t, s, "shop", counterJS)
	for i := 1; i <= 3; i++ {
		if code, body, _ := get(t, s, "shop", "/cart"); code != 200 || body != fmt.Sprintf("v1 %d /cart", i) {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	// A new version serves the next request, on the same data.
	v2 := deploy(t, s, "shop", counterV2)
	if v2.Version != 2 {
		t.Fatalf("version %d", v2.Version)
	}
	if _, body, _ := get(t, s, "shop", "/"); body != "v2 sees 3" {
		t.Fatalf("after swap: %q", body)
	}
	// A broken deploy is refused with the position, and v2 keeps serving.
	_, _, err := s.Deploy(context.Background(), "shop", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.ts", "export class App {\n  fetch( {\n}")})
	if err == nil || !strings.Contains(err.Error(), "app.ts:") {
		t.Fatalf("broken deploy: %v", err)
	}
	// So is code without the class it names.
	_, _, err = s.Deploy(context.Background(), "shop", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", "export class Other {}; export class Another {}"), ClassName: "App"})
	if err == nil || !strings.Contains(err.Error(), `no class named "App"`) && !strings.Contains(err.Error(), `does not export a class named "App"`) {
		t.Fatalf("missing class: %v", err)
	}
	if _, body, _ := get(t, s, "shop", "/"); body != "v2 sees 3" {
		t.Fatalf("after refused deploys: %q", body)
	}
	// Rollback to v1: the counter goes on from the data.
	v, err := s.Rollback("shop", 0)
	if err != nil || v.Version != 1 {
		t.Fatalf("rollback: %v %v", v, err)
	}
	if _, body, _ := get(t, s, "shop", "/"); body != "v1 4 /" {
		t.Fatalf("after rollback: %q", body)
	}
	info, err := s.App("shop")
	if err != nil || info.Version != 1 || len(info.Versions) != 2 {
		t.Fatalf("info: %+v %v", info, err)
	}
	// Delete: 404, data gone, id reusable from scratch.
	if err := s.Delete("shop"); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, s, "shop", "/"); code != 404 || !strings.Contains(body, `no app \"shop\"`) {
		t.Fatalf("after delete: %d %s", code, body)
	}
	deploy(t, s, "shop", counterJS)
	if _, body, _ := get(t, s, "shop", "/"); body != "v1 1 /" {
		t.Fatalf("redeployed: %q", body)
	}
}

func TestUnknownAndInvalidApps(t *testing.T) {
	dir := t.TempDir()
	s := newSup(t, supervisor.Options{Dir: dir})
	before := listFiles(t, dir)
	if code, body, _ := get(t, s, "ghost", "/"); code != 404 || !strings.Contains(body, `"code": "not_found"`) {
		t.Fatalf("unknown: %d %s", code, body)
	}
	for _, id := range []string{"..", "../etc", "A", "a_b", "-a", "a-", strings.Repeat("a", 64), "", "a/b", "a.b", "ü"} {
		if code, body, _ := get(t, s, id, "/"); code != 400 || !strings.Contains(body, "invalid app id") {
			t.Fatalf("id %q: %d %s", id, code, body)
		}
		if _, _, err := s.Deploy(context.Background(), id, &supervisor.Deployment{WorkerCode: *warren.SingleModule("a.js", counterJS)}); err == nil {
			t.Fatalf("deploy %q accepted", id)
		}
	}
	if after := listFiles(t, dir); after != before {
		t.Fatalf("unknown apps touched the disk:\nbefore %s\nafter  %s", before, after)
	}
}

func listFiles(t *testing.T, dir string) string {
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !strings.Contains(p, "supervisor.sqlite") {
			names = append(names, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return strings.Join(names, ",")
}

// An app cannot reach another app's data, or the supervisor's, whatever
// SQL or KV it tries.
func TestAppIsolation(t *testing.T) {
	dir := t.TempDir()
	s := newSup(t, supervisor.Options{Dir: dir})
	deploy(t, s, "victim", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS secrets (s TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO secrets VALUES ('victim-secret')");
    this.ctx.storage.kv.put("secret", "victim-kv");
    return new Response("stored");
  }
}`)
	if _, body, _ := get(t, s, "victim", "/"); body != "stored" {
		t.Fatal(body)
	}
	victimDB, _ := filepath.Glob(filepath.Join(dir, "apps", "victim", "facets", "*", "facet.sqlite"))
	if len(victimDB) != 1 {
		t.Fatalf("victim db: %v", victimDB)
	}
	attacks := map[string]string{
		"attach victim":      fmt.Sprintf(`ATTACH DATABASE '%s' AS v`, victimDB[0]),
		"attach supervisor":  fmt.Sprintf(`ATTACH DATABASE '%s' AS v`, filepath.Join(dir, "supervisor.sqlite")),
		"attach uri":         fmt.Sprintf(`ATTACH DATABASE 'file:%s?mode=ro' AS v`, victimDB[0]),
		"vacuum into":        fmt.Sprintf(`VACUUM INTO '%s'`, filepath.Join(dir, "apps", "victim", "x.sqlite")),
		"load extension":     `SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')`,
		"pragma writable":    `PRAGMA writable_schema = ON`,
		"pragma database":    `PRAGMA database_list`,
		"readfile":           `SELECT readfile('/etc/passwd')`,
		"sqlite_master edit": `UPDATE sqlite_master SET sql = '' WHERE 1`,
	}
	var src strings.Builder
	src.WriteString(`import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const q = decodeURIComponent(new URL(req.url).searchParams.get("q"));
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec(q).toArray())); }
    catch (e) { return new Response("REFUSED " + e.message); }
  }
}`)
	deploy(t, s, "attacker", src.String())
	for name, q := range attacks {
		rec := httptest.NewRecorder()
		s.ServeApp(rec, httptest.NewRequest("GET", "http://x/?q="+urlQuery(q), nil), "attacker", "/")
		body := rec.Body.String()
		if !strings.HasPrefix(body, "REFUSED") {
			t.Errorf("%s: not refused: %s", name, body)
		}
		if strings.Contains(body, "victim-secret") || strings.Contains(body, "victim-kv") {
			t.Errorf("%s: leaked: %s", name, body)
		}
	}
	// Its own KV and tables hold nothing of the victim's.
	deploy(t, s, "attacker", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    const kv = [...this.ctx.storage.kv.list()];
    const tables = this.ctx.storage.sql.exec("SELECT name FROM sqlite_master").toArray();
    return new Response(JSON.stringify({ kv, tables, secret: this.ctx.storage.kv.get("secret") ?? null }));
  }
}`)
	if _, body, _ := get(t, s, "attacker", "/"); strings.Contains(body, "victim") || strings.Contains(body, "secrets") {
		t.Fatalf("attacker sees: %s", body)
	}
	// The victim's data is intact.
	deploy(t, s, "victim", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() { return new Response(this.ctx.storage.sql.exec("SELECT s FROM secrets").one().s + " " + this.ctx.storage.kv.get("secret")); }
}`)
	if _, body, _ := get(t, s, "victim", "/"); body != "victim-secret victim-kv" {
		t.Fatalf("victim: %q", body)
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "&", "%26", "#", "%23", "+", "%2B", "?", "%3F", "'", "%27", "=", "%3D")
	return r.Replace(s)
}

func TestQuotas(t *testing.T) {
	s := newSup(t, supervisor.Options{Defaults: supervisor.Quotas{RequestsPerMinute: 1000, CPUMs: 2000}})
	deploy(t, s, "calm", counterJS)

	// Requests per minute: 429 with Retry-After, other apps unaffected.
	_, _, err := s.Deploy(context.Background(), "busy", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", counterJS), Limits: supervisor.Quotas{RequestsPerMinute: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var last int
	var hdr http.Header
	var body string
	for i := 0; i < 4; i++ {
		last, body, hdr = get(t, s, "busy", "/")
	}
	// The minute may roll over between requests: then try once more.
	if last != 429 {
		for i := 0; i < 4; i++ {
			last, body, hdr = get(t, s, "busy", "/")
		}
	}
	if last != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(body, "requests per minute") {
		t.Fatalf("rate limit: %d %q %v", last, body, hdr)
	}
	if code, _, _ := get(t, s, "calm", "/"); code != 200 {
		t.Fatalf("calm app affected: %d", code)
	}
	// A one-module deploy (no room for limits) keeps the app's quotas.
	d, _ := supervisor.ParseDeployment("application/javascript", []byte(counterJS))
	if _, _, err := s.Deploy(context.Background(), "busy", d); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.App("busy"); info.Limits.RequestsPerMinute != 3 {
		t.Fatalf("module deploy reset the quotas: %+v", info.Limits)
	}

	// CPU per request.
	_, _, err = s.Deploy(context.Background(), "spin", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject { fetch() { for (;;) {} } }`), Limits: supervisor.Quotas{CPUMs: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, s, "spin", "/"); code != 503 || !strings.Contains(body, "CPU time") {
		t.Fatalf("cpu: %d %s", code, body)
	}
	// Memory.
	_, _, err = s.Deploy(context.Background(), "hog", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject { fetch() { const a = []; for (;;) a.push(new Array(100000).fill(1)); } }`), Limits: supervisor.Quotas{MemoryMB: 16}})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, s, "hog", "/"); code != 503 || !strings.Contains(body, "memory") {
		t.Fatalf("memory: %d %s", code, body)
	}
	// Storage.
	_, _, err = s.Deploy(context.Background(), "hoard", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (b BLOB)");
    try { for (let i = 0; i < 100; i++) this.ctx.storage.sql.exec("INSERT INTO t VALUES (randomblob(100000))"); }
    catch (e) { return new Response("FULL " + e.message, { status: 507 }); }
    return new Response("fit");
  }
}`), Limits: supervisor.Quotas{StorageBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, s, "hoard", "/"); code != 507 || !strings.Contains(body, "quota") {
		t.Fatalf("storage: %d %s", code, body)
	}
	// Through all of it the calm app served, with its data.
	if code, body, _ := get(t, s, "calm", "/"); code != 200 || body != "v1 2 /" {
		t.Fatalf("calm app: %d %q", code, body)
	}
}

func TestEgress(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from backend") }))
	defer backend.Close()
	// Tests allow loopback; warren serve uses supervisor.PublicEgress.
	s := newSup(t, supervisor.Options{Egress: func(allow []string) worker.Fetcher { return egress.New(true, allow) }})
	src := fmt.Sprintf(`export default { async fetch() {
  try { const r = await fetch(%q); return new Response(await r.text()); }
  catch (e) { return new Response("DENIED " + e.message); }
} }`, backend.URL)
	deploy(t, s, "closed", src)
	if _, body, _ := get(t, s, "closed", "/"); !strings.HasPrefix(body, "DENIED") {
		t.Fatalf("default egress: %s", body)
	}
	_, _, err := s.Deploy(context.Background(), "open", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src), Egress: []string{strings.TrimPrefix(backend.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, body, _ := get(t, s, "open", "/"); body != "from backend" {
		t.Fatalf("allowed egress: %s", body)
	}
	_, _, err = s.Deploy(context.Background(), "other", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src), Egress: []string{"api.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, body, _ := get(t, s, "other", "/"); !strings.HasPrefix(body, "DENIED") {
		t.Fatalf("host not in the list: %s", body)
	}
	rows, err := s.Usage("open", "all")
	if err != nil || len(rows) != 1 || rows[0].Outbound != 1 {
		t.Fatalf("outbound metering: %+v %v", rows, err)
	}
}

// N requests are metered as N, with rows and CPU, and usage survives a
// restart, as do the apps and their data.
func TestMeteringExactAndDurable(t *testing.T) {
	dir := t.TempDir()
	s := newSup(t, supervisor.Options{Dir: dir})
	deploy(t, s, "m", counterJS)
	deploy(t, s, "n", counterJS)
	const N = 37
	var wg sync.WaitGroup
	for i := 0; i < N; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, _ := get(t, s, "m", "/"); code != 200 {
				t.Errorf("status %d", code)
			}
		}()
	}
	wg.Wait()
	get(t, s, "n", "/")
	rows, err := s.Usage("m", "day")
	if err != nil || len(rows) != 1 {
		t.Fatalf("usage: %+v %v", rows, err)
	}
	r := rows[0]
	// Each request runs CREATE TABLE IF NOT EXISTS, an upsert (1 row written, 1 read by RETURNING).
	if r.Requests != N || r.Errors != 0 || r.RowsWritten != N || r.RowsRead != N || r.CPUMs <= 0 || r.WallMs <= 0 || r.StorageBytes <= 0 {
		t.Fatalf("metered: %+v", r)
	}
	s.Close()
	s2 := newSup(t, supervisor.Options{Dir: dir})
	all, err := s2.Usage("", "all")
	if err != nil || len(all) != 2 || all[0].App != "m" || all[0].Requests != N || all[1].Requests != 1 {
		t.Fatalf("after restart: %+v %v", all, err)
	}
	if _, body, _ := get(t, s2, "m", "/"); body != fmt.Sprintf("v1 %d /", N+1) {
		t.Fatalf("data after restart: %q", body)
	}
	if one, err := s2.Usage("n", "all"); err != nil || len(one) != 1 || one[0].App != "n" || one[0].Requests != 1 {
		t.Fatalf("one app's usage: %+v %v", one, err)
	}
	var csv strings.Builder
	supervisor.WriteUsageCSV(&csv, all)
	if !strings.HasPrefix(csv.String(), "app,period,requests,") || !strings.Contains(csv.String(), fmt.Sprintf("m,all,%d,", N)) {
		t.Fatalf("csv: %s", csv.String())
	}
	if _, err := s2.Usage("", "week"); err == nil {
		t.Fatal("unknown period accepted")
	}
}

func TestLogs(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	_, _, err := s.Deploy(context.Background(), "logger", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.ts", `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req: Request): Response {
    const path: string = new URL(req.url).pathname;
    console.log("hello from", path);
    if (path === "/throw") {
      throw new RangeError("bad range");
    }
    return new Response("ok");
  }
}`)})
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel, err := s.FollowLogs("logger")
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	get(t, s, "logger", "/a")
	if code, _, _ := get(t, s, "logger", "/throw"); code != 500 {
		t.Fatalf("throw: %d", code)
	}
	lines, _ := s.Logs("logger", 0)
	var got []string
	for _, l := range lines {
		got = append(got, l.Level+": "+l.Message+fmt.Sprintf(" %s %s %d", l.Method, l.Path, l.Status))
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"deploy: version 1", "log: hello from /a", "request:  GET /a 200", "exception: Uncaught RangeError: bad range", "app.ts:7:", "request:  GET /throw 500"} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
	// The follower got the same lines as they happened.
	var followed []string
	timeout := time.After(10 * time.Second)
	for len(followed) < 6 {
		select {
		case l := <-ch:
			followed = append(followed, l.Level)
		case <-timeout:
			t.Fatalf("follower got %v", followed)
		}
	}
	if strings.Join(followed, ",") != "log,request,log,exception,error,request" {
		t.Fatalf("followed %v", followed)
	}
	if last, _ := s.Logs("logger", 1); len(last) != 1 || last[0].Level != "request" {
		t.Fatalf("limit 1: %+v", last)
	}
}

func TestLogBufferBounded(t *testing.T) {
	s := newSup(t, supervisor.Options{LogLines: 10})
	deploy(t, s, "chatty", `export default { fetch() { for (let i = 0; i < 50; i++) console.log("line", i); return new Response("ok"); } }`)
	get(t, s, "chatty", "/")
	lines, _ := s.Logs("chatty", 0)
	if len(lines) != 10 || lines[9].Level != "request" || lines[8].Message != "line 49" {
		t.Fatalf("%d lines, last %+v", len(lines), lines[len(lines)-1])
	}
}

func TestEvictionUnderBudget(t *testing.T) {
	// A budget for one live app: touching others closes the idle ones,
	// which come back from disk with their data.
	s := newSup(t, supervisor.Options{MemoryBudget: 1})
	for _, id := range []string{"a", "b", "c"} {
		deploy(t, s, id, counterJS)
	}
	for round := 1; round <= 3; round++ {
		for _, id := range []string{"a", "b", "c"} {
			if _, body, _ := get(t, s, id, "/"); body != fmt.Sprintf("v1 %d /", round) {
				t.Fatalf("%s round %d: %q", id, round, body)
			}
		}
	}
	var rec = httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := rec.Body.String()
	if !strings.Contains(m, `warren_app_requests_total{app="a"} 3`) || strings.Contains(m, "warren_evictions_total 0\n") {
		t.Fatalf("metrics:\n%s", m)
	}
}

func TestHooks(t *testing.T) {
	var mu sync.Mutex
	var after []supervisor.RequestUsage
	s := newSup(t, supervisor.Options{Hooks: supervisor.Hooks{
		BeforeRequest: func(ctx context.Context, app string, req *supervisor.RequestInfo) error {
			if req.Path == "/admin" {
				return &warren.Error{Code: warren.CodeNotFound, Message: "no admin here"}
			}
			return nil
		},
		AfterRequest: func(app string, req *supervisor.RequestInfo, u supervisor.RequestUsage) {
			mu.Lock()
			after = append(after, u)
			mu.Unlock()
		},
		Quotas: func(app string, q supervisor.Quotas) supervisor.Quotas {
			q.RequestsPerMinute = 1000
			return q
		},
	}})
	deploy(t, s, "h", counterJS)
	if code, body, _ := get(t, s, "h", "/admin"); code != 404 || !strings.Contains(body, "no admin here") {
		t.Fatalf("before hook: %d %s", code, body)
	}
	get(t, s, "h", "/")
	mu.Lock()
	defer mu.Unlock()
	if len(after) != 1 || after[0].Status != 200 || after[0].RowsWritten != 1 || after[0].CPU <= 0 {
		t.Fatalf("after hook: %+v", after)
	}
	info, _ := s.App("h")
	if info.Limits.RequestsPerMinute != 1000 {
		t.Fatalf("quota hook: %+v", info.Limits)
	}
}

func TestParseDeployment(t *testing.T) {
	d, err := supervisor.ParseDeployment("application/json", []byte(`{"mainModule":"a.js","modules":{"a.js":"export default {}"},"className":"X","limits":{"cpuMs":5},"egress":["a.com"]}`))
	if err != nil || d.ClassName != "X" || d.Limits.CPUMs != 5 || d.Egress[0] != "a.com" {
		t.Fatalf("%+v %v", d, err)
	}
	for _, bad := range []struct{ ct, body, want string }{
		{"application/json", `{"mainModule":"a.js","modules":{"a.js":"x"},"limit":{}}`, "unknown field"},
		{"application/json", `{`, "not valid"},
		{"image/png", `x`, "unsupported Content-Type"},
	} {
		if _, err := supervisor.ParseDeployment(bad.ct, []byte(bad.body)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %s: %v", bad.ct, bad.body, err)
		}
	}
	s := newSup(t, supervisor.Options{})
	for _, q := range []supervisor.Quotas{{StorageBytes: -1}, {MemoryMB: 1}, {CPUMs: -5}, {RequestsPerMinute: -1}} {
		if _, _, err := s.Deploy(context.Background(), "q", &supervisor.Deployment{WorkerCode: *warren.SingleModule("a.js", counterJS), Limits: q}); err == nil {
			t.Errorf("quota %+v accepted", q)
		}
	}
	if _, _, err := s.Deploy(context.Background(), "q", &supervisor.Deployment{WorkerCode: *warren.SingleModule("a.js", counterJS), Egress: []string{"http://a.com/x"}}); err == nil {
		t.Error("egress URL accepted")
	}
	if _, _, err := s.Deploy(context.Background(), "q", &supervisor.Deployment{WorkerCode: *warren.SingleModule("a.js", "export const x = 1")}); err == nil || !strings.Contains(err.Error(), "neither a Durable Object class nor a default fetch") {
		t.Errorf("nothing to run: %v", err)
	}
	_, _, err = s.Deploy(context.Background(), "q", &supervisor.Deployment{WorkerCode: *warren.SingleModule("a.js", "throw new Error('at load');\nexport default {}")})
	if warren.ErrorCode(err) != warren.CodeBadCode || !strings.Contains(err.Error(), "at load") {
		t.Errorf("top-level throw: %v", err)
	}
	b, _ := json.Marshal(s.Apps())
	if string(b) != "[]" {
		t.Fatalf("refused deploys created apps: %s", b)
	}
}

// A flush that fails (here its commit, rolled back as on a full disk or a
// locked database) loses no usage: the next flush writes all of it, once.
func TestUsageKeptWhenFlushFails(t *testing.T) {
	s := newSup(t, supervisor.Options{FlushInterval: time.Hour})
	deploy(t, s, "m", counterJS)
	deploy(t, s, "n", counterJS)
	for i := 0; i < 3; i++ {
		get(t, s, "m", "/")
	}
	get(t, s, "n", "/")
	supervisor.FailUsageCommits(s, 1, fmt.Errorf("database is locked"))
	supervisor.Flush(s) // fails
	get(t, s, "m", "/") // counted after the failed flush
	rows, err := s.Usage("", "all")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"m": 4, "n": 1}
	if len(rows) != 2 {
		t.Fatalf("usage after a failed flush: %+v", rows)
	}
	for _, r := range rows {
		if r.Requests != want[r.App] || r.RowsWritten != want[r.App] || r.CPUMs <= 0 {
			t.Errorf("usage of %s after a failed flush: %+v, want %d requests", r.App, r, want[r.App])
		}
	}
	// Nothing is written twice.
	supervisor.Flush(s)
	if rows, _ := s.Usage("m", "all"); len(rows) != 1 || rows[0].Requests != 4 {
		t.Errorf("usage after another flush: %+v", rows)
	}
}

// One app's log holds at most LogBytes, each line at most LogLineBytes
// (cut with a marker), whatever comes in: here 1 MiB entries, as a host
// may send.
func TestLogBytesBounded(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	deploy(t, s, "flood", `export default { fetch() { return new Response("ok") } }`)
	big := strings.Repeat("é", 1<<19) // 1 MiB, two bytes a character
	for i := 0; i < 2000; i++ {
		s.WorkerLog("flood", worker.LogEntry{Time: time.Now(), Level: "log", Message: fmt.Sprint(i, " ", big)})
	}
	lines, _ := s.Logs("flood", 0)
	total := 0
	for _, l := range lines {
		total += len(l.Message)
		if len(l.Message) > supervisor.DefaultLogLineBytes {
			t.Fatalf("a line of %d bytes kept", len(l.Message))
		}
	}
	if total > supervisor.DefaultLogBytes || len(lines) < 32 {
		t.Fatalf("%d lines of %d bytes kept, want at most %d bytes and the last dozens of lines", len(lines), total, supervisor.DefaultLogBytes)
	}
	last := lines[len(lines)-1].Message
	if !strings.HasPrefix(last, "1999 éé") || !strings.HasSuffix(last, "bytes cut: a log line keeps 16384]") || !utf8.ValidString(last) {
		t.Fatalf("last line: %.40q … %q", last, last[len(last)-60:])
	}
}

// What bounds the log is the stack after the worker maps it to the app's
// modules: a long module name in every frame of a deep stack is counted at
// its full length.
func TestLogBoundedAfterStackMapping(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	long := strings.Repeat("m", 500) + ".js" // the longest a module name may be (512)
	code := &warren.WorkerCode{MainModule: "app.js", Modules: map[string]warren.Module{
		"app.js": {Kind: warren.ModuleESM, Text: `import { deep } from "./` + long + `";
export default { fetch() { for (let i = 0; i < 3; i++) { try { deep(60) } catch (e) { console.error(e.stack) } } return new Response("ok") } }`},
		long: {Kind: warren.ModuleESM, Text: "export function deep(n) {\n  if (n === 0) throw new Error('deep');\n  return deep(n - 1) + 1;\n}"},
	}}
	if _, _, err := s.Deploy(context.Background(), "names", &supervisor.Deployment{WorkerCode: *code}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if code, body, _ := get(t, s, "names", "/"); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	lines, _ := s.Logs("names", 0)
	total, mapped := 0, 0
	for _, l := range lines {
		total += len(l.Message)
		if len(l.Message) > supervisor.DefaultLogLineBytes {
			t.Fatalf("a line of %d bytes kept", len(l.Message))
		}
		if strings.Contains(l.Message, long+":2:") {
			mapped++
		}
	}
	if total > supervisor.DefaultLogBytes || mapped < 10 {
		t.Fatalf("%d lines (%d with mapped frames) of %d bytes kept", len(lines), mapped, total)
	}
}

// Code that could serve no request is refused at deploy, naming why and
// the fix, and the running version keeps serving; code whose handler is
// there, however it is written, is accepted.
func TestDeployRefusesCodeWithoutHandler(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	deploy(t, s, "h", `export default { fetch() { return new Response("v1") } }`)
	const do = `import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";` + "\n"
	for _, c := range []struct{ src, want string }{
		{``, "its default export is an object without a fetch() function"},
		{`// nothing here`, "its default export is an object without a fetch() function"},
		{`export default {}`, "its default export is an object without a fetch() function"},
		{`export default { fetch: 42 }`, "its default export is an object without a fetch() function"},
		{`export default { get fetch() { throw new Error("no") } }`, "without a fetch() function"},
		{`export default class { fetch() { return new Response("x") } }`, "does not extend WorkerEntrypoint"},
		{do + `export default class extends WorkerEntrypoint {}`, "extends WorkerEntrypoint but has no fetch() method"},
		{do + `export default class extends DurableObject { fetch() { return new Response("x") } }`, "the default export is a Durable Object class"},
		{`export class App {}`, "class App, the app's class, has no fetch() method"},
		{do + `export class App extends DurableObject { hello() { return 1 } }`, "class App, the app's class, has no fetch() method"},
		{do + `export class Counter extends DurableObject {}` + "\nexport default { fetch() { return new Response(\"x\") } }", "class Counter, the app's class, has no fetch() method"},
		{do + `export default function fetch() { return new Response("fn") }`, "neither a Durable Object class nor a default fetch handler"},
	} {
		_, _, err := s.Deploy(context.Background(), "h", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", c.src)})
		if warren.ErrorCode(err) != warren.CodeBadCode || !strings.Contains(err.Error(), c.want) {
			t.Errorf("deploy of %q: %v, want bad_code %q", c.src, err, c.want)
		}
		if code, body, _ := get(t, s, "h", "/"); code != 200 || body != "v1" {
			t.Fatalf("after the refused deploy of %q: %d %s", c.src, code, body)
		}
	}
	// A getter that spins is stopped by the CPU limit and refused.
	_, _, err := s.Deploy(context.Background(), "h", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", `export default { get fetch() { for (;;) {} } }`), Limits: supervisor.Quotas{CPUMs: 50}})
	if warren.ErrorCode(err) != warren.CodeBadCode {
		t.Errorf("spinning getter: %v", err)
	}
	for i, src := range []string{
		`export default { async fetch() { return new Response("ok") } }`,
		`export default { get fetch() { return () => new Response("ok") } }`,
		`export default new Proxy({}, { get() { return () => new Response("ok") } })`,
		`module.exports = { fetch() { return new Response("ok") } }`,
		do + `export default class extends WorkerEntrypoint { fetch() { return new Response("ok") } }`,
		do + `export default class extends WorkerEntrypoint { fetch = () => new Response("ok") }`,
		`export class App { fetch() { return new Response("ok") } }`,
		`export class App { fetch = () => new Response("ok") }`,
		do + "class Base extends DurableObject { fetch() { return new Response(\"ok\") } }\nexport class App extends Base {}",
		do + "class Base extends DurableObject { constructor(c, e) { super(c, e); this.fetch = () => new Response(\"ok\") } }\nexport class App extends Base {}",
	} {
		id := fmt.Sprintf("ok%d", i)
		if _, _, err := s.Deploy(context.Background(), id, &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src)}); err != nil {
			t.Errorf("deploy of %q: %v", src, err)
			continue
		}
		if code, body, _ := get(t, s, id, "/"); code != 200 || body != "ok" {
			t.Errorf("%q: %d %s", src, code, body)
		}
	}
}

// Every deploy format keeps the app's quotas and egress unless it sets
// them: a JSON bundle without limits or egress (as warren deploy sends a
// .tsx or .jsx file) keeps them like a one-module deploy does.
func TestDeployFormatsKeepSettings(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	parse := func(ct, body string) *supervisor.Deployment {
		t.Helper()
		d, err := supervisor.ParseDeployment(ct, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	const handler = `export default { fetch() { return new Response("ok") } }`
	bundle := func(extra string) string {
		b, _ := json.Marshal(map[string]any{"mainModule": "app.js", "modules": map[string]string{"app.js": handler}})
		return strings.TrimSuffix(string(b), "}") + extra + "}"
	}
	set := supervisor.Quotas{CPUMs: 50, RequestsPerMinute: 600}
	check := func(what string, want supervisor.Quotas, egress string) {
		t.Helper()
		info, err := s.App("k")
		if err != nil {
			t.Fatal(err)
		}
		if info.Overrides != want || strings.Join(info.Egress, ",") != egress {
			t.Errorf("after %s: limits %+v egress %q, want %+v %q", what, info.Overrides, info.Egress, want, egress)
		}
	}
	deployAs := func(what string, d *supervisor.Deployment) {
		t.Helper()
		if _, _, err := s.Deploy(context.Background(), "k", d); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	deployAs("a bundle with settings", parse("application/json", bundle(`,"limits":{"cpuMs":50,"requestsPerMinute":600},"egress":["api.example.com"]`)))
	check("a bundle with settings", set, "api.example.com")
	tsx, _ := json.Marshal(map[string]any{"mainModule": "app.tsx", "modules": map[string]string{"app.tsx": `export default { fetch(): Response { return new Response(<b>ok</b> ? "ok" : "") } }; const React = { createElement: () => 1 };`}})
	for _, f := range []struct{ what, ct, body string }{
		{"a bundle without settings", "application/json", bundle("")},
		{"a .tsx bundle (warren deploy app.tsx)", "application/json", string(tsx)},
		{"a bundle with null settings", "application/json", bundle(`,"limits":null,"egress":null`)},
		{"one JavaScript module", "application/javascript", handler},
		{"one TypeScript module", "application/typescript", handler},
	} {
		deployAs(f.what, parse(f.ct, f.body))
		check(f.what, set, "api.example.com")
	}
	// What a bundle sets, it sets: limits alone, then egress alone.
	deployAs("limits {}", parse("application/json", bundle(`,"limits":{}`)))
	check("limits {}", supervisor.Quotas{}, "api.example.com")
	deployAs("egress []", parse("application/json", bundle(`,"limits":{"cpuMs":50},"egress":[]`)))
	check("egress []", supervisor.Quotas{CPUMs: 50}, "")
	// A new app deployed without settings gets the defaults and no network.
	if _, _, err := s.Deploy(context.Background(), "fresh", parse("application/json", bundle(""))); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.App("fresh"); info.Overrides != (supervisor.Quotas{}) || len(info.Egress) != 0 {
		t.Errorf("fresh app: %+v", info)
	}
}
