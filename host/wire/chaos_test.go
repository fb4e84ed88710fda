package wire

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Requests that end every way at once (early closes, cancels, handler
// panics, bodies read in part or not at all, of every size) leave no
// stream behind on either end.
func TestEveryEndingForgetsItsStream(t *testing.T) {
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rng := rand.New(rand.NewPCG(uint64(len(r.URL.RawQuery)), uint64(r.ContentLength)))
		q := r.URL.Query()
		switch q.Get("read") {
		case "all":
			io.Copy(io.Discard, r.Body)
		case "part":
			io.CopyN(io.Discard, r.Body, 70_000)
		}
		switch q.Get("resp") {
		case "panic":
			io.WriteString(w, "x")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case "large":
			buf := make([]byte, 1+rng.IntN(100_000))
			for i := 0; i < 30; i++ {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		case "flush":
			io.WriteString(w, "head")
			w.(http.Flusher).Flush()
			io.Copy(io.Discard, r.Body)
			w.Header().Set(http.TrailerPrefix+"X-T", "1")
		default:
			io.WriteString(w, "ok")
		}
	}))
	var wg sync.WaitGroup
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			url := "http://x/?read=" + pick("all", "part", "none") + "&resp=" + pick("panic", "large", "flush", "small")
			var body io.Reader
			size := []int{0, 10, 70_000, 3 << 20}[rng.IntN(4)]
			if size > 0 {
				body = strings.NewReader(strings.Repeat("b", size))
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", url, body)
			if rng.IntN(2) == 0 && body != nil {
				req.Body, req.ContentLength = io.NopCloser(body), -1
			}
			how := pick("read", "close", "cancel", "cancel-early")
			if how == "cancel-early" {
				go cancel()
			}
			resp, err := client.RoundTrip(req)
			if err != nil {
				return
			}
			switch how {
			case "read":
				io.Copy(io.Discard, resp.Body)
			case "close":
				io.CopyN(io.Discard, resp.Body, int64(rng.IntN(200_000)))
			case "cancel":
				io.CopyN(io.Discard, resp.Body, int64(rng.IntN(200_000)))
				cancel()
				io.Copy(io.Discard, resp.Body)
			}
			resp.Body.Close()
		}(i)
	}
	wg.Wait()
	if !waitFor(func() bool { return streamsOpen(client) == 0 && streamsOpen(server) == 0 }) {
		client.mu.Lock()
		server.mu.Lock()
		t.Errorf("streams left: client %d out %d in, server %d out %d in", len(client.out), len(client.in), len(server.out), len(server.in))
		for id, s := range server.in {
			s.mu.Lock()
			t.Logf("server stream %d: sendDone=%v recvEnd=%v recvErr=%v discard=%v", id, s.sendDone, s.recvEnd, s.recvErr, s.discard)
			s.mu.Unlock()
		}
		for id, s := range client.out {
			s.mu.Lock()
			t.Logf("client stream %d: sendDone=%v recvEnd=%v recvErr=%v head=%v", id, s.sendDone, s.recvEnd, s.recvErr, s.head != nil)
			s.mu.Unlock()
		}
		server.mu.Unlock()
		client.mu.Unlock()
	}
}
