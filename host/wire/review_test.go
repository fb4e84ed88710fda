package wire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of defects found in review. A raw peer plays the other end frame
// by frame, as a subverted host can.

// hang is the generous deadline after which a wait is a hang.
const hang = 20 * time.Second

type frame struct {
	typ, flags byte
	id         uint32
	p          []byte
}

// rawPeer is one end of a socket pair driven by hand.
type rawPeer struct {
	t      testing.TB
	nc     net.Conn
	wmu    sync.Mutex
	frames chan frame // what the Conn sent; closed when it closes
}

// newRaw returns a Conn on one end of a pair and a raw peer on the other.
// read says whether the peer reads what the Conn sends.
func newRaw(t testing.TB, h http.Handler, read bool) (*Conn, *rawPeer) {
	a, b := pair(t)
	c := NewConn(a, h)
	r := &rawPeer{t: t, nc: b, frames: make(chan frame, 1<<16)}
	t.Cleanup(func() { c.Close(); b.Close() })
	if read {
		go func() {
			defer close(r.frames)
			br := bufio.NewReader(b)
			var hdr [headerSize]byte
			for {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return
				}
				p := make([]byte, binary.BigEndian.Uint32(hdr[0:4]))
				if _, err := io.ReadFull(br, p); err != nil {
					return
				}
				r.frames <- frame{hdr[4], hdr[5], binary.BigEndian.Uint32(hdr[6:10]), p}
			}
		}()
	}
	return c, r
}

// trySend is send for a frame the Conn may already have hung up on (after
// a protocol error it closes the socket, and the write may fail).
func (r *rawPeer) trySend(b []byte) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.nc.Write(b)
}

func (r *rawPeer) send(b []byte) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Errorf("raw peer: write: %v", err)
	}
}

// next returns the next frame of type typ (others are skipped).
func (r *rawPeer) next(typ byte) frame {
	r.t.Helper()
	deadline := time.After(hang)
	for {
		select {
		case f, ok := <-r.frames:
			if !ok {
				r.t.Fatalf("the connection closed while waiting for a frame of type %d", typ)
			}
			if f.typ == typ {
				return f
			}
		case <-deadline:
			r.t.Fatalf("no frame of type %d", typ)
		}
	}
}

// waitFor polls cond until it holds; false after the hang deadline.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(hang); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func streamsOpen(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out) + len(c.in)
}

func roundTripAsync(c *Conn, req *http.Request) chan error {
	done := make(chan error, 1)
	go func() {
		resp, err := c.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	return done
}

// Headers changed after WriteHeader are not part of the head (as in
// net/http), and trailers, declared or by http.TrailerPrefix, cross only as
// trailers: a response buffered to the handler's return used to send every
// one of them in its head too.
func TestTrailersStayOutOfTheHead(t *testing.T) {
	for _, flush := range []bool{false, true} {
		client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Sum")
			w.Header().Set("X-Before", "1")
			w.WriteHeader(200)
			w.Header().Set("X-After", "1")
			io.WriteString(w, "body")
			if flush {
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "42")
			w.Header().Set(http.TrailerPrefix+"X-Usage", "7")
		}))
		resp := get(t, client, "GET", "http://x/", nil)
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != "body" {
			t.Fatalf("flush=%v: body %q, %v", flush, b, err)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, http.TrailerPrefix) || k == "X-Sum" || k == "X-After" || k == "Trailer" {
				t.Errorf("flush=%v: header %q in the head: %v", flush, k, resp.Header)
			}
		}
		if resp.Header.Get("X-Before") != "1" {
			t.Errorf("flush=%v: X-Before missing: %v", flush, resp.Header)
		}
		if resp.Trailer.Get("X-Sum") != "42" || resp.Trailer.Get("X-Usage") != "7" {
			t.Errorf("flush=%v: trailers %v", flush, resp.Trailer)
		}
	}
}

// A response's end (or body) before its head is a protocol error: it used
// to end the stream with RoundTrip still waiting for the head, forever
// when its context has no deadline.
func TestBodyBeforeResponseHead(t *testing.T) {
	for _, typ := range []byte{fEnd, fData} {
		client, raw := newRaw(t, nil, true)
		done := roundTripAsync(client, mustRequest("GET", "http://x/", nil))
		f := raw.next(fHeaders)
		p := []byte("data")
		if typ == fEnd {
			p = appendHeader(nil, nil)
		}
		raw.send(appendFrame(nil, typ, 0, f.id, p))
		// The first frame is already a protocol error: the Conn may close
		// the socket before this one arrives.
		raw.trySend(appendFrame(nil, fEnd, 0, f.id, appendHeader(nil, nil)))
		select {
		case err := <-done:
			if err == nil {
				t.Fatalf("frame type %d before the head: RoundTrip succeeded", typ)
			}
		case <-time.After(hang):
			t.Fatalf("frame type %d before the head: RoundTrip hangs", typ)
		}
	}
}

func mustRequest(method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	return req
}

// A head the peer would refuse (over MaxPayload, or over maxFields
// fields) fails its own stream, not the connection: an app's response
// headers (or an outbound site's, on the calls connection) used to end
// every stream of the host.
func TestOversizedHeadFailsOnlyItsStream(t *testing.T) {
	big := strings.Repeat("a", MaxPayload)
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("X-Big", big)
		case "/many":
			for i := 0; i <= maxFields; i++ {
				w.Header().Add("X-Many", "v")
			}
		case "/bigflush":
			w.Header().Set("X-Big", big)
			io.WriteString(w, "x")
			w.(http.Flusher).Flush()
		case "/bigtrailer":
			io.WriteString(w, "x")
			w.Header().Set(http.TrailerPrefix+"X-Big", big)
		default:
			io.WriteString(w, "ok")
		}
	}))
	ok := func(when string) {
		t.Helper()
		resp, err := client.RoundTrip(mustRequest("GET", "http://x/ok", nil))
		if err != nil {
			t.Fatalf("after %s: %v", when, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != "ok" {
			t.Fatalf("after %s: %q, %v", when, b, err)
		}
	}
	for _, p := range []string{"/big", "/many", "/bigflush", "/bigtrailer"} {
		resp, err := client.RoundTrip(mustRequest("GET", "http://x"+p, nil))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
		}
		if err == nil {
			t.Errorf("%s: no error", p)
		}
		ok(p)
	}
	// Requests: over-large heads are refused before anything is sent, and
	// the body is closed, as RoundTrip must.
	for name, h := range map[string]http.Header{"big": {"X-Big": {big}}, "many": {"X-Many": make([]string, maxFields+1)}} {
		closed := make(chan struct{})
		req := mustRequest("POST", "http://x/ok", nil)
		req.Header = h
		req.Body = closeNotifier{strings.NewReader("body"), closed}
		req.ContentLength = 4
		if _, err := client.RoundTrip(req); err == nil {
			t.Errorf("request %s: no error", name)
		}
		select {
		case <-closed:
		case <-time.After(hang):
			t.Errorf("request %s: the body was not closed", name)
		}
		ok("request " + name)
	}
}

type closeNotifier struct {
	io.Reader
	closed chan struct{}
}

func (c closeNotifier) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

// Stream ids wrap after 2^32 requests; an id still in use is skipped
// rather than taken twice (which the peer takes for a protocol error).
func TestStreamIDWrap(t *testing.T) {
	release := make(chan struct{})
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/long" {
			w.(http.Flusher).Flush()
			<-release
		}
		io.WriteString(w, "ok")
	}))
	defer close(release)
	long := get(t, client, "GET", "http://x/long", nil) // stream 1, open
	defer long.Body.Close()
	client.mu.Lock()
	client.nextID = 0 // as after 2^32 requests
	client.mu.Unlock()
	for i := 0; i < 3; i++ {
		resp, err := client.RoundTrip(mustRequest("GET", "http://x/", nil))
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "ok" {
			t.Fatalf("%q, %v", b, err)
		}
	}
}

// A peer over MaxStreams is refused with a reset; the refusals used to be
// sent from a goroutine each, so a peer that opens streams beyond the
// limit and does not read made the other end pile up goroutines without
// bound.
func TestRefusedStreamsDoNotPileUp(t *testing.T) {
	release, marker := make(chan struct{}), make(chan struct{})
	_, raw := newRaw(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			if r.URL.Path == "/marker" {
				close(marker)
			}
		}
	}), false) // the peer never reads
	defer close(release)
	before := runtime.NumGoroutine()
	const extra = 30000
	go func() {
		var b []byte
		for id := uint32(1); id <= MaxStreams+extra; id++ {
			path := "/"
			if id == 1 {
				path = "/marker"
			}
			b = appendFrame(b, fHeaders, flagFromInit|flagEnd, id, appendRequestHead(nil, "GET", path, "h", -1, nil))
			if len(b) > 64<<10 {
				raw.send(b)
				b = b[:0]
			}
		}
		raw.send(appendFrame(b, fReset, flagFromInit, 1, []byte("marker")))
	}()
	select {
	case <-marker: // every frame before the reset has been read
	case <-time.After(hang):
		t.Fatal("the marker stream was not reset")
	}
	if n := runtime.NumGoroutine() - before; n > MaxStreams+1000 {
		t.Fatalf("%d goroutines for %d streams and %d refused", n, MaxStreams, extra)
	}
}

// A body in one-byte frames takes about its size in memory: each frame
// used to be kept as its own chunk (a slice header and an allocation, 32
// bytes or more a byte), so a hostile peer could make a stream's 1 MiB
// window cost tens of MiB.
func TestSmallFramesDoNotMultiplyMemory(t *testing.T) {
	client, raw := newRaw(t, nil, true)
	resps := make(chan *http.Response, 1)
	go func() {
		resp, err := client.RoundTrip(mustRequest("GET", "http://x/", nil))
		if err != nil {
			t.Error(err)
			close(resps)
			return
		}
		resps <- resp
	}()
	f := raw.next(fHeaders)
	raw.send(appendFrame(nil, fHeaders, 0, f.id, appendResponseHead(nil, 200, -1, nil)))
	resp := <-resps
	if resp == nil {
		return
	}
	b := make([]byte, 0, Window*(headerSize+1)+64)
	for i := 0; i < Window; i++ {
		b = appendFrame(b, fData, 0, f.id, []byte{'x'})
	}
	raw.send(appendFrame(b, fEnd, 0, f.id, appendHeader(nil, nil)))
	s := resp.Body.(body).s
	if !waitFor(func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.recvEnd }) {
		t.Fatal("the body did not arrive")
	}
	s.mu.Lock()
	n := len(s.chunks)
	s.mu.Unlock()
	if n > Window/256 {
		t.Fatalf("%d bytes held in %d chunks", Window, n)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || len(got) != Window || strings.Trim(string(got), "x") != "" {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

// Once the response has ended, the rest of the request body is not
// wanted: the body stops and is closed, and the stream is forgotten. A
// peer that ended its response without resetting the stream (or reading
// on) used to leave the body's goroutine waiting for window forever, the
// stream in the map and the body open.
func TestResponseEndStopsTheRequestBody(t *testing.T) {
	for _, endInHead := range []bool{true, false} {
		client, raw := newRaw(t, nil, true)
		closed := make(chan struct{})
		req := mustRequest("PUT", "http://x/", nil)
		req.Body, req.ContentLength = closeNotifier{endless{}, closed}, -1
		done := roundTripAsync(client, req)
		f := raw.next(fHeaders)
		if endInHead {
			raw.send(appendFrame(nil, fHeaders, flagEnd, f.id, appendResponseHead(nil, 200, 0, nil)))
		} else {
			b := appendFrame(nil, fHeaders, 0, f.id, appendResponseHead(nil, 200, -1, nil))
			b = appendFrame(b, fData, 0, f.id, []byte("ok"))
			raw.send(appendFrame(b, fEnd, 0, f.id, appendHeader(nil, nil)))
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(hang):
			t.Fatal("no response")
		}
		select {
		case <-closed:
		case <-time.After(hang):
			t.Fatalf("endInHead=%v: the request body is still being sent", endInHead)
		}
		if !waitFor(func() bool { return streamsOpen(client) == 0 }) {
			t.Fatalf("endInHead=%v: the stream is still open", endInHead)
		}
	}
}

// Cancelling the request while its body waits for window (the handler
// has answered, reads no more, and the caller is not reading the response)
// reaches the handler: the body's goroutine used to wait for window until
// the caller closed the response.
func TestCancelWhileTheBodyWaits(t *testing.T) {
	cancelled := make(chan struct{})
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	closed := make(chan struct{})
	req, _ := http.NewRequestWithContext(ctx, "PUT", "http://x/", nil)
	req.Body, req.ContentLength = closeNotifier{endless{}, closed}, -1
	resp, err := client.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s := resp.Body.(body).s
	if !waitFor(func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.window == 0 }) {
		t.Fatal("the body did not fill its window")
	}
	cancel()
	select {
	case <-cancelled:
	case <-time.After(hang):
		t.Fatal("the handler's context was not cancelled")
	}
	select {
	case <-closed:
	case <-time.After(hang):
		t.Fatal("the request body was not closed")
	}
}

// A request whose context has already ended is not sent: it used to
// start the handler, to be cancelled at once.
func TestCancelledBeforeSending(t *testing.T) {
	client, raw := newRaw(t, nil, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/cancelled", nil)
	if _, err := client.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("RoundTrip = %v, want context.Canceled", err)
	}
	roundTripAsync(client, mustRequest("GET", "http://x/after", nil))
	_, target, _, _, _, err := decodeRequestHead(raw.next(fHeaders).p)
	if err != nil || target != "/after" {
		t.Fatalf("the peer's first request: %q, %v", target, err)
	}
}

// A head's memory is about its size: the decoder used to size the header
// map by the field count the peer claims (up to maxFields), so 20 KB of
// one repeated empty field held half a megabyte of map.
func TestHeadMemoryFollowsItsSize(t *testing.T) {
	p := appendHeader(nil, http.Header{"": make([]string, maxFields)})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h, err := decodeHeader(p)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if err != nil || len(h[""]) != maxFields {
		t.Fatal(err)
	}
	if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > 12*int64(len(p)) {
		t.Fatalf("a head of %d bytes holds %d", len(p), held)
	}
	runtime.KeepAlive(h)
}

// failing returns one read of data, then waits for fail and errs.
type failing struct {
	first bool
	fail  chan struct{}
}

func (f *failing) Read(p []byte) (int, error) {
	if !f.first {
		f.first = true
		return copy(p, "part"), nil
	}
	<-f.fail
	return 0, errors.New("the upload broke")
}

// A request body that fails after the response has arrived in full does
// not take the response away: resetting the stream used to drop the
// response's unread bytes and report a clean EOF, a short body that looks
// whole.
func TestRequestBodyErrorKeepsTheResponse(t *testing.T) {
	client, raw := newRaw(t, nil, true)
	fail, closed := make(chan struct{}), make(chan struct{})
	req := mustRequest("PUT", "http://x/", nil)
	req.Body, req.ContentLength = closeNotifier{&failing{fail: fail}, closed}, -1
	resps := make(chan *http.Response, 1)
	go func() {
		resp, err := client.RoundTrip(req)
		if err != nil {
			t.Error(err)
			close(resps)
			return
		}
		resps <- resp
	}()
	f := raw.next(fHeaders)
	b := appendFrame(nil, fHeaders, 0, f.id, appendResponseHead(nil, 200, -1, nil))
	b = appendFrame(b, fData, 0, f.id, []byte("hello"))
	raw.send(appendFrame(b, fEnd, 0, f.id, appendHeader(nil, nil)))
	resp := <-resps
	if resp == nil {
		return
	}
	s := resp.Body.(body).s
	if !waitFor(func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.recvEnd }) {
		t.Fatal("the response did not end")
	}
	close(fail)
	select {
	case <-closed:
	case <-time.After(hang):
		t.Fatal("the request body was not closed")
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != "hello" {
		t.Fatalf("response body %q, %v", got, err)
	}
}

// A client request whose ContentLength is 0 with a body has a body of
// unknown length (net/http's rule): it used to be dropped.
func TestZeroContentLengthWithBody(t *testing.T) {
	client, _ := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s clen=%d", b, r.ContentLength)
	}))
	req := mustRequest("POST", "http://x/", io.MultiReader(strings.NewReader("hello")))
	if req.ContentLength != 0 || req.Body == nil {
		t.Fatal("the test needs a body of unknown length")
	}
	resp := get2(t, client, req)
	if b, _ := io.ReadAll(resp.Body); string(b) != "hello clen=-1" {
		t.Fatalf("got %q", b)
	}
}

func get2(t *testing.T, c *Conn, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// When the handler returns, the request body it did not read is let go at
// once: it used to stay buffered (up to a window a stream) for as long as
// the response's end waited on its reader, or on a peer that does not
// read at all.
func TestUnreadRequestBodyFreedAtHandlerReturn(t *testing.T) {
	proceed := make(chan struct{})
	client, server := conns(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-proceed
		buf := make([]byte, chunk)
		for sent := 0; sent < Window; sent += len(buf) {
			w.Write(buf) // the response window, which the client does not read
		}
		io.WriteString(w, "more") // left for finish, which waits for window
	}))
	req := mustRequest("PUT", "http://x/", io.NopCloser(strings.NewReader(strings.Repeat("b", 900<<10))))
	req.ContentLength = -1
	hold := make(chan struct{})
	defer close(hold)
	go func() {
		if resp, err := client.RoundTrip(req); err == nil {
			defer resp.Body.Close()
		}
		<-hold
	}()
	var s *stream
	if !waitFor(func() bool {
		server.mu.Lock()
		for _, x := range server.in {
			s = x
		}
		server.mu.Unlock()
		if s == nil {
			return false
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.recvEnd
	}) {
		t.Fatal("the request body did not arrive")
	}
	close(proceed)
	if !waitFor(func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.buffered == 0 }) {
		s.mu.Lock()
		t.Errorf("%d bytes of request body still held after the handler returned", s.buffered)
		s.mu.Unlock()
	}
}

// A peer that stops reading cannot hold a writer forever: past writeStall
// without progress the connection ends. RoundTrip used to wait in the
// socket write forever, whatever its context said.
func TestPeerThatDoesNotReadEndsTheConnection(t *testing.T) {
	old := writeStall
	writeStall = 100 * time.Millisecond
	defer func() { writeStall = old }()
	client, _ := newRaw(t, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", MaxPayload-1000)) // more than the socket holds
	done := make(chan error, 1)
	go func() {
		_, err := client.RoundTrip(req)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("RoundTrip succeeded")
		}
	case <-time.After(hang):
		t.Fatal("RoundTrip hangs on a peer that does not read")
	}
	select {
	case <-client.Done():
	case <-time.After(hang):
		t.Fatal("the connection did not end")
	}
}

var _ = context.Background
var _ = errors.New
var _ = runtime.NumGoroutine
var _ = fmt.Sprint
