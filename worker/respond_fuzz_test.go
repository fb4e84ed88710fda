package worker_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// respondSrc returns the response the request body describes. Mode 0 builds
// it with the Headers and Response classes (which validate); mode 1
// replaces the response's header list and status after construction, so
// the pairs reach the host's respond operation exactly as given (what a
// hostile Worker can do to its own prelude objects).
const respondSrc = `export default { async fetch(req) {
  const { status, statusText, name, value, mode } = await req.json();
  if (mode === 1) {
    const res = new Response("body");
    Object.defineProperty(res, "status", { value: status });
    Object.defineProperty(res, "statusText", { value: statusText });
    res.headers._flat = () => name + "\n" + value + "\nx-after\n1";
    return res;
  }
  let headers;
  try { headers = new Headers([[name, value]]); }
  catch (e) { return new Response(e.name, { status: 290, headers: { "x-refused": "header" } }); }
  try { return new Response("body", { status, statusText, headers }); }
  catch (e) { return new Response(e.name, { status: 291, headers: { "x-refused": "init" } }); }
} }`

// hopByHopHeaders may never reach the client from a Worker.
var hopByHopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Te", "Trailer", "Upgrade", "Content-Length"}

// FuzzRespondHeaders runs a Worker that answers with a fuzzed status,
// status text and header, through the real respond path (JS classes, wire
// JSON, the host's checks). Whatever the Worker sends, the *http.Response
// Warren hands on must be something net/http can write without smuggling:
// status 200-599, a status text without control characters, header names
// that are HTTP tokens, values without CR, LF or NUL, and no framing
// (hop-by-hop) headers. A header the Headers class accepts must arrive with
// its value trimmed as the Fetch standard says.
func FuzzRespondHeaders(f *testing.F) {
	for _, s := range []struct {
		status     int
		text, n, v string
		mode       uint8
	}{
		{200, "OK", "x-a", "1", 0},
		{201, "Created", "Content-Type", "text/html; charset=utf-8", 0},
		{599, "", "set-cookie", "a=b; Path=/; HttpOnly", 0},
		{199, "", "x-a", "1", 0}, {600, "", "x-a", "1", 0}, {101, "Switching", "upgrade", "websocket", 0},
		{200, "O\r\nK", "x-a", " \t padded value \t ", 0},
		{200, "", "Content-Length", "5", 0}, {200, "", "transfer-encoding", "chunked", 0}, {200, "", "Connection", "close", 0},
		{200, "", "x-a", "a\r\nInjected: 1", 0}, {200, "", "x-a", "nul\x00byte", 0}, {200, "", "x-a", "ctl\x01\x7f", 0},
		{200, "", "x a", "1", 0}, {200, "", "x:a", "1", 0}, {200, "", "", "1", 0}, {200, "", "ünï", "1", 0}, {200, "", "x-a", "ünïcödé 🙂", 0},
		{200, "", "!#$%&'*+-.^_`|~09AZaz", "v", 0}, {200, "", "x-a", strings.Repeat("v", 300<<10), 0},
		{200, "OK", "x-a", "1", 1}, {200, "", "x\r\nInjected", "1", 1}, {200, "", "x-a", "a\r\nInjected: 1", 1},
		{200, "", "", "", 1}, {200, "", "x a", "b", 1}, {200, "", "Content-Length", "999", 1}, {200, "", "x-a", "\x00", 1},
		{700, "", "x-a", "1", 1}, {-1, "", "x-a", "1", 1}, {200, "bad\x00text\r\n", "x-a", "1", 1},
	} {
		f.Add(s.status, s.text, s.n, s.v, s.mode)
	}
	p, err := runtime(f).Compile(warren.SingleModule("index.js", respondSrc))
	if err != nil {
		f.Fatal(err)
	}
	in, err := runtime(f).NewInstance(p, worker.Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer in.Close()
	f.Fuzz(func(t *testing.T, status int, statusText, name, value string, mode uint8) {
		body, err := json.Marshal(map[string]any{"status": status, "statusText": statusText, "name": name, "value": value, "mode": int(mode % 2)})
		if err != nil {
			return
		}
		req := httptest.NewRequest("POST", "http://example.com/", strings.NewReader(string(body)))
		resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, req)
		if err != nil {
			return // refused (bad status, headers too large, ...): nothing reaches the client
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode < 200 || resp.StatusCode > 599 {
			t.Fatalf("status %d reached the client", resp.StatusCode)
		}
		if strings.ContainsFunc(resp.Status, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("status line %q has control characters", resp.Status)
		}
		for k, vs := range resp.Header {
			if !httpguts.ValidHeaderFieldName(k) {
				t.Fatalf("header name %q is not an HTTP token", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("header %s has value %q with CR, LF or NUL", k, v)
				}
			}
		}
		for _, h := range hopByHopHeaders {
			if _, ok := resp.Header[h]; ok {
				t.Fatalf("framing header %s reached the client", h)
			}
		}
		if mode%2 == 0 && resp.StatusCode != 290 && resp.StatusCode != 291 {
			// The strings as JavaScript got them (JSON turns bad UTF-8 into U+FFFD).
			var sent struct{ Name, Value string }
			json.Unmarshal(body, &sent)
			name, value = sent.Name, sent.Value
			want := strings.Trim(value, "\t\n\r ")
			k := http.CanonicalHeaderKey(name)
			hop := false
			for _, h := range hopByHopHeaders {
				hop = hop || h == k
			}
			if got := resp.Header.Values(k); !hop && (len(got) != 1 || got[0] != want) {
				t.Fatalf("header %q: %q set, %q arrived", name, want, got)
			}
		}
	})
}
