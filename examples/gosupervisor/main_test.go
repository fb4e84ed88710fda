package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGoSupervisor(t *testing.T) {
	var usage bytes.Buffer
	sup, h, err := New(t.TempDir(), json.NewEncoder(&usage))
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(path, tenant string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tenant != "" {
			req.Header.Set("X-Tenant", tenant)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("/hello/x", ""); code != 401 || !strings.Contains(body, "missing X-Tenant") {
		t.Fatalf("no tenant: %d %s", code, body)
	}
	for i, want := range []string{"hello #1 at /x", "hello #2 at /y/z"} {
		path := []string{"/hello/x", "/hello/y/z"}[i]
		if code, body := do(path, "acme"); code != 200 || body != want {
			t.Fatalf("%s: %d %q", path, code, body)
		}
	}
	if code, _ := do("/nope/", "acme"); code != 404 {
		t.Fatalf("unknown app: %d", code)
	}
	// One usage line per forwarded request, with the app's writes.
	lines := strings.Split(strings.TrimSpace(usage.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("usage lines: %q", usage.String())
	}
	var u map[string]any
	json.Unmarshal([]byte(lines[1]), &u)
	if u["app"] != "hello" || u["tenant"] != "acme" || u["path"] != "/y/z" || u["status"] != float64(200) || u["rowsWritten"] != float64(1) {
		t.Fatalf("usage: %v", u)
	}
}
