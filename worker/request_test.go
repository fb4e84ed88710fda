package worker_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// stalling is a request body that gives n bytes, then waits for release
// and fails (a client that stopped sending).
type stalling struct {
	n       int
	sent    atomic.Int64
	release chan struct{}
}

func (s *stalling) Read(p []byte) (int, error) {
	if left := s.n - int(s.sent.Load()); left > 0 {
		k := min(len(p), left)
		s.sent.Add(int64(k))
		return k, nil
	}
	<-s.release
	return 0, errors.New("the client went away")
}

// Request bodies are read whole into Go before the request is queued:
// what concurrent requests to one isolate hold there is bounded by its
// memory limit (with its subrequest bodies), the excess refused with 503.
// Each of up to 32 MiB used to be read in full, however many at once.
func TestRequestBodiesHeldWithinTheMemoryLimit(t *testing.T) {
	const mem = 32 << 20
	in := newInstance(t, `export default { async fetch(req) { return new Response(String(req.headers.has('x-bin') ? (await req.arrayBuffer()).byteLength : (await req.text()).length)) } }`,
		worker.Config{Limits: warren.Limits{MemoryBytes: mem}})
	release := make(chan struct{})
	var stalled []*stalling
	done := make(chan error, 2)
	for i := 0; i < 2; i++ { // 24 MiB held between them, not yet delivered
		body := &stalling{n: 12 << 20, release: release}
		stalled = append(stalled, body)
		go func() {
			_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("POST", "/", body))
			done <- err
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); stalled[0].sent.Load() < 12<<20 || stalled[1].sent.Load() < 12<<20; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bodies were not read")
		}
	}
	_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, 12<<20))))
	var we *warren.Error
	if !errors.As(err, &we) || we.Code != warren.CodeUnavailable || !strings.Contains(we.Message, "memory limit") {
		t.Fatalf("a third 12 MiB body with 24 MiB held (memory limit 32 MiB): %v, want a 503 for the memory limit", err)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if err := <-done; err == nil || !strings.Contains(err.Error(), "went away") {
			t.Fatalf("a body that failed: %v", err)
		}
	}
	// What was held is given back, both by failed reads and by delivered
	// requests: ten 4 MiB bodies (text and binary) one after the other all go through.
	for i := 0; i < 10; i++ {
		body := bytes.Repeat([]byte("a"), 4<<20)
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if i == 9 {
			body[0] = 0xff // binary: held as base64
			req.Header.Set("X-Bin", "1")
		}
		resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "4194304" {
			t.Fatalf("request %d: %q", i, b)
		}
	}
}
