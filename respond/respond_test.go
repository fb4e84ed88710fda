package respond

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warrenhq/warren"
)

func TestErrorReadsBack(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, &warren.Error{Code: warren.CodeRateLimited, Message: "slow down", Hint: "wait"})
	if rec.Code != 429 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	e := ReadError(rec.Result())
	if e.Code != warren.CodeRateLimited || e.Message != "slow down" || e.Hint != "wait" {
		t.Fatalf("read back %+v", e)
	}
	rec = httptest.NewRecorder()
	Error(rec, errors.New("plain"))
	if e := ReadError(rec.Result()); rec.Code != 500 || e.Code != warren.CodeInternal || e.Message != "plain" {
		t.Fatalf("%d %+v", rec.Code, e)
	}
	if e := ReadError(&http.Response{Status: "200 OK", Body: io.NopCloser(strings.NewReader("not json"))}); e.Code != warren.CodeInternal || !strings.Contains(e.Message, "not json") {
		t.Fatalf("%+v", e)
	}
}

type broken struct{ io.Reader }

func (broken) Close() error { return nil }

func TestCopy(t *testing.T) {
	rec := httptest.NewRecorder()
	err := Copy(rec, &http.Response{StatusCode: 201, Header: http.Header{"X-A": {"1", "2"}}, ContentLength: 5, Body: io.NopCloser(strings.NewReader("hello"))})
	if err != nil || rec.Code != 201 || rec.Body.String() != "hello" || rec.Header().Get("Content-Length") != "5" || len(rec.Header()["X-A"]) != 2 {
		t.Fatalf("%v %d %q %v", err, rec.Code, rec.Body, rec.Header())
	}
	cut := errors.New("cut off")
	rec = httptest.NewRecorder()
	err = Copy(rec, &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: -1, Body: broken{io.MultiReader(strings.NewReader("part"), errReader{cut})}})
	if err != cut || rec.Body.String() != "part" || !rec.Flushed {
		t.Fatalf("%v %q flushed=%v", err, rec.Body, rec.Flushed)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// What an app's client sees of a failure keeps the code and the limit
// name, never the exception's message and stack or an internal error's
// text; the request id rides along.
func TestPublicError(t *testing.T) {
	for _, e := range []*warren.Error{
		{Code: warren.CodeException, Message: "TypeError: secret-detail (at app.ts:3:15)", Name: "TypeError", Stack: "at fetch (app.ts:3:15)", Hint: "secret hint"},
		{Code: warren.CodeInternal, Message: "open /var/lib/warren/apps/x/facets/secret-detail.sqlite: permission denied"},
		{Code: warren.CodeUnavailable, Message: "the app's host process (3) crashed: secret-detail"},
		{Code: warren.CodeLimit, Limit: "CPU time", Message: "secret-detail exceeded", Hint: "cpuMs secret-detail"},
		{Code: warren.CodeTooLarge, Limit: "response headers", Message: "secret-detail headers"},
		{Code: warren.CodeEgress, Message: "fetch(secret-detail.internal) refused"},
	} {
		p := Public(e)
		rec := httptest.NewRecorder()
		ErrorWithID(rec, p, "0123456789abcdef")
		body := rec.Body.String()
		if rec.Code != e.Code.HTTPStatus() || strings.Contains(body, "secret") || strings.Contains(body, "stack") || strings.Contains(body, "app.ts") {
			t.Errorf("%s: %d %s", e.Code, rec.Code, body)
		}
		if !strings.Contains(body, `"requestId": "0123456789abcdef"`) || !strings.Contains(body, `"code": "`+string(e.Code)+`"`) || (e.Limit != "" && !strings.Contains(body, e.Limit)) {
			t.Errorf("%s: %s", e.Code, body)
		}
	}
	// The client's own oversized request keeps its words.
	if p := Public(&warren.Error{Code: warren.CodeTooLarge, Limit: "request body", Message: "the request body is larger than 10 bytes"}); p.Message != "the request body is larger than 10 bytes" {
		t.Errorf("%+v", p)
	}
	if a, b := NewRequestID(), NewRequestID(); len(a) != 16 || a == b {
		t.Errorf("request ids %q %q", a, b)
	}
}

// A header list that crossed the host protocol keeps its names as the host
// wrote them: Copy passes them on canonical, without framing headers or a
// second request id (a subverted host sent "content-length: 0" beside the
// server's chunked framing, and "warren-request-id: forged").
func TestCopyCanonicalWithoutFraming(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set(RequestIDHeader, "real")
	resp := &http.Response{StatusCode: 200, ContentLength: -1, Header: http.Header{
		"content-length":    {"0"},
		"transfer-encoding": {"identity"},
		"warren-request-id": {"forged"},
		"x-app":             {"a"},
		"X-App":             {"b"},
	}, Body: io.NopCloser(strings.NewReader("body"))}
	if err := Copy(rec, resp); err != nil {
		t.Fatal(err)
	}
	h := rec.Result().Header
	if got := h.Values(RequestIDHeader); len(got) != 1 || got[0] != "real" {
		t.Fatalf("request id %q", got)
	}
	for k := range h {
		if k != http.CanonicalHeaderKey(k) {
			t.Errorf("header %q passed on as the host wrote it", k)
		}
	}
	if h.Get("Content-Length") != "" || h.Get("Transfer-Encoding") != "" {
		t.Errorf("framing headers passed on: %v", h)
	}
	if got := h.Values("X-App"); len(got) != 2 {
		t.Errorf("X-App %q", got)
	}
}
