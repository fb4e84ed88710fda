package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testRunToken is the run token of startServe's server; post sends it.
const testRunToken = "test-run-token-0123456789"

// startServe runs the real `warren serve` on a free loopback port, with
// testRunToken as its run token.
func startServe(t *testing.T) string {
	t.Helper()
	tf := filepath.Join(t.TempDir(), "run.token")
	if err := os.WriteFile(tf, []byte(testRunToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServeWith(t, t.TempDir(), io.Discard, "--listen", "127.0.0.1:0", "--run-token-file", tf)
}

// startServeWith runs `warren serve` with args and the data folder data, its
// log to stderr, and stops it when the test ends; it returns the base URL.
func startServeWith(t testing.TB, data string, stderr io.Writer, args ...string) string {
	t.Helper()
	url, stop := runServe(t, io.Discard, stderr, append([]string{"--data", data}, args...)...)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return url
}

// runServe runs `warren serve ARGS` with its output to stdout and stderr,
// waits until it listens and returns its base URL, and stop, which ends it
// (at the latest when the test ends) and returns its error.
func runServe(t testing.TB, stdout, stderr io.Writer, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	c := &ServeCommand{Stdout: stdout, Stderr: stderr, Ready: func(a string) { addrc <- a }}
	if err := c.ParseFlags(args); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { done <- c.Run(ctx) }()
	select {
	case a := <-addrc:
		url = "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("serve %v exited: %v", args, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() { stop() })
	return url, stop
}

func post(t *testing.T, url, ctype, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+testRunToken)
	return send(t, req)
}

// send sends the request and returns the response with its body, read and
// closed.
func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServeHealthAndRun(t *testing.T) {
	base := startServe(t)
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	// A JavaScript module, answered with the Worker's own response.
	r, body := post(t, base+"/api/v1/run?path=/hi", "application/javascript", `export default { fetch(req) { return new Response("path " + new URL(req.url).pathname, { status: 203, headers: { "x-app": "1" } }) } }`)
	if r.StatusCode != 203 || body != "path /hi" || r.Header.Get("X-App") != "1" {
		t.Fatalf("js run: %d %q %v", r.StatusCode, body, r.Header)
	}
	// TypeScript with the JSON envelope, carrying console output.
	r, body = post(t, base+"/api/v1/run?envelope=1", "application/typescript", `const n: number = 41; export default { fetch(): Response { console.log("n is", n); return Response.json({ n: n + 1 }) } }`)
	var env struct {
		Status int
		Body   string
		Logs   []struct{ Level, Message string }
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || r.StatusCode != 200 {
		t.Fatalf("envelope: %d %s", r.StatusCode, body)
	}
	if env.Status != 200 || env.Body != `{"n":42}` || len(env.Logs) != 1 || env.Logs[0].Message != "n is 41" {
		t.Fatalf("envelope = %+v", env)
	}
	// A JSON bundle with two modules and a request.
	bundle := `{"mainModule": "index.js", "modules": {"index.js": "import {greet} from './lib.js'; export default { async fetch(req) { return new Response(greet(await req.text())) } }", "lib.js": "export const greet = (s) => 'hello ' + s"}, "request": {"method": "POST", "url": "/x", "body": "world"}}`
	r, body = post(t, base+"/api/v1/run", "application/json", bundle)
	if r.StatusCode != 200 || body != "hello world" {
		t.Fatalf("bundle: %d %q", r.StatusCode, body)
	}
}

// The run API runs any code: warren serve refuses callers without a token
// unless the operator opens it (--run-api=open), and warns at start-up
// when it listens beyond loopback (plain HTTP, no TLS).
func TestServeRunAPIAccess(t *testing.T) {
	var logs syncBuffer
	base := startServeWith(t, t.TempDir(), &logs, "--listen", "127.0.0.1:0")
	run := func(base, auth string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/api/v1/run", strings.NewReader(`export default { fetch() { return new Response("ran") } }`))
		req.Header.Set("Content-Type", "application/javascript")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, body := send(t, req)
		return resp.StatusCode, body
	}
	if code, body := run(base, ""); code != 401 || !strings.Contains(body, "unauthorized") {
		t.Fatalf("a run without a token: %d %s", code, body)
	}
	if strings.Contains(logs.String(), "not a loopback address") {
		t.Errorf("warned on loopback: %s", logs.String())
	}
	var logs2 syncBuffer
	open := startServeWith(t, t.TempDir(), &logs2, "--listen", "0.0.0.0:0", "--run-api", "open")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(open, "http://"))
	if code, body := run("http://127.0.0.1:"+port, ""); code != 200 || body != "ran" {
		t.Fatalf("open run API: %d %s", code, body)
	}
	for _, want := range []string{"which is not a loopback address, and serves plain HTTP", "TLS-terminating reverse proxy", "--run-api=open: anyone who reaches this address can run code"} {
		if !strings.Contains(logs2.String(), want) {
			t.Errorf("start-up output lacks %q:\n%s", want, logs2.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer (a server's log, a
// command's output) and a reader (the test).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCase is a request to the run API and its answer: the status and a
// string in the body (an error answer's body is a JSON error).
type runCase struct {
	name, ctype, body string
	status            int
	want              string
}

// checkRuns sends each case to the run API of base, a subtest each.
func checkRuns(t *testing.T, base string, cases []runCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, body := post(t, base+"/api/v1/run", tc.ctype, tc.body)
			if r.StatusCode != tc.status || !strings.Contains(body, tc.want) || (r.StatusCode >= 400 && !strings.Contains(body, `"error"`)) {
				t.Fatalf("%d %s", r.StatusCode, body)
			}
		})
	}
}

func TestServeRunErrors(t *testing.T) {
	base := startServe(t)
	checkRuns(t, base, []runCase{
		{"syntax error", "application/javascript", "export default { fetch() { return 1 +  } }", 400, "worker.js:1:"},
		{"unbundled import", "application/javascript", `import x from "lodash"; export default {}`, 400, "npm package"},
		{"bad json", "application/json", `{"modules": `, 400, "not valid"},
		{"no main module", "application/json", `{"modules": {"a.js": "", "b.js": ""}}`, 400, "mainModule"},
		{"traversal", "application/json", `{"mainModule": "../x.js", "modules": {"../x.js": "export default {}"}}`, 400, "not valid"},
		{"throws", "application/javascript", `export default { fetch() { throw new Error("nope") } }`, 500, "nope"},
		{"no fetch", "application/javascript", `export default {}`, 500, "fetch"},
		{"cpu limit", "application/json", `{"modules": {"a.js": "export default { fetch() { for(;;){} } }"}, "limits": {"cpuMs": 50}}`, 503, "CPU time"},
		{"egress", "application/javascript", `export default { async fetch() { return fetch("http://127.0.0.1:1/") } }`, 502, "globalOutbound"},
		{"bad content type", "image/png", "x", 400, "Content-Type"},
	})
	// The server is still healthy after all that.
	if r, _ := http.Get(base + "/healthz"); r.StatusCode != 200 {
		t.Fatal("server unhealthy")
	}
}

func TestRunCommand(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "app.ts")
	os.WriteFile(f, []byte(`export default { fetch(req: Request) { console.warn("careful"); return new Response("ran " + new URL(req.url).pathname) } }`), 0o600)
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"run", f, "--path", "/p"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v %s", err, errOut.String())
	}
	if out.String() != "ran /p\n" || !strings.Contains(errOut.String(), "[warn] careful") || !strings.Contains(errOut.String(), "HTTP 200") {
		t.Fatalf("stdout %q stderr %q", out.String(), errOut.String())
	}
}

// Findings of the hostile-input hunt, each a regression test.
func TestServeHostileRuns(t *testing.T) {
	base := startServe(t)
	checkRuns(t, base, []runCase{
		{"negative memory limit", "application/json", `{"modules": {"a.js": "export default { fetch() { return new Response('x') } }"}, "limits": {"memoryMb": -1}}`, 400, "limits.memoryMb"},
		{"overflowing memory limit", "application/json", `{"modules": {"a.js": "export default {}"}, "limits": {"memoryMb": 8796093022208}}`, 400, "limits.memoryMb"},
		{"negative cpu limit", "application/json", `{"modules": {"a.js": "export default {}"}, "limits": {"cpuMs": -5}}`, 400, "limits.cpuMs"},
		// A status the Response was built with is checked; an own "status"
		// property laid over the instance is not what is sent (the runtime
		// reads the Response's internal state, as workerd does).
		{"status 101", "application/javascript", `export default { fetch() { return new Response("x", { status: 101 }) } }`, 500, "200 to 599"},
		{"status 0", "application/javascript", `export default { fetch() { return new Response("x", { status: 0 }) } }`, 500, "200 to 599"},
		{"status property laid over", "application/javascript", `export default { fetch() { const r = new Response("x"); Object.defineProperty(r, "status", { value: 101 }); return r } }`, 200, "x"},
		{"code too large", "application/javascript", "export default {}\n//" + strings.Repeat("x", 3<<20), 413, "larger than"},
	})
	// Framing headers from the Worker are dropped; the server frames the body.
	r, body := post(t, base+"/api/v1/run", "application/javascript", `export default { fetch() { return new Response("hello world", { headers: { "content-length": "3", "transfer-encoding": "chunked", "connection": "upgrade", "x-ok": "1" } }) } }`)
	if body != "hello world" || r.Header.Get("X-Ok") != "1" || r.Header.Get("Connection") == "upgrade" {
		t.Fatalf("%v %q", r.Header, body)
	}
	// Console output at the top level of a module is capped too.
	r, body = post(t, base+"/api/v1/run?envelope=1", "application/javascript", `const s = "L".repeat(1 << 20); for (let i = 0; i < 50; i++) console.log(s);
export default { fetch() { return new Response("ok") } }`)
	if r.StatusCode != 200 || len(body) > 2<<20 || !strings.Contains(body, `"body": "ok"`) {
		t.Fatalf("%d, %d bytes", r.StatusCode, len(body))
	}
}
