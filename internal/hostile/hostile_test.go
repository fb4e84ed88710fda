package hostile_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/supervisor"
)

const token = "hostile-admin-token-0123456789"

// verbose prints every answer (HOSTILE_VERBOSE=1).
var verbose = os.Getenv("HOSTILE_VERBOSE") != ""

// only runs just the cases whose names match one of its comma-separated
// globs (HOSTILE_CASES=proto-*), to iterate on a few cases; the whole
// corpus runs without it.
var only = os.Getenv("HOSTILE_CASES")

func selected(name string) bool {
	if only == "" {
		return true
	}
	for _, g := range strings.Split(only, ",") {
		if ok, _ := filepath.Match(strings.TrimSpace(g), name); ok {
			return true
		}
	}
	return false
}

// secret is what the bystander keeps in its SQL table and KV; no hostile
// case may ever see it.
const secret = "bystander-secret-7f3a9c"

// readTimeout is the server's http.Server.ReadTimeout: warren serve uses
// 60 s; the corpus uses 3 s so that the slow-upload case ends quickly.
const readTimeout = 3 * time.Second

// server is a real Warren server (supervisor + gateway) on loopback, wired
// as `warren serve` wires it: platform default quotas, public-only egress.
type server struct {
	base string
	port string
	dir  string
	sup  *supervisor.Supervisor
}

// TestMain lets the test binary be a host process (the pool re-executes it
// with WARREN_HOST_TEST_CHILD=1), confined as warren serve confines hosts.
func TestMain(m *testing.M) {
	if os.Getenv("WARREN_HOST_TEST_CHILD") == "1" {
		if err := host.Main(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// isolation is where the corpus's apps and runs execute: in host processes
// as warren serve's default on Linux, or in the test process with
// WARREN_HOSTILE_ISOLATION=inprocess.
func isolation() string {
	if v := os.Getenv("WARREN_HOSTILE_ISOLATION"); v != "" {
		return v
	}
	if runtime.GOOS == "linux" {
		return "process"
	}
	return "inprocess"
}

func startServer(t *testing.T) *server {
	t.Helper()
	rt := testrt.Runtime(t)
	dir := t.TempDir()
	opts := supervisor.Options{Runtime: rt, Dir: dir, Defaults: supervisor.DefaultQuotas, Egress: supervisor.PublicEgress}
	var pool *host.Pool
	if isolation() == "process" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		pool, err = host.NewPool(host.PoolOptions{Hosts: 2, AppsDir: filepath.Join(dir, "apps"), MemoryBudget: 256 << 20,
			Command: func() *exec.Cmd { return exec.Command(exe, "-test.run=^$") },
			Env:     []string{"WARREN_HOST_TEST_CHILD=1"}})
		if err != nil {
			t.Fatal(err)
		}
		opts.Runner = pool
	}
	sup, err := supervisor.New(opts)
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		t.Fatal(err)
	}
	gw := &gateway.Server{Loader: loader.New(rt, loader.Options{Limits: warren.DefaultLimits}), Log: slog.New(slog.DiscardHandler), Apps: sup, AdminToken: token}
	if pool != nil {
		pool.Attach(sup)
		gw.Runs = pool
	}
	srv := httptest.NewUnstartedServer(gw.Handler())
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Config.ReadTimeout = readTimeout
	srv.Config.IdleTimeout = 120 * time.Second
	srv.Config.MaxHeaderBytes = 64 << 10
	srv.Start()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		sup.Close()
	})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return &server{base: srv.URL, port: port, dir: dir, sup: sup}
}

// tryCase runs one case, then checks that the server and the bystander are
// still healthy; it returns the case's result for the table.
func tryCase(t *testing.T, s *server, name, what string, run func(*server) error) string {
	t.Helper()
	res := "pass"
	if err := run(s); err != nil {
		t.Errorf("%s (%s): %v", name, what, err)
		res = "FAIL"
	}
	if err := s.healthy(); err != nil {
		t.Errorf("after %s: server or bystander unhealthy: %v", name, err)
		res = "FAIL (unhealthy after)"
	}
	return res
}

var client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}

// result is what one request got.
type result struct {
	status  int
	body    string
	header  http.Header
	bodyErr error // reading the body failed (the server aborted it)
	err     error // no response at all
}

func do(method, url string, header http.Header, body io.Reader) result {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return result{err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, berr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return result{status: resp.StatusCode, body: string(b), header: resp.Header, bodyErr: berr}
}

func (s *server) admin(method, path, ctype string, body []byte) result {
	h := http.Header{"Authorization": {"Bearer " + token}}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	return do(method, s.base+path, h, bytes.NewReader(body))
}

// deployJSON deploys a JSON bundle.
func (s *server) deployJSON(id string, bundle map[string]any) result {
	b, _ := json.Marshal(bundle)
	return s.admin("PUT", "/api/v1/apps/"+id, "application/json", b)
}

// ---------------------------------------------------------------------------
// Expectations: `status=503 body~"CPU time" body!~"secret" body="x" bodyerr
// header:Name~"v" len>=N len<=N linelen<=N requestid log~"text"` (linelen:
// the body's longest line). An app's client sees a failure's code (and a
// limit's name) with a request id, not its text: `requestid` checks that the
// error names the id of the response's Warren-Request-Id header, `log~` that
// the app's log has text on a line of that request (app cases only).

type check struct {
	kind, arg, want string
}

func parseExpect(s string) ([]check, error) {
	var out []check
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		i := strings.IndexAny(s, "=~!<> ")
		key := s
		if i >= 0 {
			key = s[:i]
		}
		if key == "bodyerr" || key == "requestid" {
			out = append(out, check{kind: key})
			s = s[len(key):]
			continue
		}
		if i < 0 {
			return nil, fmt.Errorf("bad expectation %q", s)
		}
		rest := s[i:]
		var op string
		for _, o := range []string{"!~", "!=", ">=", "<=", "=", "~"} {
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("bad operator in %q", s)
		}
		rest = rest[len(op):]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("bad string in %q: %v", s, err)
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			j := strings.IndexByte(rest, ' ')
			if j < 0 {
				j = len(rest)
			}
			val, rest = rest[:j], rest[j:]
		}
		out = append(out, check{kind: key, arg: op, want: val})
		s = rest
	}
	return out, nil
}

func (r result) verify(checks []check) error {
	if r.err != nil {
		return fmt.Errorf("no response: %v", r.err)
	}
	var errs []string
	for _, c := range checks {
		switch {
		case c.kind == "bodyerr":
			if r.bodyErr == nil {
				errs = append(errs, "the body was complete; want it aborted")
			}
		case c.kind == "requestid":
			var e struct {
				Error struct {
					RequestID string `json:"requestId"`
				} `json:"error"`
			}
			json.Unmarshal([]byte(r.body), &e)
			if rid := r.header.Get("Warren-Request-Id"); rid == "" || e.Error.RequestID != rid {
				errs = append(errs, fmt.Sprintf("the error's requestId %q is not the response's Warren-Request-Id %q", e.Error.RequestID, rid))
			}
		case c.kind == "log":
			// checked by the case, which can read the app's log (logged)
		case c.kind == "status":
			if (strconv.Itoa(r.status) == c.want) != (c.arg == "=") {
				errs = append(errs, fmt.Sprintf("status %d, want %s%s", r.status, c.arg, c.want))
			}
		case c.kind == "body" && c.arg == "=":
			if r.body != c.want {
				errs = append(errs, fmt.Sprintf("body %q, want %q", r.body, c.want))
			}
		case c.kind == "body" && c.arg == "~":
			if !strings.Contains(r.body, c.want) {
				errs = append(errs, fmt.Sprintf("body lacks %q", c.want))
			}
		case c.kind == "body" && c.arg == "!~":
			if strings.Contains(r.body, c.want) {
				errs = append(errs, fmt.Sprintf("body has %q", c.want))
			}
		case c.kind == "len":
			n, _ := strconv.Atoi(c.want)
			if c.arg == ">=" && len(r.body) < n || c.arg == "<=" && len(r.body) > n {
				errs = append(errs, fmt.Sprintf("body length %d, want %s %d", len(r.body), c.arg, n))
			}
		case c.kind == "linelen":
			n, _ := strconv.Atoi(c.want)
			longest := 0
			for _, l := range strings.Split(r.body, "\n") {
				longest = max(longest, len(l))
			}
			if c.arg == ">=" && longest < n || c.arg == "<=" && longest > n {
				errs = append(errs, fmt.Sprintf("longest line %d bytes, want %s %d", longest, c.arg, n))
			}
		case strings.HasPrefix(c.kind, "header:"):
			v := strings.Join(r.header.Values(strings.TrimPrefix(c.kind, "header:")), ",")
			if c.arg == "~" && !strings.Contains(v, c.want) || c.arg == "=" && v != c.want || c.arg == "!~" && strings.Contains(v, c.want) {
				errs = append(errs, fmt.Sprintf("header %s = %q, want %s %q", c.kind, v, c.arg, c.want))
			}
		default:
			errs = append(errs, fmt.Sprintf("unknown check %s%s", c.kind, c.arg))
		}
	}
	if len(errs) > 0 {
		body := r.body
		if len(body) > 600 {
			body = body[:600] + "…"
		}
		return fmt.Errorf("%s\n    got %d %q (body error %v)", strings.Join(errs, "; "), r.status, body, r.bodyErr)
	}
	return nil
}

// ---------------------------------------------------------------------------
// App cases: testdata/hostile/<case>.js or .ts. The header (leading `//`
// lines) says what the case is and what it must get:
//
//	// hostile: what it tries
//	// deploy: {"limits": {"cpuMs": 50}, "egress": ["*"]}   (merged into the bundle)
//	// deploy-expect: status=400 body~"..."                  (default status=201)
//	// request: GET /path [body="..."] [header:Name="v"] [sleep=300]  (any number, in order)
//	// expect: status=503 body~"CPU time"                    (for the request before)
//	// logs: len<=1200000 linelen<=17000                     (the app's log, GET /api/v1/apps/{case}/logs, after the requests)
//
// __BASE__ and __PORT__ in the source are replaced by the server's URL and
// port.

type request struct {
	method, path string
	body         string
	header       http.Header
	sleep        time.Duration // before sending
	expect       []check
	expectText   string
}

type appCase struct {
	name, file, what string
	deploy           map[string]any
	deployExpect     []check
	deployText       string
	source           string
	requests         []*request
	logsExpect       []check
	logsText         string
}

func loadCases(t *testing.T) []*appCase {
	files, _ := filepath.Glob("../../testdata/hostile/*.[jt]s")
	sort.Strings(files)
	var cases []*appCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &appCase{file: f, name: strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), source: string(b), deployText: "status=201"}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(line, "//") {
				break
			}
			key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "//")), ":")
			if !ok {
				continue
			}
			val = strings.TrimSpace(val)
			switch key {
			case "hostile":
				c.what = val
			case "deploy":
				if err := json.Unmarshal([]byte(val), &c.deploy); err != nil {
					t.Fatalf("%s: deploy: %v", f, err)
				}
			case "deploy-expect":
				c.deployText = val
			case "request":
				method, rest, _ := strings.Cut(val, " ")
				path, opts, _ := strings.Cut(strings.TrimSpace(rest), " ")
				r := &request{method: method, path: path, header: http.Header{}}
				ops, err := parseExpect(opts)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for _, o := range ops {
					switch {
					case o.kind == "body":
						r.body = o.want
					case strings.HasPrefix(o.kind, "header:"):
						r.header.Set(strings.TrimPrefix(o.kind, "header:"), o.want)
					case o.kind == "sleep":
						ms, _ := strconv.Atoi(o.want)
						r.sleep = time.Duration(ms) * time.Millisecond
					}
				}
				c.requests = append(c.requests, r)
			case "logs":
				c.logsText = val
				if c.logsExpect, err = parseExpect(val); err != nil {
					t.Fatalf("%s: logs: %v", f, err)
				}
			case "expect":
				if len(c.requests) == 0 {
					t.Fatalf("%s: expect before any request", f)
				}
				r := c.requests[len(c.requests)-1]
				r.expectText = strings.TrimSpace(r.expectText + " " + val)
			}
		}
		var err2 error
		if c.deployExpect, err2 = parseExpect(c.deployText); err2 != nil {
			t.Fatalf("%s: %v", f, err2)
		}
		for _, r := range c.requests {
			if r.expect, err2 = parseExpect(r.expectText); err2 != nil {
				t.Fatalf("%s: %v", f, err2)
			}
			if len(r.expect) == 0 {
				t.Fatalf("%s: request %s %s has no expectation", f, r.method, r.path)
			}
		}
		if c.what == "" || (len(c.requests) == 0 && c.deployText == "status=201") {
			t.Fatalf("%s: needs a `// hostile:` line and a request or a refused deploy", f)
		}
		cases = append(cases, c)
	}
	return cases
}

func (c *appCase) run(s *server) error {
	src := strings.NewReplacer("__BASE__", s.base, "__PORT__", s.port).Replace(c.source)
	mod := "app.js"
	if strings.HasSuffix(c.file, ".ts") {
		mod = "app.ts"
	}
	bundle := map[string]any{"mainModule": mod, "modules": map[string]any{mod: src}}
	for k, v := range c.deploy {
		if k == "modules" { // extra modules beside the case's own
			for name, m := range v.(map[string]any) {
				bundle["modules"].(map[string]any)[name] = m
			}
			continue
		}
		bundle[k] = v
	}
	if err := s.deployJSON(c.name, bundle).verify(c.deployExpect); err != nil {
		return fmt.Errorf("deploy: %v", err)
	}
	for i, r := range c.requests {
		path := strings.NewReplacer("__BASE__", s.base, "__PORT__", s.port).Replace(r.path)
		if r.sleep > 0 {
			time.Sleep(r.sleep)
		}
		got := do(r.method, s.base+"/apps/"+c.name+path, r.header, strings.NewReader(r.body))
		if verbose {
			fmt.Printf("%s %s %s: %d %.300q %v %v\n", c.name, r.method, r.path, got.status, got.body, got.bodyErr, got.err)
		}
		if err := got.verify(r.expect); err != nil {
			return fmt.Errorf("request %d (%s %s): %v", i+1, r.method, r.path, err)
		}
		if err := s.logged(c.name, got, r.expect); err != nil {
			return fmt.Errorf("request %d (%s %s): %v", i+1, r.method, r.path, err)
		}
	}
	if len(c.logsExpect) > 0 {
		if err := s.admin("GET", "/api/v1/apps/"+c.name+"/logs", "", nil).verify(c.logsExpect); err != nil {
			return fmt.Errorf("logs: %v", err)
		}
	}
	return nil
}

// logged checks that every answer carries a request id and, for each
// `log~"text"` check, that the app's log has text on a line of that
// request (the error line with the whole message and stack).
func (s *server) logged(app string, got result, checks []check) error {
	if got.err != nil {
		return nil
	}
	rid := got.header.Get("Warren-Request-Id")
	if rid == "" {
		return fmt.Errorf("no Warren-Request-Id header (status %d)", got.status)
	}
	var lines []supervisor.LogLine
	for _, c := range checks {
		if c.kind != "log" {
			continue
		}
		if lines == nil {
			r := s.admin("GET", "/api/v1/apps/"+app+"/logs", "", nil)
			dec := json.NewDecoder(strings.NewReader(r.body))
			for {
				var l supervisor.LogLine
				if dec.Decode(&l) != nil {
					break
				}
				lines = append(lines, l)
			}
		}
		found := false
		for _, l := range lines {
			if l.RequestID == rid && (c.arg == "~" && strings.Contains(l.Message, c.want)) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("the app's log has no line of request %s with %q (%d lines)", rid, c.want, len(lines))
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// The bystander: a SQL counter deployed first, hit every few milliseconds
// while the hostile cases run. Every answer must be the next number.

const bystanderJS = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS c (k TEXT PRIMARY KEY, v INTEGER)");
    const p = new URL(req.url).pathname;
    if (p === "/inc") return new Response(String(sql.exec("INSERT INTO c VALUES ('n', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v").one().v));
    if (p === "/get") return new Response(String(sql.exec("SELECT v FROM c WHERE k = 'n'").toArray()[0]?.v ?? 0));
    if (p === "/secret") {
      sql.exec("CREATE TABLE IF NOT EXISTS secrets (s TEXT)");
      if (req.method === "POST") { sql.exec("INSERT INTO secrets VALUES (?)", "` + secret + `"); this.ctx.storage.kv.put("secret", "` + secret + `"); }
      return new Response(sql.exec("SELECT s FROM secrets").one().s + " " + this.ctx.storage.kv.get("secret"));
    }
    return new Response("no route", { status: 404 });
  }
}`

type bystander struct {
	s     *server
	mu    sync.Mutex
	n     int // increments acknowledged
	errs  []string
	lat   map[string][]time.Duration
	phase string
	stop  chan struct{}
	done  chan struct{}
}

func (b *bystander) loop() {
	defer close(b.done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
		}
		start := time.Now()
		r := do("GET", b.s.base+"/apps/bystander/inc", nil, nil)
		d := time.Since(start)
		b.mu.Lock()
		if r.err != nil || r.status != 200 || r.body != strconv.Itoa(b.n+1) {
			if len(b.errs) < 20 {
				b.errs = append(b.errs, fmt.Sprintf("during %s: want %d, got %d %q %v", b.phase, b.n+1, r.status, r.body, r.err))
			}
			if n, err := strconv.Atoi(r.body); err == nil && r.status == 200 {
				b.n = n // count what the app counted, so one error is reported once
			}
		} else {
			b.n++
		}
		b.lat[b.phase] = append(b.lat[b.phase], d)
		b.mu.Unlock()
	}
}

func (b *bystander) setPhase(p string) {
	b.mu.Lock()
	b.phase = p
	b.mu.Unlock()
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}

// healthy checks the server and the bystander between cases.
func (s *server) healthy() error {
	if r := do("GET", s.base+"/healthz", nil, nil); r.err != nil || r.status != 200 {
		return fmt.Errorf("healthz: %d %v", r.status, r.err)
	}
	if r := s.admin("GET", "/api/v1/apps/bystander", "", nil); r.err != nil || r.status != 200 || !strings.Contains(r.body, `"id": "bystander"`) {
		return fmt.Errorf("admin API: %d %.200s %v", r.status, r.body, r.err)
	}
	if r := do("GET", s.base+"/apps/bystander/secret", nil, nil); r.status != 200 || r.body != secret+" "+secret {
		return fmt.Errorf("bystander data: %d %q %v", r.status, r.body, r.err)
	}
	return nil
}

// ---------------------------------------------------------------------------

func TestHostileCorpus(t *testing.T) {
	cases := loadCases(t)
	special := specialCases()
	if n := len(cases) + len(special); n < 40 {
		t.Fatalf("the corpus has %d cases; it should have at least 40", n)
	}
	s := startServer(t)
	if r := s.deployJSON("bystander", map[string]any{"mainModule": "app.js", "modules": map[string]string{"app.js": bystanderJS}, "limits": map[string]any{"requestsPerMinute": 1000000}}); r.status != 201 {
		t.Fatalf("bystander deploy: %d %s", r.status, r.body)
	}
	if r := do("POST", s.base+"/apps/bystander/secret", nil, nil); r.status != 200 || r.body != secret+" "+secret {
		t.Fatalf("bystander secret: %d %q", r.status, r.body)
	}
	b := &bystander{s: s, lat: map[string][]time.Duration{}, phase: "before", stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	time.Sleep(1500 * time.Millisecond) // the baseline
	b.setPhase("during")

	type row struct{ name, what, expect, result string }
	var rows []row
	start := time.Now()
	for _, c := range cases {
		if !selected(c.name) {
			continue
		}
		var exp []string
		if c.deployText != "status=201" {
			exp = append(exp, "deploy: "+c.deployText)
		}
		for _, r := range c.requests {
			exp = append(exp, r.method+" "+r.path+": "+r.expectText)
		}
		if c.logsText != "" {
			exp = append(exp, "logs: "+c.logsText)
		}
		rows = append(rows, row{c.name, c.what, strings.Join(exp, "; "), tryCase(t, s, c.name, c.what, c.run)})
	}
	for _, c := range special {
		if !selected(c.name) {
			continue
		}
		rows = append(rows, row{c.name, c.what, c.expect, tryCase(t, s, c.name, c.what, c.run)})
	}
	elapsed := time.Since(start)
	close(b.stop)
	<-b.done

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		t.Errorf("bystander: %s", e)
	}
	if r := do("GET", s.base+"/apps/bystander/get", nil, nil); r.status != 200 || r.body != strconv.Itoa(b.n) {
		t.Errorf("bystander counter: %d %q, want %d (every acknowledged increment, nothing lost or added)", r.status, r.body, b.n)
	}
	if err := s.healthy(); err != nil {
		t.Errorf("at the end: %v", err)
	}

	var report strings.Builder
	fmt.Fprintf(&report, "%d cases in %v; bystander: %d increments\n", len(rows), elapsed.Round(time.Millisecond), b.n)
	for _, ph := range []string{"before", "during"} {
		l := b.lat[ph]
		fmt.Fprintf(&report, "bystander latency %s: n=%d p50=%v p99=%v max=%v\n", ph, len(l), percentile(l, 0.5).Round(10*time.Microsecond), percentile(l, 0.99).Round(10*time.Microsecond), percentile(l, 1).Round(10*time.Microsecond))
	}
	report.WriteString("\n| case | what it tries | expected | result |\n| --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&report, "| `%s` | %s | %s | %s |\n", r.name, r.what, strings.ReplaceAll(r.expect, "|", `\|`), r.result)
	}
	t.Log("\n" + report.String())
	if p := os.Getenv("HOSTILE_REPORT"); p != "" {
		os.WriteFile(p, []byte(report.String()), 0o644)
	}
}
