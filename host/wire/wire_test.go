package wire

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pair returns two connected ends of a Unix socket pair, as the host pool
// makes them.
func pair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		out[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}

// conns returns a client end and a server end running h.
func conns(t testing.TB, h http.Handler) (client, server *Conn) {
	a, b := pair(t)
	client, server = NewConn(a, nil), NewConn(b, h)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func get(t *testing.T, c *Conn, method, url string, body io.Reader) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

func TestRoundTrip(t *testing.T) {
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(201)
		fmt.Fprintf(w, "%s %s host=%s q=%s ct=%s clen=%d body=%s", r.Method, r.URL.Path, r.Host, r.URL.Query().Get("q"), r.Header.Get("Content-Type"), r.ContentLength, b)
		w.Header().Set("X-Sum", "42")
	}))
	req, _ := http.NewRequest("POST", "http://example.test/p/a%20b?q=1&q=2", strings.NewReader("hello"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := client.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || string(b) != "POST /p/a b host=example.test q=1 ct=text/plain clen=5 body=hello" {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
	if got := resp.Header.Values("X-Multi"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("X-Multi = %q", got)
	}
	if resp.Trailer.Get("X-Sum") != "42" {
		t.Fatalf("trailer = %v", resp.Trailer)
	}
	if resp.Header.Get("Trailer") != "" {
		t.Fatal("the Trailer declaration crossed as a header")
	}

	// No body at all: the head alone, both ways.
	client2, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	resp = get(t, client2, "GET", "http://x/", nil)
	if resp.StatusCode != 204 || resp.Body != http.NoBody {
		t.Fatalf("got %d %T", resp.StatusCode, resp.Body)
	}
}

// Large bodies both ways, of unknown length, go through flow control intact.
func TestLargeStreamedBodies(t *testing.T) {
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("X-In", fmt.Sprintf("%d %x", n, h.Sum(nil)))
		rng := rand.New(rand.NewPCG(2, 2))
		buf := make([]byte, 10_000)
		for i := 0; i < 1000; i++ { // 10 MB in odd-sized writes
			for j := range buf {
				buf[j] = byte(rng.Uint32())
			}
			w.Write(buf[:1+i%len(buf)])
		}
	}))
	in := make([]byte, 9<<20+123)
	for i := range in {
		in[i] = byte(i * 7)
	}
	want := sha256.Sum256(in)
	req, _ := http.NewRequest("PUT", "http://x/up", io.NopCloser(bytes.NewReader(in)))
	req.ContentLength = -1
	resp, err := client.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-In"); got != fmt.Sprintf("%d %x", len(in), want) {
		t.Fatalf("server saw %q", got)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	wantOut := sha256.New()
	buf := make([]byte, 10_000)
	var total int64
	for i := 0; i < 1000; i++ {
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		wantOut.Write(buf[:1+i%len(buf)])
		total += int64(1 + i%len(buf))
	}
	if n != total || !bytes.Equal(h.Sum(nil), wantOut.Sum(nil)) {
		t.Fatalf("response: %d bytes, digest mismatch=%v", n, !bytes.Equal(h.Sum(nil), wantOut.Sum(nil)))
	}
}

// A stream whose reader does not read holds back only itself.
func TestSlowReaderDoesNotBlockOthers(t *testing.T) {
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flood" {
			buf := make([]byte, 64<<10)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		}
		io.WriteString(w, "quick")
	}))
	flood := get(t, client, "GET", "http://x/flood", nil) // never read
	for i := 0; i < 50; i++ {
		resp := get(t, client, "GET", "http://x/quick", nil)
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "quick" {
			t.Fatalf("got %q", b)
		}
	}
	flood.Body.Close()
}

// Many requests at once, each answered with its own body.
func TestConcurrentStreams(t *testing.T) {
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(bytes.Repeat(b, 3))
	}))
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			msg := strings.Repeat(fmt.Sprint(i), 1+i*37)
			req, _ := http.NewRequest("POST", "http://x/", strings.NewReader(msg))
			resp, err := client.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil || string(b) != strings.Repeat(msg, 3) {
				errs <- fmt.Errorf("stream %d: %v, %d bytes", i, err, len(b))
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	client.mu.Lock()
	open := len(client.out)
	client.mu.Unlock()
	if open != 0 {
		t.Fatalf("%d streams still open after every response was read", open)
	}
}

// Cancelling the request reaches the handler's context.
func TestCancelReachesHandler(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(cancelled)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/", nil)
	done := make(chan error, 1)
	go func() {
		_, err := client.RoundTrip(req)
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RoundTrip = %v, want context.Canceled", err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's context was not cancelled")
	}
}

// A handler that aborts mid-body gives the reader an error, not a short body.
func TestAbortedResponse(t *testing.T) {
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	resp := get(t, client, "GET", "http://x/", nil)
	b, err := io.ReadAll(resp.Body)
	var re *ResetError
	if !errors.As(err, &re) || string(b) != "partial" {
		t.Fatalf("got %q, %v; want the partial body and a reset", b, err)
	}
}

// The peer going away fails requests in flight and later ones.
func TestPeerGone(t *testing.T) {
	hold := make(chan struct{})
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hold }))
	defer close(hold)
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		_, err := client.RoundTrip(req)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	server.Close()
	if err := <-done; err == nil {
		t.Fatal("RoundTrip succeeded with the peer gone")
	}
	<-client.Done()
	req, _ := http.NewRequest("GET", "http://x/", nil)
	if _, err := client.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip on a dead connection succeeded")
	}
}

// Requests to an end with no handler are refused, not crashed.
func TestNoHandler(t *testing.T) {
	a, b := pair(t)
	c1, c2 := NewConn(a, nil), NewConn(b, nil)
	defer c1.Close()
	defer c2.Close()
	req, _ := http.NewRequest("GET", "http://x/", nil)
	if _, err := c1.RoundTrip(req); err == nil {
		t.Fatal("no error")
	}
}

// Both ends may open streams on one connection.
func TestBothDirections(t *testing.T) {
	a, b := pair(t)
	echo := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name+r.URL.Path) })
	}
	c1, c2 := NewConn(a, echo("one")), NewConn(b, echo("two"))
	defer c1.Close()
	defer c2.Close()
	for i := 0; i < 3; i++ {
		for _, c := range []*Conn{c1, c2} {
			req, _ := http.NewRequest("GET", "http://x/p", nil)
			resp, err := c.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			want := map[*Conn]string{c1: "two/p", c2: "one/p"}[c]
			if string(got) != want {
				t.Fatalf("got %q want %q", got, want)
			}
		}
	}
}

// BenchmarkRoundTrip is the protocol's share of the process hop: one small
// request and response at a time over a socket pair (both ends in this
// process).
func BenchmarkRoundTrip(b *testing.B) {
	client, _ := conns(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		w.Header().Set("Trailer", "X-U")
		w.Write([]byte("ok"))
		w.Header().Set("X-U", `{"cpu":1}`)
	}))
	req, _ := http.NewRequest("GET", "http://x/", nil)
	req.Header.Set("X-Spec", `{"id":"hop","version":1}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

// A peer may not hold more than MaxStreams open: the next is refused, the
// others carry on.
func TestTooManyStreams(t *testing.T) {
	release := make(chan struct{})
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "ok")
	}))
	var wg sync.WaitGroup
	var failed sync.Map
	for i := 0; i < MaxStreams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "http://x/", nil)
			resp, err := client.RoundTrip(req)
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				if err == nil && string(b) != "ok" {
					err = fmt.Errorf("body %q", b)
				}
			}
			if err != nil {
				failed.Store(i, err)
			}
		}(i)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		server.mu.Lock()
		n := len(server.in)
		server.mu.Unlock()
		if n == MaxStreams {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d streams open", n)
		}
	}
	req, _ := http.NewRequest("GET", "http://x/", nil)
	var re *ResetError
	if _, err := client.RoundTrip(req); !errors.As(err, &re) {
		t.Fatalf("stream %d: %v, want a reset", MaxStreams+1, err)
	}
	close(release)
	wg.Wait()
	failed.Range(func(k, v any) bool {
		t.Errorf("stream %v: %v", k, v)
		return true
	})
}
