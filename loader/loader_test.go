package loader_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/worker"
)

var (
	rtOnce sync.Once
	rt     *worker.Runtime
)

func newLoader(tb testing.TB, opts loader.Options) *loader.Loader {
	tb.Helper()
	rtOnce.Do(func() {
		var err error
		rt, err = worker.NewRuntime(&quickjs.Engine{})
		if err != nil {
			tb.Fatal(err)
		}
	})
	l := loader.New(rt, opts)
	tb.Cleanup(l.Close)
	return l
}

func code(src string) *worker.LoadCode {
	return &worker.LoadCode{Code: warren.SingleModule("index.js", src)}
}

func fetch(tb testing.TB, f worker.Fetcher, path string) string {
	tb.Helper()
	resp, err := f.Fetch(context.Background(), httptest.NewRequest("GET", "http://x"+path, nil))
	if err != nil {
		tb.Fatalf("fetch %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

const counter = `let n = 0; export default { fetch() { return new Response(String(++n)) } }`

func TestGetRunsCallbackOnlyWhenNeeded(t *testing.T) {
	l := newLoader(t, loader.Options{})
	var calls atomic.Int32
	getCode := func(ctx context.Context) (*worker.LoadCode, error) { calls.Add(1); return code(counter), nil }
	s := l.Get("app:v1", getCode)
	if calls.Load() != 0 {
		t.Fatal("get must not run the callback before a request needs it")
	}
	if got := fetch(t, s, "/"); got != "1" {
		t.Fatalf("first = %s", got)
	}
	// Same id, new stub: the warm isolate is reused and the callback not run.
	if got := fetch(t, l.Get("app:v1", getCode), "/"); got != "2" {
		t.Fatalf("second = %s (isolate not reused)", got)
	}
	if calls.Load() != 1 {
		t.Fatalf("callback ran %d times, want 1", calls.Load())
	}
	// After Abort the next request reloads the code into a fresh isolate.
	l.Abort("app:v1")
	if got := fetch(t, s, "/"); got != "1" {
		t.Fatalf("after abort = %s", got)
	}
	if calls.Load() != 2 {
		t.Fatalf("callback ran %d times, want 2", calls.Load())
	}
}

func TestLoadIsNeverCached(t *testing.T) {
	l := newLoader(t, loader.Options{})
	a, b := l.Load(code(counter)), l.Load(code(counter))
	fetch(t, a, "/")
	if got := fetch(t, b, "/"); got != "1" {
		t.Fatalf("two Load calls shared an isolate: %s", got)
	}
	if got := fetch(t, a, "/"); got != "2" {
		t.Fatalf("a Load stub must keep its own isolate: %s", got)
	}
}

func TestLRUEviction(t *testing.T) {
	l := newLoader(t, loader.Options{MaxWorkers: 3})
	var calls atomic.Int32
	stubs := make([]*loader.Stub, 5)
	for i := range stubs {
		id := fmt.Sprintf("w%d", i)
		stubs[i] = l.Get(id, func(ctx context.Context) (*worker.LoadCode, error) {
			calls.Add(1)
			return code(fmt.Sprintf(`export default { fetch() { return new Response(%q) } }`, id)), nil
		})
		if got := fetch(t, stubs[i], "/"); got != id {
			t.Fatalf("%s answered %s", id, got)
		}
	}
	if l.Len() != 3 || l.Stats().Evictions.Load() != 2 {
		t.Fatalf("len %d evictions %d", l.Len(), l.Stats().Evictions.Load())
	}
	// The evicted w0 is rebuilt transparently.
	if got := fetch(t, stubs[0], "/"); got != "w0" {
		t.Fatalf("w0 after eviction: %s", got)
	}
	if calls.Load() != 6 {
		t.Fatalf("callbacks %d, want 6", calls.Load())
	}
}

func TestBrokenIsolateIsRebuilt(t *testing.T) {
	l := newLoader(t, loader.Options{Limits: warren.Limits{CPU: 30e6}})
	s := l.Get("spin", func(ctx context.Context) (*worker.LoadCode, error) {
		return code(`let n = 0; export default { fetch(req) { if (req.url.endsWith("/spin")) for(;;){}; return new Response(String(++n)) } }`), nil
	})
	fetch(t, s, "/")
	_, err := s.Fetch(context.Background(), httptest.NewRequest("GET", "http://x/spin", nil))
	if warren.ErrorCode(err) != warren.CodeLimit {
		t.Fatalf("spin: %v", err)
	}
	if got := fetch(t, s, "/"); got != "1" {
		t.Fatalf("after the limit a fresh isolate should serve, got %s", got)
	}
}

func TestCompileErrorOnEveryRequest(t *testing.T) {
	l := newLoader(t, loader.Options{})
	s := l.Get("bad", func(ctx context.Context) (*worker.LoadCode, error) { return code(`export default {`), nil })
	for i := 0; i < 2; i++ {
		_, err := s.Fetch(context.Background(), httptest.NewRequest("GET", "http://x/", nil))
		if warren.ErrorCode(err) != warren.CodeBadCode || !strings.Contains(err.Error(), "index.js:1") {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestTailsReceiveLogs(t *testing.T) {
	var mu sync.Mutex
	var got []worker.LogEntry
	l := newLoader(t, loader.Options{Logs: func(e worker.LogEntry) { mu.Lock(); got = append(got, e); mu.Unlock() }})
	s := l.Get("logger", func(ctx context.Context) (*worker.LoadCode, error) {
		return code(`export default { fetch() { console.info("hi"); throw new Error("oops") } }`), nil
	})
	s.Fetch(context.Background(), httptest.NewRequest("GET", "http://x/", nil))
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 2 || got[0].Level != "info" || got[0].Message != "hi" || got[0].CodeID != "logger" || got[1].Level != "exception" || !strings.Contains(got[1].Message, "oops") || got[0].Time.IsZero() {
		t.Fatalf("logs = %+v", got)
	}
}

// The JavaScript Worker Loader API: env.LOADER.get / load, entrypoints,
// props, RPC with errors, globalOutbound, and the callback's laziness.
func TestJavaScriptLoader(t *testing.T) {
	l := newLoader(t, loader.Options{})
	parent := l.Load(&worker.LoadCode{Code: warren.SingleModule("parent.js", `
let callbacks = 0;
const CHILD = `+"`"+`
import { WorkerEntrypoint } from "cloudflare:workers";
export default { async fetch(req, env) { return new Response("child " + env.GREETING + " " + new URL(req.url).pathname) } };
export class Api extends WorkerEntrypoint {
  hello(name) { return "hello " + name + " from " + this.ctx.props.tenant }
  boom() { throw new RangeError("child broke") }
  async tryFetch() { try { await fetch("https://example.com/"); return "fetched" } catch (e) { return e.message } }
}`+"`"+`;
export default { async fetch(req, env) {
  const stub = env.LOADER.get("child:v1", () => { callbacks++; return { compatibilityDate: "2026-01-01", mainModule: "c.js", modules: { "c.js": CHILD }, env: { GREETING: "hi" }, globalOutbound: null } });
  const r1 = await (await stub.getEntrypoint().fetch("http://x/a")).text();
  const r2 = await (await env.LOADER.get("child:v1", () => { callbacks++; throw new Error("must not run") }).getEntrypoint().fetch("http://x/b")).text();
  const api = stub.getEntrypoint("Api", { props: { tenant: "t9" } });
  const h = await api.hello("bob");
  let err = "";
  try { await api.boom() } catch (e) { err = e.name + ": " + e.message }
  const egress = await api.tryFetch();
  const once = await (await env.LOADER.load({ compatibilityDate: "2026-01-01", mainModule: "m.js", modules: { "m.js": "export default { fetch() { return new Response('one-off') } }" } }).getEntrypoint().fetch("http://x/")).text();
  let bad = "";
  try { await env.LOADER.load({ mainModule: "m.js", modules: { "m.js": "export default {" } }).getEntrypoint().fetch("http://x/") } catch (e) { bad = e.message }
  return Response.json({ r1, r2, h, err, egress, once, bad, callbacks });
} }`), Env: map[string]any{"LOADER": l.Binding(nil)}})
	got := fetch(t, parent, "/")
	for _, want := range []string{`"r1":"child hi /a"`, `"r2":"child hi /b"`, `"h":"hello bob from t9"`, `"err":"RangeError: child broke"`, `"egress":"fetch(\"https://example.com/\") was refused`, `"once":"one-off"`, `"bad":"m.js:1:`, `"callbacks":1`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
}

// Many goroutines share a small cache: same ids, different ids, evictions.
func TestConcurrentGet(t *testing.T) {
	l := newLoader(t, loader.Options{MaxWorkers: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				id := fmt.Sprintf("w%d", (g+i)%6)
				s := l.Get(id, func(ctx context.Context) (*worker.LoadCode, error) {
					return code(fmt.Sprintf(`export default { async fetch() { await null; return new Response(%q) } }`, id)), nil
				})
				resp, err := s.Fetch(context.Background(), httptest.NewRequest("GET", "http://x/", nil))
				if err != nil {
					errs <- fmt.Errorf("%s: %w", id, err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != id {
					errs <- fmt.Errorf("%s answered %q", id, b)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if l.Len() > 4 {
		t.Fatalf("cache holds %d Workers, limit 4", l.Len())
	}
}

// ctx.exports loopback stubs: an HttpGateway entrypoint given as a loaded
// Worker's globalOutbound sees every fetch, with props the child never sees.
func TestCtxExportsAsGlobalOutbound(t *testing.T) {
	l := newLoader(t, loader.Options{})
	parent := l.Get("parent", func(ctx context.Context) (*worker.LoadCode, error) {
		return &worker.LoadCode{Code: warren.SingleModule("p.js", `
import { WorkerEntrypoint } from "cloudflare:workers";
export class HttpGateway extends WorkerEntrypoint {
  async fetch(req) { return new Response("gateway saw " + req.url + " for " + this.ctx.props.tenant) }
  who() { return "gw:" + this.ctx.props.tenant }
}
export default { async fetch(req, env, ctx) {
  const child = env.LOADER.get("child", () => ({
    compatibilityDate: "2026-01-01", mainModule: "c.js",
    modules: { "c.js": "export default { async fetch() { const r = await fetch('https://api.example/x'); return new Response(await r.text()) } }" },
    globalOutbound: ctx.exports.HttpGateway({ props: { tenant: "acme" } }),
  }));
  const viaChild = await (await child.getEntrypoint().fetch("http://c/")).text();
  const direct = await ctx.exports.HttpGateway({ props: { tenant: "t2" } }).who();
  return new Response(viaChild + " | " + direct + " | " + Object.keys(ctx.exports).join(","));
} }`), Env: map[string]any{"LOADER": l.Binding(nil)}}, nil
	})
	got := fetch(t, parent, "/")
	if got != "gateway saw https://api.example/x for acme | gw:t2 | HttpGateway,default" {
		t.Fatalf("got %q", got)
	}
}
