package supervisor_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/warrenhq/warren/supervisor"
)

// An app's client is anyone: when the app throws, it gets the error's code
// and a request id, never the exception's message or stack; the app's log
// has them, under the same id. Every answer carries the id, the app sees
// it, and neither the client nor the app can set it.
func TestAppErrorsArePublicWithRequestID(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	deploy(t, s, "thrower", `export default { fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/throw") throw new TypeError("secret-db-password=hunter2");
  if (p === "/spin") { for (;;) {} }
  return new Response(req.headers.get("warren-request-id"), { headers: { "Warren-Request-Id": "forged-by-app" } });
} }`)
	logOf := func() string {
		lines, _ := s.Logs("thrower", 0)
		b, _ := json.Marshal(lines)
		return string(b)
	}
	code, body, h := get(t, s, "thrower", "/throw")
	rid := h.Get("Warren-Request-Id")
	if code != 500 || len(rid) != 16 {
		t.Fatalf("%d %q %v", code, body, h)
	}
	var e struct {
		Error struct{ Code, Message, Stack, Name, RequestID string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Error.Code != "exception" || e.Error.RequestID != rid || e.Error.Stack != "" || e.Error.Name != "" ||
		strings.Contains(body, "hunter2") || strings.Contains(body, "TypeError") || strings.Contains(body, "app.js") {
		t.Fatalf("the client saw: %s", body)
	}
	var errLine map[string]any
	lines, _ := s.Logs("thrower", 0)
	for _, l := range lines {
		b, _ := json.Marshal(l)
		if strings.Contains(string(b), rid) && l.Level == "error" {
			json.Unmarshal(b, &errLine)
		}
	}
	if msg, _ := errLine["message"].(string); !strings.Contains(msg, "TypeError: secret-db-password=hunter2") || !strings.Contains(msg, "app.js:3") {
		t.Fatalf("the app's log has no error line with the message and stack under %s: %s", rid, logOf())
	}
	// A success carries the id too; the app receives it and cannot forge it.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://x/ok", nil)
	req.Header.Set("Warren-Request-Id", "forged-by-client")
	s.ServeApp(rec, req, "thrower", "/ok")
	if rid := rec.Header().Get("Warren-Request-Id"); rec.Code != 200 || len(rid) != 16 || rec.Body.String() != rid || len(rec.Header().Values("Warren-Request-Id")) != 1 {
		t.Fatalf("ok: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if !strings.Contains(logOf(), `"requestId":"`+rec.Header().Get("Warren-Request-Id")+`"`) {
		t.Fatalf("the request line lacks its id: %s", logOf())
	}
	// An unknown app's 404 carries one as well.
	if code, body, h := get(t, s, "ghost", "/"); code != 404 || h.Get("Warren-Request-Id") == "" || !strings.Contains(body, "requestId") {
		t.Fatalf("404: %d %s %v", code, body, h)
	}
	// A limit keeps its name. (Last: the app's isolate is rebuilt after it,
	// which under the race detector can take the next request past the
	// app's CPU quota.)
	if code, body, h := get(t, s, "thrower", "/spin"); code != 503 || !strings.Contains(body, `"limit": "CPU time"`) || !strings.Contains(body, h.Get("Warren-Request-Id")) {
		t.Fatalf("limit: %d %s", code, body)
	}
}

// A request body that breaks as the client sends it (a bad chunk, a
// connection closed before its Content-Length) is the client's failure: a
// 400, not metered as the app's error (before, any anonymous client could
// raise an app's error count with broken uploads).
func TestClientBodyFailureIsNotTheAppsError(t *testing.T) {
	s := newSup(t, supervisor.Options{})
	deploy(t, s, "upload", `export default { async fetch(req) { return new Response(String((await req.text()).length)) } }`)
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		body := io.MultiReader(strings.NewReader("partial upload"), iotest.ErrReader(io.ErrUnexpectedEOF))
		s.ServeApp(rec, httptest.NewRequest("POST", "http://x/apps/upload/", body), "upload", "/")
		if rec.Code != 400 {
			t.Fatalf("a broken upload: %d %s", rec.Code, rec.Body)
		}
	}
	if code, body, _ := get(t, s, "upload", "/"); code != 200 || body != "0" {
		t.Fatalf("%d %s", code, body)
	}
	rows, err := s.Usage("upload", "all")
	if err != nil || len(rows) != 1 || rows[0].Requests != 4 || rows[0].Errors != 0 {
		t.Fatalf("usage %+v %v: the client's broken uploads were metered as the app's errors", rows, err)
	}
}
