package wire

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// held returns the body bytes c holds buffered across its streams.
func held(c *Conn) int {
	c.mu.Lock()
	streams := make([]*stream, 0, len(c.in)+len(c.out))
	for _, s := range c.in {
		streams = append(streams, s)
	}
	for _, s := range c.out {
		streams = append(streams, s)
	}
	c.mu.Unlock()
	n := 0
	for _, s := range streams {
		s.mu.Lock()
		n += s.buffered
		s.mu.Unlock()
	}
	return n
}

// A subverted peer opens many streams and fills each one's window while
// the handlers read nothing: what it makes this end hold is bounded by the
// connection's window, past which the connection ends. Without a
// connection-wide window it held 1 MiB a stream, up to 10,000 streams.
func TestConnectionWindowBoundsWhatAPeerPins(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, raw := newRaw(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // reads nothing
		case <-release:
		case <-r.Context().Done():
		}
	}), true)
	const streams = 40
	go func() {
		data := make([]byte, chunk)
		for id := uint32(1); id <= streams; id++ {
			b := appendFrame(nil, fHeaders, flagFromInit, id, appendRequestHead(nil, "PUT", "/", "h", -1, nil))
			for sent := 0; sent < Window; sent += len(data) {
				b = appendFrame(b, fData, flagFromInit, id, data)
			}
			raw.wmu.Lock()
			_, err := raw.nc.Write(b)
			raw.wmu.Unlock()
			if err != nil {
				return // the connection ended
			}
		}
	}()
	most := 0
	deadline := time.Now().Add(hang)
	for {
		most = max(most, held(c))
		select {
		case <-c.Done():
		default:
			if most < streams*Window && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
				continue
			}
		}
		break
	}
	if most > ConnWindow {
		t.Fatalf("the peer made this end hold %d MiB over %d streams (connection window %d MiB)", most>>20, streams, ConnWindow>>20)
	}
	select {
	case <-c.Done():
	case <-time.After(hang):
		t.Fatal("the connection did not end")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "connection's window") {
		t.Fatalf("the connection ended with %v, want a window overrun", err)
	}
}

// A well-behaved sender keeps to the connection's window: many responses
// whose reader stalls hold at most ConnWindow at the client, and each takes
// a share of what is left, so other streams still go through.
func TestStalledStreamsStayInTheConnectionWindow(t *testing.T) {
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flood" {
			buf := make([]byte, chunk)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		}
		io.WriteString(w, "quick")
	}))
	const stalled = 40 // more than ConnWindow/Window
	for i := 0; i < stalled; i++ {
		defer get(t, client, "GET", "http://x/flood", nil).Body.Close() // never read
	}
	// Wait until the floods have taken what they will.
	last, since := -1, time.Now()
	for deadline := time.Now().Add(hang); time.Since(since) < 200*time.Millisecond; time.Sleep(5 * time.Millisecond) {
		if n := held(client); n != last {
			last, since = n, time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatal("the floods never settled")
		}
	}
	if last > ConnWindow {
		t.Fatalf("%d stalled streams hold %d MiB at the client (connection window %d MiB)", stalled, last>>20, ConnWindow>>20)
	}
	server.fmu.Lock()
	avail := server.sendAvail
	server.fmu.Unlock()
	t.Logf("%d stalled streams hold %d KiB; %d KiB of the connection window left", stalled, last>>10, avail>>10)
	big := strings.Repeat("q", 3*minShare)
	for i := 0; i < 20; i++ {
		resp := get(t, client, "GET", "http://x/quick", nil)
		if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "quick" {
			t.Fatalf("got %q, %v", b, err)
		}
		// A body larger than a share goes too, in pieces.
		resp = get(t, client, "POST", "http://x/quick", strings.NewReader(big))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// Every way a stream ends gives its bytes back to the connection's window:
// one that leaked credit would close the connection down over time.
func TestConnectionCreditComesBack(t *testing.T) {
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			io.Copy(w, r.Body)
		case "/ignore": // reads none of the body
			io.WriteString(w, "ignored")
		case "/half":
			io.CopyN(io.Discard, r.Body, 100<<10)
			w.Write(make([]byte, 3<<20))
		case "/panic":
			io.CopyN(io.Discard, r.Body, 10)
			panic(http.ErrAbortHandler)
		case "/wait":
			w.Write(make([]byte, 200<<10))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	body := func() io.Reader { return strings.NewReader(strings.Repeat("b", 700<<10)) }
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, path := range []string{"/echo", "/ignore", "/half", "/panic"} {
				req := mustRequest("POST", "http://x"+path, body())
				if i%2 == 1 {
					req.ContentLength = -1
				}
				resp, err := client.RoundTrip(req)
				if err != nil {
					continue
				}
				if path == "/half" {
					io.CopyN(io.Discard, resp.Body, 50<<10) // then let go
				} else {
					io.Copy(io.Discard, resp.Body)
				}
				resp.Body.Close()
			}
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/wait", nil)
			if resp, err := client.RoundTrip(req); err == nil {
				io.CopyN(io.Discard, resp.Body, 10)
				time.Sleep(20 * time.Millisecond) // the rest arrives
				cancel()
				resp.Body.Close()
			}
			cancel()
		}()
	}
	wg.Wait()
	balanced := func(sender, receiver *Conn) bool {
		sender.fmu.Lock()
		avail := sender.sendAvail
		sender.fmu.Unlock()
		receiver.fmu.Lock()
		defer receiver.fmu.Unlock()
		return receiver.recvHeld == receiver.recvFreed && avail+receiver.recvHeld == ConnWindow
	}
	if !waitFor(func() bool {
		return streamsOpen(client) == 0 && streamsOpen(server) == 0 && balanced(client, server) && balanced(server, client)
	}) {
		for _, c := range []*Conn{client, server} {
			c.fmu.Lock()
			t.Errorf("sendAvail %d, recvHeld %d, recvFreed %d, streams %d", c.sendAvail, c.recvHeld, c.recvFreed, streamsOpen(c))
			c.fmu.Unlock()
		}
		t.Fatal("connection credit did not come back")
	}
}

// connBalanced reports whether what sender may still send and what
// receiver holds add up to the connection's window, and receiver owes
// credit for all it holds (no stream keeps any).
func connBalanced(sender, receiver *Conn) bool {
	sender.fmu.Lock()
	avail := sender.sendAvail
	sender.fmu.Unlock()
	receiver.fmu.Lock()
	defer receiver.fmu.Unlock()
	return receiver.recvHeld == receiver.recvFreed && avail+receiver.recvHeld == ConnWindow
}

func waitBalanced(t *testing.T, client, server *Conn) {
	t.Helper()
	if !waitFor(func() bool {
		return streamsOpen(client) == 0 && streamsOpen(server) == 0 && connBalanced(client, server) && connBalanced(server, client)
	}) {
		for _, c := range []*Conn{client, server} {
			c.fmu.Lock()
			t.Errorf("sendAvail %d, recvHeld %d, recvFreed %d, streams %d", c.sendAvail, c.recvHeld, c.recvFreed, streamsOpen(c))
			c.fmu.Unlock()
		}
		t.Fatal("connection credit did not come back")
	}
}

// A handler writes a large body in one Write, which goes out in frames
// gathered several to a write; the client reads a little and closes, so
// its reset arrives while the server is gathering frames. The credit those
// frames took must come back though they are never sent: it was lost, up
// to three frames a stream (about 1 MiB over these 64 streams, every run).
func TestResetWhileGatheringFramesGivesCreditBack(t *testing.T) {
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 3<<20))
	}))
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 16; j++ {
				resp := get(t, client, "GET", "http://x/big", nil)
				io.CopyN(io.Discard, resp.Body, 50<<10)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	waitBalanced(t, client, server)
}

// A small request body goes with its head, but may wait for connection
// credit; the handler answers without reading it, so the whole response
// arrives while the body waits. The client returns that response (as for
// a large body) and the bytes of its body are read or let go: RoundTrip
// returned an error and the response's bytes stayed held for good.
func TestResponseBeforeSmallBodyGivesCreditBack(t *testing.T) {
	reply := strings.Repeat("r", 40<<10)
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, reply) // reads none of the body
	}))
	// Other streams hold the client's connection window: the body waits.
	client.fmu.Lock()
	client.sendAvail = 0
	client.fmu.Unlock()
	req := mustRequest("POST", "http://x/", strings.NewReader(strings.Repeat("b", 10<<10)))
	if resp, err := client.RoundTrip(req); err != nil {
		t.Errorf("RoundTrip: %v", err)
	} else {
		if b, err := io.ReadAll(resp.Body); err != nil || string(b) != reply {
			t.Errorf("got %d bytes, %v", len(b), err)
		}
		resp.Body.Close()
	}
	client.unreserve(ConnWindow) // the other streams end
	waitBalanced(t, client, server)
}
