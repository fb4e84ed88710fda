package worker_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/worker"
)

// fetchErr sends GET / and returns the invocation's error (nil with the
// body when it succeeds).
func fetchErr(t *testing.T, in *worker.Instance) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := in.Fetch(ctx, "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		return "", err
	}
	return readAll(resp)
}

const gatewayClass = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Gw extends WorkerEntrypoint { who() { return this.ctx.props.i } }
`

// Stubs an app no longer holds are released: far more ctx.exports.X({props})
// calls than the capability table holds succeed.
func TestCapabilitiesReleased(t *testing.T) {
	in := newInstance(t, gatewayClass+`
export default { async fetch(req, env, ctx) {
  for (let i = 0; i < 3 * 10000; i++) {
    ctx.exports.Gw({ props: { i } }).who;
    if (i % 100 === 0) await null;
  }
  return new Response("ok");
} }`, worker.Config{})
	for round := 0; round < 3; round++ {
		body, err := fetchErr(t, in)
		if err != nil || body != "ok" {
			t.Fatalf("round %d: %q, %v", round, body, err)
		}
	}
}

// An app that holds stubs without end fails itself with the capabilities
// limit (Go memory stays bounded), and the isolate serves on.
func TestCapabilityFlood(t *testing.T) {
	in := newInstance(t, gatewayClass+`
let held = [];
export default { async fetch(req, env, ctx) {
  if (new URL(req.url).pathname === "/after") { held = []; await null; return new Response("after") }
  for (let i = 0; i < 1e6; i++) held.push(ctx.exports.Gw({ props: { i } }).who);
  return new Response("not reached");
} }`, worker.Config{})
	_, err := fetchErr(t, in)
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "capabilities" {
		t.Fatalf("want the capabilities limit, got %v", err)
	}
	if code, body := get(t, in, "/after"); code != 200 || body != "after" {
		t.Fatalf("after the flood: %d %q", code, body)
	}
}

// blockingBody delivers its bytes, then waits for release before EOF.
type blockingBody struct {
	r       *bytes.Reader
	release <-chan struct{}
	blocked *atomic.Int64
}

func (b *blockingBody) Read(p []byte) (int, error) {
	n, _ := b.r.Read(p)
	if n > 0 {
		return n, nil
	}
	b.blocked.Add(1) // holding all its bytes in the reader's buffer
	<-b.release
	return 0, io.EOF
}

func (b *blockingBody) Close() error { return nil }

// Subrequest bodies held in Go count against the isolate's memory limit:
// ten concurrent 8 MiB responses under a 16 MiB limit fail the request with
// the memory limit instead of 80 MiB of Go heap (before, every body was read
// whole first, and this request waited for its wall-time limit).
func TestSubrequestBodiesBounded(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	var blocked atomic.Int64
	payload := bytes.Repeat([]byte("x"), 8<<20)
	fetcher := worker.FetcherFunc(func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &blockingBody{r: bytes.NewReader(payload), release: release, blocked: &blocked}}, nil
	})
	in := newInstance(t, `export default { async fetch() {
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch("https://example.com/" + i)));
  return new Response(String(rs.length));
} }`, worker.Config{Limits: warren.Limits{MemoryBytes: 16 << 20, Wall: 20 * time.Second}, Outbound: &worker.Outbound{Direct: fetcher}})
	_, err := fetchErr(t, in)
	if err == nil || !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("want the memory limit, got %v", err)
	}
	// A reader at its body's end holds 8 MiB: two fit in 16 MiB, a third
	// would not.
	if n := blocked.Load(); n > 2 {
		t.Fatalf("%d responses of 8 MiB were held in Go at once under a 16 MiB limit", n)
	}
}

// Operations called after the turn's CPU budget is spent fail at once: a
// chain of WebCrypto calls stops at the CPU limit instead of running each
// one (before, 60 RSA key generations ran for tens of seconds under a 50 ms
// limit and ended at the wall-time limit).
func TestOperationsStopAtTheCPULimit(t *testing.T) {
	in := newInstance(t, `export default { async fetch() {
  const alg = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  await Promise.all(Array.from({ length: 60 }, () => crypto.subtle.generateKey(alg, true, ["sign", "verify"])));
  return new Response("done");
} }`, worker.Config{Limits: warren.Limits{CPU: 50 * time.Millisecond, Wall: 25 * time.Second}})
	_, err := fetchErr(t, in)
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "CPU time" {
		t.Fatalf("want the CPU time limit, got %v", err)
	}
}

// Close stops a Runtime's pool filler (before, it had no Close and its
// goroutine lived on).
func TestRuntimeClose(t *testing.T) {
	before := goruntime.NumGoroutine()
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := rt.NewInstance(compile(t, rt, `export default { fetch() { return new Response("ok") } }`), worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in.Close()
	rt.Close()
	rt.Close() // twice is fine
	for i := 0; goruntime.NumGoroutine() > before && i < 200; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if n := goruntime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Close, %d before", n, before)
	}
	// A closed Runtime still makes instances, booting VMs on the caller.
	in, err = rt.NewInstance(compile(t, rt, `export default { fetch() { return new Response("still") } }`), worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, body := get(t, in, "/"); body != "still" {
		t.Fatalf("got %q", body)
	}
}

// A handler that waits on a promise nothing can settle fails at once with
// the reason (before, it waited out the wall-time limit, 30 s by default);
// one that waits on a timer or another request is left alone.
func TestHangDetected(t *testing.T) {
	in := newInstance(t, `
let release;
export default { async fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/hang") { await new Promise(() => {}); return new Response("never") }
  if (p === "/timer") { await new Promise((r) => setTimeout(r, 20)); return new Response("timer") }
  return new Response("ok");
} }`, worker.Config{Limits: warren.Limits{Wall: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := in.Fetch(ctx, "", worker.Invoke{}, httptest.NewRequest("GET", "/hang", nil))
	if err == nil || !strings.Contains(err.Error(), "hung") || ctx.Err() != nil {
		t.Fatalf("want the hang error, got %v", err)
	}
	for _, p := range []string{"/timer", "/"} {
		if code, body := get(t, in, p); code != 200 {
			t.Fatalf("%s: %d %q", p, code, body)
		}
	}
}

// The console limit counts output after stack positions are mapped back to
// the app's modules: a long module name repeated in every frame of an
// exception is counted at its full length.
func TestLogLimitCountsMappedOutput(t *testing.T) {
	long := strings.Repeat("m", 200) + ".js"
	code := &warren.WorkerCode{MainModule: "index.js", Modules: map[string]warren.Module{
		"index.js": {Kind: warren.ModuleESM, Text: `import { boom } from "./` + long + `"; export default { fetch() { for (let i = 0; i < 100; i++) { try { boom(30) } catch (e) { console.error(e.stack) } } return new Response("ok") } }`},
		long:       {Kind: warren.ModuleESM, Text: "export function boom(n) { if (n === 0) throw new Error('x'); return boom(n - 1) }"},
	}}
	p, err := runtime(t).Compile(code)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	kept := 0
	in, err := runtime(t).NewInstance(p, worker.Config{Limits: warren.Limits{LogBytes: 64 << 10}, Logs: func(e worker.LogEntry) {
		mu.Lock()
		kept += len(e.Message)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	get(t, in, "/")
	mu.Lock()
	defer mu.Unlock()
	if kept > 64<<10+16<<10 {
		t.Fatalf("%d bytes of console output kept under a 64 KiB limit", kept)
	}
}
