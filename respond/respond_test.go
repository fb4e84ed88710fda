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
