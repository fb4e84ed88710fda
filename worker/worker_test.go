package worker_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/worker"
)

func runtime(tb testing.TB) *worker.Runtime { return testrt.Runtime(tb) }

// newInstance compiles src as index.js and starts an instance.
func newInstance(tb testing.TB, src string, cfg worker.Config) *worker.Instance {
	tb.Helper()
	in, err := runtime(tb).NewInstance(compile(tb, runtime(tb), src), cfg)
	if err != nil {
		tb.Fatalf("NewInstance: %v", err)
	}
	tb.Cleanup(in.Close)
	return in
}

func get(tb testing.TB, in *worker.Instance, path string) (int, string) {
	tb.Helper()
	req := httptest.NewRequest("GET", "http://example.com"+path, nil)
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, req)
	if err != nil {
		tb.Fatalf("Fetch %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestFetchHello(t *testing.T) {
	in := newInstance(t, `export default { async fetch(req, env, ctx) { return new Response("hello " + new URL(req.url).pathname, {status: 201, headers: {"x-a": "1"}}) } }`, worker.Config{})
	code, body := get(t, in, "/there")
	if code != 201 || body != "hello /there" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestFetchThrows(t *testing.T) {
	in := newInstance(t, `export default { fetch() { throw new TypeError("boom") } }`, worker.Config{})
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
	if err == nil || !strings.Contains(err.Error(), "TypeError: boom") {
		t.Fatalf("err = %v", err)
	}
}

// Web API families the code does not name are loaded on first touch.
func TestLazyFamilyLoadedOnDynamicAccess(t *testing.T) {
	in := newInstance(t, `export default { async fetch() {
		const name = ["Readable", "Stream"].join("");
		const RS = globalThis[name];
		const s = new RS({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close() } });
		const r = s.getReader(); let out = "";
		for (;;) { const { done, value } = await r.read(); if (done) break; out += value }
		const E = globalThis["Text" + "Encoder"];
		return new Response(out + new E().encode("xyz").length + (typeof globalThis["c" + "rypto"].randomUUID));
	} }`, worker.Config{})
	if _, body := get(t, in, "/"); body != "ab3function" {
		t.Fatalf("body = %q", body)
	}
}

func TestAssigningALazyGlobalKeepsTheAppsValue(t *testing.T) {
	in := newInstance(t, `export default { fetch() {
		globalThis["U" + "RL"] = function Mine() {};
		const p = new globalThis["URLSearch" + "Params"]("a=1");
		return new Response(globalThis["U" + "RL"].name + " " + p.get("a"));
	} }`, worker.Config{})
	if _, body := get(t, in, "/"); body != "Mine 1" {
		t.Fatalf("body = %q", body)
	}
}

// Request bodies cross as text when they are UTF-8 and as bytes otherwise;
// either way every body reader sees the exact bytes.
func TestRequestBodyBytesExact(t *testing.T) {
	in := newInstance(t, `export default { async fetch(req) {
		const copy = req.clone();
		const b = new Uint8Array(await req.arrayBuffer());
		const t = await copy.text();
		return Response.json({ n: b.length, first: b[0], last: b[b.length - 1], tlen: t.length, ct: req.headers.get("content-type") });
	} }`, worker.Config{})
	for _, tc := range []struct {
		body string
		want string
	}{
		{"héllo", `{"n":6,"first":104,"last":111,"tlen":5,"ct":null}`},
		{"\xff\x00\xfe", `{"n":3,"first":255,"last":254,"tlen":3,"ct":null}`},
	} {
		resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("POST", "/", strings.NewReader(tc.body)))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := readAll(resp); got != tc.want {
			t.Errorf("body %q: got %s want %s", tc.body, got, tc.want)
		}
	}
}
