package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/supervisor"
)

const token = "test-token-0123456789"

func appsServer(t *testing.T) string {
	rt := testrt.Runtime(t)
	sup, err := supervisor.New(supervisor.Options{Runtime: rt, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Close)
	return serve(t, &gateway.Server{Loader: loader.New(rt, loader.Options{}), Apps: sup, AdminToken: token, Domain: "apps.test"}).URL
}

// serve starts gw, its log discarded, on a test server closed when the
// test ends.
func serve(tb testing.TB, gw *gateway.Server) *httptest.Server {
	gw.Log = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(gw.Handler())
	tb.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, method, url, tok, host, ctype, body string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if host != "" {
		req.Host = host
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestAdminAPIAndRouting(t *testing.T) {
	base := appsServer(t)
	app := `export class App { constructor(ctx) { this.ctx = ctx } fetch(req) { return new Response("app sees " + new URL(req.url).pathname + new URL(req.url).search) } }`
	// The admin API and /metrics need the token.
	for _, tok := range []string{"", "wrong-token-0123456789"} {
		if code, body, h := call(t, "PUT", base+"/api/v1/apps/shop", tok, "", "application/javascript", app); code != 401 || !strings.Contains(body, "admin token") || h.Get("WWW-Authenticate") == "" {
			t.Fatalf("token %q: %d %s", tok, code, body)
		}
		if code, _, _ := call(t, "GET", base+"/metrics", tok, "", "", ""); code != 401 {
			t.Fatalf("metrics without token: %d", code)
		}
	}
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/shop", token, "", "application/javascript", app); code != 201 || !strings.Contains(body, `"version": 1`) {
		t.Fatalf("deploy: %d %s", code, body)
	}
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/shop", token, "", "application/json", `{"mainModule":"a.js","modules":{"a.js":`+jsonString(app)+`},"limits":{"cpuMs":50}}`); code != 200 || !strings.Contains(body, `"version": 2`) {
		t.Fatalf("redeploy: %d %s", code, body)
	}
	// Path routing strips /apps/{id}; host routing passes the path through.
	if code, body, _ := call(t, "GET", base+"/apps/shop/a/b?q=1", "", "", "", ""); code != 200 || body != "app sees /a/b?q=1" {
		t.Fatalf("path routing: %d %q", code, body)
	}
	if code, body, _ := call(t, "GET", base+"/apps/shop", "", "", "", ""); code != 200 || body != "app sees /" {
		t.Fatalf("app root: %d %q", code, body)
	}
	if code, body, _ := call(t, "GET", base+"/a/b", "", "shop.apps.test:8080", "", ""); code != 200 || body != "app sees /a/b" {
		t.Fatalf("host routing: %d %q", code, body)
	}
	if code, body, _ := call(t, "GET", base+"/", "", "ghost.apps.test", "", ""); code != 404 || !strings.Contains(body, `no app \"ghost\"`) {
		t.Fatalf("unknown host app: %d %q", code, body)
	}
	if code, body, _ := call(t, "GET", base+"/", "", "a.b.apps.test", "", ""); code != 400 || !strings.Contains(body, "invalid app id") {
		t.Fatalf("nested host: %d %q", code, body)
	}
	// Errors are JSON with a hint.
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/Bad..Id", token, "", "application/javascript", app); code != 400 || !strings.Contains(body, "invalid app id") {
		t.Fatalf("bad id: %d %s", code, body)
	}
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/x", token, "", "application/typescript", "export class App {\n  fetch( {\n}"); code != 400 || !strings.Contains(body, "app.ts:") {
		t.Fatalf("broken code: %d %s", code, body)
	}
	if code, body, _ := call(t, "POST", base+"/api/v1/apps/shop/rollback?version=abc", token, "", "", ""); code != 400 || !strings.Contains(body, "not a version number") {
		t.Fatalf("bad rollback: %d %s", code, body)
	}
	if code, body, _ := call(t, "GET", base+"/nothing/here", "", "", "", ""); code != 404 || !strings.Contains(body, "/apps/{id}") {
		t.Fatalf("no route: %d %s", code, body)
	}
	if code, body, _ := call(t, "PUT", base+"/api/v1/apps/big", token, "", "application/javascript", strings.Repeat("x", 25<<20)); code != 413 || !strings.Contains(body, "deploy size") {
		t.Fatalf("huge deploy: %d %.200s", code, body)
	}
	// Metrics with the token.
	code, body, _ := call(t, "GET", base+"/metrics", token, "", "", "")
	if code != 200 || !strings.Contains(body, `warren_app_requests_total{app="shop"} 3`) || !strings.Contains(body, "warren_request_duration_seconds_bucket") {
		t.Fatalf("metrics: %d %s", code, body)
	}
	// Usage as CSV.
	code, body, h := call(t, "GET", base+"/api/v1/apps/shop/usage?period=all", token, "", "", "")
	if code != 200 || !strings.Contains(body, `"requests": 3`) {
		t.Fatalf("usage: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/usage", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(b), "app,period,requests") {
		t.Fatalf("csv: %v %s %v", resp.Header, b, h)
	}
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
