package worker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// compile compiles src as index.js.
func compile(tb testing.TB, rt *worker.Runtime, src string) *worker.Program {
	tb.Helper()
	p, err := rt.Compile(warren.SingleModule("index.js", src))
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return p
}

func readAll(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func refuse(ctx context.Context, req *http.Request) (*http.Response, error) {
	return nil, errors.New("network disabled in tests")
}

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }
