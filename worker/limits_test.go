package worker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// hostile runs src's fetch handler and expects it to fail with the named
// limit; then it checks the instance is discarded and that a fresh instance
// from the same program still serves.
func TestLimits(t *testing.T) {
	cases := []struct {
		name   string
		src    string
		limits warren.Limits
		limit  string
	}{
		{"busy loop", `export default { fetch() { for (;;) {} } }`, warren.Limits{CPU: 50 * time.Millisecond}, "CPU time"},
		{"catastrophic regex", `export default { fetch() { /^(a+)+(?=c)$/.test("a".repeat(40) + "b"); return new Response("x") } }`, warren.Limits{CPU: 50 * time.Millisecond}, "CPU time"},
		{"microtask flood", `export default { async fetch() { for (;;) await null } }`, warren.Limits{CPU: 50 * time.Millisecond}, "CPU time"},
		{"promise chain flood", `export default { fetch() { const f = () => Promise.resolve().then(f); f(); return new Promise(() => {}) } }`, warren.Limits{CPU: 50 * time.Millisecond}, "CPU time"},
		{"timer flood", `export default { fetch() { for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 100000); return new Response("x") } }`, warren.Limits{Timers: 100}, "timers"},
		{"interval storm", `export default { fetch() { setInterval(() => { for (let i = 0; i < 1e5; i++); }, 0); return new Promise(() => {}) } }`, warren.Limits{Wall: 200 * time.Millisecond}, "wall time"},
		{"waits past the wall time", `export default { fetch() { return new Promise((r) => setTimeout(r, 1e9)) } }`, warren.Limits{Wall: 100 * time.Millisecond}, "wall time"},
		{"memory bomb array", `export default { fetch() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); } }`, warren.Limits{MemoryBytes: 16 << 20}, "memory"},
		{"memory bomb string", `export default { fetch() { let s = "x"; for (;;) s += s; } }`, warren.Limits{MemoryBytes: 16 << 20}, "memory"},
		{"memory bomb typed arrays", `export default { fetch() { const a = []; for (;;) a.push(new Uint8Array(1 << 20)); } }`, warren.Limits{MemoryBytes: 16 << 20}, "memory"},
		{"memory bomb map", `export default { fetch() { const m = new Map(); for (let i = 0;; i++) m.set(i, {i, s: "v" + i}); } }`, warren.Limits{MemoryBytes: 16 << 20}, "memory"},
		{"unbounded recursion", `export default { fetch() { const f = (n) => f(n + 1) + 1; return new Response(String(f(0))) } }`, warren.Limits{}, "stack depth"},
		{"huge response", `export default { fetch() { return new Response("x".repeat(2 << 20)) } }`, warren.Limits{ResponseBodyBytes: 1 << 20}, "response body"},
		{"subrequests", `export default { async fetch(req, env) { for (let i = 0; i < 10; i++) { try { await fetch("https://example.com/") } catch (e) { if (/subrequests/.test(e.message)) throw e } } return new Response("x") } }`, warren.Limits{Subrequests: 3}, "subrequests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := runtime(t).Compile(warren.SingleModule("index.js", tc.src))
			if err != nil {
				t.Fatal(err)
			}
			in, err := runtime(t).NewInstance(p, worker.Config{Limits: tc.limits, Outbound: &worker.Outbound{Direct: worker.FetcherFunc(refuse)}})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := in.Fetch(ctx, "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
			if err == nil && resp != nil {
				// A streamed body may carry the error.
				_, err = readAll(resp)
			}
			var we *warren.Error
			if !errors.As(err, &we) || we.Limit != tc.limit {
				t.Fatalf("err = %v (%#v), want limit %q", err, we, tc.limit)
			}
			if we.Hint == "" || !strings.Contains(we.Message, tc.limit) {
				t.Fatalf("error should name the limit and say how to fix it: %+v", we)
			}
			// Another isolate from the same program is unaffected.
			other := newInstance(t, `export default { fetch() { return new Response("alive") } }`, worker.Config{})
			if _, body := get(t, other, "/"); body != "alive" {
				t.Fatalf("other isolate answered %q", body)
			}
		})
	}
}

func TestCPULimitBreaksIsolate(t *testing.T) {
	in := newInstance(t, `let n = 0; export default { fetch(req) { if (new URL(req.url).pathname === "/spin") for(;;){}; return new Response(String(++n)) } }`, worker.Config{Limits: warren.Limits{CPU: 30 * time.Millisecond}})
	if _, body := get(t, in, "/"); body != "1" {
		t.Fatalf("first = %q", body)
	}
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/spin", nil))
	if warren.ErrorCode(err) != warren.CodeLimit {
		t.Fatalf("spin err = %v", err)
	}
	waitBroken(t, in, "instance should be broken after a CPU limit")
	if _, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Fatal("a broken instance must refuse new work")
	}
}

func TestInvocationLimitsLowerInstanceLimits(t *testing.T) {
	in := newInstance(t, `export default { fetch() { for(;;){} } }`, worker.Config{Limits: warren.Limits{CPU: 10 * time.Second}})
	_, err := in.Fetch(context.Background(), "", worker.Invoke{Limits: warren.Limits{CPU: 20 * time.Millisecond}}, httptest.NewRequest("GET", "/", nil))
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "CPU time" || !strings.Contains(we.Message, "(20ms)") {
		t.Fatalf("err = %v; want the CPU limit of the invocation (20ms), not the instance's (10s)", err)
	}
}

func TestRequestBodyLimit(t *testing.T) {
	in := newInstance(t, `export default { async fetch(req) { return new Response(String((await req.text()).length)) } }`, worker.Config{Limits: warren.Limits{RequestBodyBytes: 10}})
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	var we *warren.Error
	if !errors.As(err, &we) || we.Code != warren.CodeTooLarge {
		t.Fatalf("err = %v", err)
	}
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("POST", "/", strings.NewReader("0123456789")))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := readAll(resp); b != "10" {
		t.Fatalf("body = %q", b)
	}
}

// sleepyLogs is a log sink that blocks the turn that logs "wait <ms>" for
// that many milliseconds: a blocking host call inside a JavaScript turn.
func sleepyLogs(e worker.LogEntry) {
	var ms int
	if _, err := fmt.Sscanf(e.Message, "wait %d", &ms); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}

// A turn that waits in a blocking host call is neither charged nor stopped
// for the wait: CPU time is the thread's CPU clock (Linux only).
func TestCPUTimeExcludesBlockingWait(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("CPU time is wall time without a thread CPU clock")
	}
	in := newInstance(t, `export default { fetch(req) {
  if (new URL(req.url).pathname === "/wait") for (let i = 0; i < 3; i++) console.log("wait 150");
  return new Response("ok");
} }`, worker.Config{Limits: warren.Limits{CPU: 100 * time.Millisecond}, Logs: sleepyLogs})
	u := &worker.Usage{}
	t0 := time.Now()
	resp, err := in.Fetch(worker.WithUsage(context.Background(), u), "", worker.Invoke{}, httptest.NewRequest("GET", "/wait", nil))
	if err != nil {
		t.Fatalf("a turn that waited 450 ms in a host call, with a CPU limit of 100 ms: %v", err)
	}
	if body, _ := readAll(resp); body != "ok" {
		t.Fatalf("body = %q", body)
	}
	wall := time.Since(t0)
	// The response leaves before its turn ends and is charged; turns run one
	// at a time, so the next request's answer means it was.
	get(t, in, "/")
	if wall < 450*time.Millisecond {
		t.Fatalf("the request took %v; the log sink should have blocked it for 450 ms", wall)
	}
	if u.CPU() <= 0 || u.CPU() > wall/4 {
		t.Fatalf("charged %v of CPU for a request that spent %v mostly waiting", u.CPU(), wall)
	}
	if in.CPUTime() > wall/4 {
		t.Fatalf("the isolate's CPU time is %v for %v of mostly waiting", in.CPUTime(), wall)
	}
}

// A busy loop is still stopped by the CPU limit, after a wait, and is
// charged at least the CPU it was allowed.
func TestCPULimitAfterBlockingWait(t *testing.T) {
	in := newInstance(t, `export default { fetch() { console.log("wait 150"); for (;;) {} } }`,
		worker.Config{Limits: warren.Limits{CPU: 100 * time.Millisecond}, Logs: sleepyLogs})
	u := &worker.Usage{}
	_, err := in.Fetch(worker.WithUsage(context.Background(), u), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "CPU time" || !strings.Contains(we.Message, "(100ms)") {
		t.Fatalf("err = %v, want the CPU time limit (100ms)", err)
	}
	// The error can reach the caller before the turn ends; the turn is
	// charged before it discards the isolate.
	waitBroken(t, in, "the isolate should be discarded")
	for deadline := time.Now().Add(5 * time.Second); u.CPU() < 100*time.Millisecond; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("charged %v; the loop was stopped only once it used its 100 ms", u.CPU())
		}
	}
}

// A turn that does not use its CPU budget is still interrupted once it has
// run for the wall-time limit (here a host call that blocks for 1 s), so
// that a thread starved of CPU cannot hold its requests forever.
func TestTurnWallTimeBackstop(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("without a thread CPU clock the CPU limit stops the turn first")
	}
	in := newInstance(t, `export default { fetch() { console.log("wait 1000"); return new Response("late") } }`,
		worker.Config{Limits: warren.Limits{CPU: 50 * time.Millisecond, Wall: 300 * time.Millisecond}, Logs: sleepyLogs})
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "wall time" {
		t.Fatalf("err = %v, want the wall-time limit", err)
	}
	waitBroken(t, in, "a turn stopped by the wall-time backstop discards the isolate")
}

// `throw null` is an ordinary uncaught exception, not the memory limit
// (which QuickJS also reports as a thrown null): the isolate keeps serving.
// A memory bomb that ends in the same null is still the memory limit.
func TestThrowNullIsNotMemory(t *testing.T) {
	in := newInstance(t, `export default { async fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/null") throw null;
  if (p === "/async-null") { await null; throw null; }
  if (p === "/bomb") { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }
  return new Response("alive");
} }`, worker.Config{Limits: warren.Limits{MemoryBytes: 16 << 20}})
	for _, path := range []string{"/null", "/async-null"} {
		_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", path, nil))
		var we *warren.Error
		if !errors.As(err, &we) || we.Code != warren.CodeException || we.Limit != "" || !strings.Contains(we.Message, "null") {
			t.Fatalf("GET %s: err = %v (%#v), want an uncaught exception naming null", path, err, we)
		}
		t.Logf("GET %s: %v", path, err)
		if in.Broken() != nil {
			t.Fatalf("GET %s discarded the isolate: %v", path, in.Broken())
		}
		if _, body := get(t, in, "/"); body != "alive" {
			t.Fatalf("after GET %s: %q", path, body)
		}
	}
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/bomb", nil))
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "memory" {
		t.Fatalf("memory bomb: err = %v, want the memory limit", err)
	}
	waitBroken(t, in, "the memory limit discards the isolate")
}

// waitBroken waits for in to be discarded: the error can reach the caller
// before the end of the turn that discards the isolate.
func waitBroken(t *testing.T, in *worker.Instance, msg string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); in.Broken() == nil; {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}
