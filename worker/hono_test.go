package worker_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// bundleHono bundles testdata/hono/app.ts, with hono from its node_modules,
// into one ES module the way a Workers build tool would.
func bundleHono(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "hono"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "hono")); err != nil {
		if os.Getenv("WARREN_SKIP_NODE") == "1" {
			t.Skip("testdata/hono/node_modules is missing and WARREN_SKIP_NODE=1")
		}
		t.Fatalf("testdata/hono/node_modules is missing: run `npm ci --prefix testdata/hono` from the repository root (or set WARREN_SKIP_NODE=1 to skip this test)")
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{"app.ts"},
		AbsWorkingDir: dir,
		Bundle:        true,
		Format:        api.FormatESModule,
		Platform:      api.PlatformNeutral,
		MainFields:    []string{"module", "main"},
		Conditions:    []string{"workerd", "worker", "browser"},
		Write:         false,
		LogLevel:      api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		t.Fatalf("esbuild:\n%s", strings.Join(msgs, "\n"))
	}
	if len(res.OutputFiles) != 1 {
		t.Fatalf("esbuild produced %d output files, want 1", len(res.OutputFiles))
	}
	return string(res.OutputFiles[0].Contents)
}

func TestHono(t *testing.T) {
	src := bundleHono(t)
	p, err := runtime(t).Compile(warren.SingleModule("app.js", src))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	in, err := runtime(t).NewInstance(p, worker.Config{})
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	t.Cleanup(in.Close)

	// Hono's Context re-wraps a finalized Response as new Response(res.body, res)
	// whenever middleware (here cors) sets a header after the handler ran, so
	// every route below that returns a body also exercises Response.body (a
	// ReadableStream).

	const (
		ctText = "text/plain; charset=UTF-8"
		ctJSON = "application/json"
		ctHTML = "text/html; charset=UTF-8"
	)
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		reqHdr   map[string]string
		status   int
		ct       string
		wantBody string
		hdr      map[string]string // further response headers to check exactly
	}{
		{name: "root", method: "GET", path: "/", status: 200, ct: ctText, wantBody: "Hello Hono!"},
		{name: "json", method: "GET", path: "/json", status: 200, ct: ctJSON, wantBody: `{"ok":true,"framework":"hono","items":[1,2,3]}`},
		{name: "param", method: "GET", path: "/users/42", status: 200, ct: ctJSON, wantBody: `{"id":"42","name":"User 42"}`},
		{name: "echo", method: "POST", path: "/echo", body: `{"a":1,"b":["x",null],"c":{"d":"é"}}`,
			reqHdr: map[string]string{"Content-Type": "application/json"},
			status: 200, ct: ctJSON, wantBody: `{"received":{"a":1,"b":["x",null],"c":{"d":"é"}}}`},
		{name: "http_exception", method: "GET", path: "/teapot", status: 418, ct: ctJSON, wantBody: `{"error":"I'm a teapot"}`},
		{name: "on_error", method: "GET", path: "/boom", status: 500, ct: ctJSON, wantBody: `{"error":"internal","message":"something broke"}`},
		{name: "not_found", method: "GET", path: "/nope", status: 404, ct: ctJSON, wantBody: `{"error":"not found","path":"/nope"}`},
		{name: "html", method: "GET", path: "/page/%3Cb%3E", status: 200, ct: ctHTML,
			wantBody: "<!doctype html>\n<h1>Hello, &lt;b&gt;!</h1>\n<ul><li>one</li><li>two</li></ul>"},
		{name: "subrouter", method: "GET", path: "/api/health", status: 200, ct: ctJSON, wantBody: `{"status":"ok"}`},
		{name: "subrouter_param", method: "GET", path: "/api/items/7", status: 200, ct: ctJSON, wantBody: `{"item":7}`},
		{name: "subrouter_not_found", method: "GET", path: "/api/missing", status: 404, ct: ctJSON, wantBody: `{"error":"not found","path":"/api/missing"}`},
		{name: "cors_preflight", method: "OPTIONS", path: "/echo",
			reqHdr: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			status: 204, wantBody: "",
			hdr: map[string]string{
				"Access-Control-Allow-Methods": "GET,POST,OPTIONS",
				"Access-Control-Allow-Headers": "content-type",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httptest.NewRequest(tc.method, "http://example.com"+tc.path, body)
			req.Header.Set("Origin", "https://app.example")
			for k, v := range tc.reqHdr {
				req.Header.Set(k, v)
			}
			resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, req)
			if err != nil {
				t.Fatalf("Fetch %s %s: %v", tc.method, tc.path, err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tc.status, b)
			}
			if string(b) != tc.wantBody {
				t.Errorf("body = %q, want %q", b, tc.wantBody)
			}
			if tc.ct != "" {
				if got := resp.Header.Get("Content-Type"); got != tc.ct {
					t.Errorf("Content-Type = %q, want %q", got, tc.ct)
				}
			}
			// The CORS middleware runs on every route, including errors and 404s.
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, "*")
			}
			for k, want := range tc.hdr {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if t.Failed() {
				t.Logf("response headers: %v", http.Header(resp.Header))
			}
		})
	}
}
