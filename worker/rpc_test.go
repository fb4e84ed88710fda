package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/worker"
)

const rpcApp = `
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
export class Api extends WorkerEntrypoint {
  add(a, b) { return a + b }
  async echo(v) { return v }
  whoami() { return this.ctx.props }
  fail() { const e = new RangeError("bad range"); throw e }
  get notAMethod() { return 1 }
}
export default { fetch() { return new Response("default") } }
`

func TestRPCRoundTrip(t *testing.T) {
	in := newInstance(t, rpcApp, worker.Config{})
	ctx := context.Background()
	r, err := in.Call(ctx, "Api", worker.Invoke{}, "add", []any{2, 3})
	if err != nil || r != float64(5) {
		t.Fatalf("add = %v, %v", r, err)
	}
	v := map[string]any{"s": "x", "n": 1.5, "list": []any{true, nil}}
	r, err = in.Call(ctx, "Api", worker.Invoke{}, "echo", []any{v})
	if err != nil || fmt.Sprint(r) != fmt.Sprint(v) {
		t.Fatalf("echo = %v, %v", r, err)
	}
	r, err = in.Call(ctx, "Api", worker.Invoke{Props: map[string]any{"tenant": "t1"}}, "whoami", nil)
	if err != nil || fmt.Sprint(r) != "map[tenant:t1]" {
		t.Fatalf("whoami = %v, %v", r, err)
	}
}

func TestRPCErrors(t *testing.T) {
	in := newInstance(t, rpcApp, worker.Config{})
	ctx := context.Background()
	_, err := in.Call(ctx, "Api", worker.Invoke{}, "fail", nil)
	var we *warren.Error
	if !errors.As(err, &we) || we.Name != "RangeError" || !strings.Contains(we.Message, "bad range") || !strings.Contains(we.Stack, "fail") {
		t.Fatalf("fail: %#v", err)
	}
	for _, m := range []string{"nope", "constructor", "toString", "notAMethod"} {
		if _, err := in.Call(ctx, "Api", worker.Invoke{}, m, nil); err == nil {
			t.Errorf("calling %q should fail", m)
		}
	}
	if _, err := in.Call(ctx, "", worker.Invoke{}, "anything", nil); err == nil || !strings.Contains(err.Error(), "WorkerEntrypoint") {
		t.Errorf("RPC on a plain default export: %v", err)
	}
	if _, err := in.Call(ctx, "Missing", worker.Invoke{}, "x", nil); err == nil || !strings.Contains(err.Error(), "Api") {
		t.Errorf("missing entrypoint should list the exports: %v", err)
	}
}

// A Go RPC target and a Go fetcher in env reach JavaScript as stubs.
func TestGoCapabilitiesInEnv(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	target := worker.TargetFunc(func(ctx context.Context, method string, args []any) (any, error) {
		mu.Lock()
		seen = append(seen, method)
		mu.Unlock()
		switch method {
		case "double":
			return args[0].(float64) * 2, nil
		case "boom":
			return nil, &clone.JSError{Name: "TypeError", Message: "go says no"}
		}
		return nil, fmt.Errorf("no method %s", method)
	})
	svc := worker.FetcherFunc(func(ctx context.Context, req *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(req.Body)
		return &http.Response{StatusCode: 202, Header: http.Header{"X-Svc": {"yes"}}, Body: io.NopCloser(strings.NewReader(req.Method + " " + req.URL.Path + " " + string(body)))}, nil
	})
	in := newInstance(t, `export default { async fetch(req, env) {
		const d = await env.MATH.double(21);
		let msg = "";
		try { await env.MATH.boom() } catch (e) { msg = e.name + ":" + e.message }
		const r = await env.SVC.fetch("http://svc/path", { method: "POST", body: "hi" });
		return Response.json({ d, msg, status: r.status, h: r.headers.get("x-svc"), body: await r.text(), plain: env.NAME, n: env.CONF.n });
	} }`, worker.Config{Env: map[string]any{"MATH": target, "SVC": svc, "NAME": "warren", "CONF": map[string]any{"n": 3}}})
	_, body := get(t, in, "/")
	want := `{"d":42,"msg":"TypeError:go says no","status":202,"h":"yes","body":"POST /path hi","plain":"warren","n":3}`
	if body != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
}

func TestEgressDeniedByDefault(t *testing.T) {
	in := newInstance(t, `export default { async fetch() { try { await fetch("https://example.com/"); return new Response("fetched") } catch (e) { return new Response(e.message, {status: 500}) } } }`, worker.Config{})
	code, body := get(t, in, "/")
	if code != 500 || !strings.Contains(body, "globalOutbound is null") || !strings.Contains(body, "https://example.com/") {
		t.Fatalf("%d %q", code, body)
	}
}

func TestEgressIntercepted(t *testing.T) {
	var got []string
	gw := worker.FetcherFunc(func(ctx context.Context, req *http.Request) (*http.Response, error) {
		got = append(got, req.URL.String()+" auth="+req.Header.Get("Authorization"))
		if req.URL.Host == "blocked.example" {
			return &http.Response{StatusCode: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("blocked by policy"))}, nil
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok from gateway"))}, nil
	})
	in := newInstance(t, `export default { async fetch() {
		const a = await fetch("https://api.example/x", { headers: { authorization: "Bearer app" } });
		const b = await fetch("https://blocked.example/");
		return new Response(await a.text() + "|" + b.status + " " + await b.text());
	} }`, worker.Config{Outbound: &worker.Outbound{Via: gw}})
	_, body := get(t, in, "/")
	if body != "ok from gateway|403 blocked by policy" || len(got) != 2 || got[0] != "https://api.example/x auth=Bearer app" {
		t.Fatalf("body %q, gateway saw %v", body, got)
	}
}

// Many isolates on parallel goroutines; run with -race.
func TestParallelIsolates(t *testing.T) {
	p := compile(t, runtime(t), `let n = 0; export default { async fetch(req) { await null; n++; return new Response(new URL(req.url).pathname + ":" + n) } }`)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			in, err := runtime(t).NewInstance(p, worker.Config{})
			if err != nil {
				errs <- err
				return
			}
			defer in.Close()
			for i := 1; i <= 20; i++ {
				resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", fmt.Sprintf("/g%d", g), nil))
				if err != nil {
					errs <- err
					return
				}
				b, _ := readAll(resp)
				if want := fmt.Sprintf("/g%d:%d", g, i); b != want {
					errs <- fmt.Errorf("got %q want %q", b, want)
					return
				}
			}
		}(g)
	}
	// And concurrent requests into one shared isolate.
	shared, err := runtime(t).NewInstance(p, worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				resp, err := shared.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/s", nil))
				if err != nil {
					errs <- err
					return
				}
				readAll(resp)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, body := get(t, shared, "/s")
	if body != "/s:161" {
		t.Fatalf("shared isolate counted %q, want /s:161", body)
	}
}

func TestStreamingResponse(t *testing.T) {
	in := newInstance(t, `export default { fetch() {
		let i = 0;
		const s = new ReadableStream({ async pull(c) { await new Promise(r => setTimeout(r, 1)); if (i < 5) c.enqueue(new TextEncoder().encode("chunk" + i++ + ";")); else c.close(); } });
		return new Response(s, { headers: { "content-type": "text/plain" } });
	} }`, worker.Config{})
	code, body := get(t, in, "/")
	if code != 200 || body != "chunk0;chunk1;chunk2;chunk3;chunk4;" {
		t.Fatalf("%d %q", code, body)
	}
}

func TestInfiniteStreamHitsLimit(t *testing.T) {
	in := newInstance(t, `export default { fetch() {
		const s = new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(65536)) } });
		return new Response(s);
	} }`, worker.Config{Limits: warren.Limits{ResponseBodyBytes: 1 << 20}})
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(resp)
	if warren.ErrorCode(err) != warren.CodeTooLarge {
		t.Fatalf("err = %v", err)
	}
}

func TestConsoleCaptured(t *testing.T) {
	var mu sync.Mutex
	var logs []worker.LogEntry
	in := newInstance(t, `export default { fetch() { console.log("hello", {a: 1}, [1, 2]); console.error("bad %s", "thing"); console.warn(new Error("w")); return new Response("ok") } }`,
		worker.Config{CodeID: "app1", Logs: func(e worker.LogEntry) { mu.Lock(); logs = append(logs, e); mu.Unlock() }})
	get(t, in, "/")
	mu.Lock()
	defer mu.Unlock()
	if len(logs) != 3 || logs[0].Message != "hello { a: 1 } [ 1, 2 ]" || logs[0].Level != "log" || logs[1].Level != "error" || logs[1].Message != "bad thing" || logs[0].CodeID != "app1" || !strings.HasPrefix(logs[2].Message, "Error: w") {
		t.Fatalf("logs = %+v", logs)
	}
}

func TestUncaughtExceptionLogged(t *testing.T) {
	var logs []worker.LogEntry
	var mu sync.Mutex
	in := newInstance(t, `export default { fetch() { null.x } }`, worker.Config{Logs: func(e worker.LogEntry) { mu.Lock(); logs = append(logs, e); mu.Unlock() }})
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
	if err == nil {
		t.Fatal("want error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) == 0 || logs[0].Level != "exception" || !strings.Contains(logs[0].Message, "TypeError") || !strings.Contains(logs[0].Message, "index.js") {
		t.Fatalf("logs = %+v", logs)
	}
}

func TestWaitUntilRunsAfterResponse(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	in := newInstance(t, `export default { fetch(req, env, ctx) { ctx.waitUntil(new Promise(r => setTimeout(r, 20)).then(() => console.log("later"))); return new Response("now") } }`,
		worker.Config{Logs: func(e worker.LogEntry) { mu.Lock(); logs = append(logs, e.Message); mu.Unlock() }})
	_, body := get(t, in, "/")
	if body != "now" {
		t.Fatal(body)
	}
	for i := 0; i < 200; i++ {
		mu.Lock()
		n := len(logs)
		mu.Unlock()
		if n > 0 {
			return
		}
		sleepMs(10)
	}
	t.Fatal("waitUntil work never ran")
}
