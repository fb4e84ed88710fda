package webapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/worker"
)

func runtime(tb testing.TB) *worker.Runtime { return testrt.Runtime(tb) }

// evalJS runs body as the inside of an async function in a fresh isolate,
// while handling a request, and returns its result as JSON text. A thrown
// error fails the test unless wantErr is used instead.
func evalJS(tb testing.TB, body string) string {
	tb.Helper()
	out, err := tryJS(tb, body)
	if err != nil {
		tb.Fatalf("JS failed: %v\n--- code ---\n%s", err, body)
	}
	return out
}

// tryJS is evalJS returning the error instead of failing.
func tryJS(tb testing.TB, body string) (string, error) {
	tb.Helper()
	src := "export default { async fetch(request, env, ctx) {\n" +
		"const __r = await (async () => {\n" + body + "\n})();\n" +
		"return new Response(JSON.stringify(__r === undefined ? null : __r));\n} }\n"
	p, err := runtime(tb).Compile(warren.SingleModule("test.js", src))
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	in, err := runtime(tb).NewInstance(p, worker.Config{})
	if err != nil {
		tb.Fatalf("instance: %v", err)
	}
	defer in.Close()
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "http://example.com/", nil))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

// expectJS runs body and compares its JSON result with want (a Go value
// marshalled to JSON).
func expectJS(tb testing.TB, body string, want any) {
	tb.Helper()
	got := evalJS(tb, body)
	w, _ := json.Marshal(want)
	var g, ww any
	_ = json.Unmarshal([]byte(got), &g)
	_ = json.Unmarshal(w, &ww)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(ww)
	if string(gb) != string(wb) {
		tb.Fatalf("got  %s\nwant %s\n--- code ---\n%s", gb, wb, body)
	}
}

func TestHarness(t *testing.T) {
	expectJS(t, `return 1 + 1`, 2)
}
