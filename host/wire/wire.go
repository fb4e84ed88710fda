// Package wire is the protocol between Warren's control plane and its host
// processes: HTTP semantics (requests and responses with streamed bodies,
// trailers and cancellation) multiplexed over one stream socket, in frames
// made for the purpose.
//
// It replaces HTTP/2 on the socket pairs because the hop is on every
// request and HTTP/2's Go implementation spends it handing each frame
// between goroutines (a read loop, a serve loop, a write scheduler): here a
// request is one write on the caller's goroutine, one read on the peer's
// read loop, which starts the handler, and a short response is one write
// back (head, body and trailers together). See docs/DECISIONS.md.
//
// Frames are a 10-byte header (payload length u32, type u8, flags u8,
// stream id u32, big-endian) and a payload of at most MaxPayload bytes.
// Both ends may open streams; the flag fromInit says whether the sender of
// a frame opened its stream, so each end numbers its own streams. Each
// direction of a stream has a window of Window bytes of body in flight, and
// each direction of the connection a window of ConnWindow bytes across all
// its streams (as HTTP/2's connection window): the reader acknowledges what
// it has consumed or dropped, to the stream and to the connection, so what
// one end can make the other hold is bounded whatever the number of
// streams. A slow reader holds back its own stream, never the socket; the
// sender lets a stream have at most a sixteenth of the connection window
// that other streams do not hold in flight (never less than minShare), so
// streams whose readers stall leave room for the others. Nothing a peer sends is trusted: a malformed frame,
// a window overrun or an oversized payload ends the connection with an
// error, never a panic.
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
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Protocol limits.
const (
	// MaxPayload is the largest frame payload accepted.
	MaxPayload = 1 << 20
	// Window is each stream direction's body bytes in flight.
	Window = 1 << 20
	// ConnWindow is the body bytes in flight across all the streams of
	// one direction of a connection: what a peer can make this end hold.
	ConnWindow = 16 << 20
	// MaxStreams is the most streams a peer may have open at once.
	MaxStreams = 10000

	chunk       = 64 << 10 // body bytes per data frame sent
	maxQueued   = 1 << 20  // bytes of refusals waiting for the peer to read them
	smallFrame  = 1 << 10  // data frames up to this size join the last chunk
	joinedChunk = 16 << 10 // up to this size
	ackAt       = Window / 4
	headerSize  = 10

	// The reader acknowledges a stream it has caught up with once
	// drainAck bytes are unacknowledged (the sender may be waiting on its
	// share, at least minShare), and gives the connection its credit
	// with every stream acknowledgement, on catching up once connAck
	// bytes are owed, and otherwise past connAckMax.
	drainAck   = 16 << 10
	minShare   = 32 << 10
	shareDiv   = 16
	connAck    = 16 << 10
	connAckMax = 256 << 10
)

// Frame types.
const (
	fHeaders    byte = iota + 1 // request or response head
	fData                       // body bytes
	fEnd                        // end of body, with trailers
	fReset                      // abandon the stream, with a reason
	fWindow                     // the receiver consumed n bytes
	fConnWindow                 // the receiver consumed or dropped n bytes of the connection's (stream id 0)
)

// Frame flags.
const (
	flagFromInit byte = 1 << 0 // the sender opened the stream
	flagEnd      byte = 1 << 1 // on a head: no body and no trailers follow
	flagSignals  byte = 1 << 2 // on a response's head or end: its payload starts with signals
)

// writeStall is how long a write may wait on a peer that does not read
// before the connection ends (each Conn takes it when it starts). The read
// loop of a well-behaved peer never waits, so a write stalls only on a
// peer that is stuck or hostile.
var writeStall = 30 * time.Second

// ErrClosed is returned once the connection has ended.
var ErrClosed = errors.New("wire: connection closed")

// Conn is one end of a connection. RoundTrip sends requests to the peer;
// requests from the peer go to the handler given to NewConn.
type Conn struct {
	nc      net.Conn
	handler http.Handler
	ctx     context.Context // cancelled when the connection ends
	cancel  context.CancelFunc

	wmu   sync.Mutex // serialises writes to nc
	stall time.Duration

	mu     sync.Mutex
	nextID uint32
	out    map[uint32]*stream // streams this end opened
	in     map[uint32]*stream // streams the peer opened
	err    error
	dead   chan struct{}

	qmu   sync.Mutex
	queue []byte // resets the read loop sends (it never waits on a write)
	qbusy bool   // a goroutine is writing the queue

	// The connection's flow control (ConnWindow). Lock order: stream.mu,
	// then fmu.
	fmu       sync.Mutex
	sendAvail int           // connection credit for the data this end sends
	credit    chan struct{} // closed, and replaced, when credit arrives
	recvHeld  int           // data bytes received and not yet credited back
	recvFreed int           // of those, consumed or dropped: credit owed
}

// NewConn starts serving nc. handler may be nil when the peer is not
// expected to send requests (they are refused).
func NewConn(nc net.Conn, handler http.Handler) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{nc: nc, handler: handler, ctx: ctx, cancel: cancel, stall: writeStall,
		out: map[uint32]*stream{}, in: map[uint32]*stream{}, dead: make(chan struct{}),
		sendAvail: ConnWindow, credit: make(chan struct{})}
	go c.readLoop()
	return c
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.dead }

// Err returns why the connection ended (nil while it is up).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the connection; streams in flight fail.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return nil
}

// fail ends the connection once, failing every stream.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := make([]*stream, 0, len(c.out)+len(c.in))
	for _, s := range c.out {
		streams = append(streams, s)
	}
	for _, s := range c.in {
		streams = append(streams, s)
	}
	c.out, c.in = map[uint32]*stream{}, map[uint32]*stream{}
	c.mu.Unlock()
	c.nc.Close()
	c.cancel()
	close(c.dead)
	for _, s := range streams {
		s.abort(err, false)
	}
}

// write sends frames already encoded in b. A write that makes no progress for c.stall ends the connection: a peer
// that stops reading would otherwise hold every writer (and, through
// wmu, every stream) forever, whatever their contexts say.
func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	c.nc.SetWriteDeadline(time.Now().Add(c.stall))
	_, err := c.nc.Write(b)
	c.wmu.Unlock()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("the peer read nothing for %v", c.stall)
		}
		c.fail(fmt.Errorf("wire: write: %w", err))
		return c.Err()
	}
	return nil
}

// enqueue sends a frame for the read loop, which never waits on a write:
// two ends blocked writing to each other, neither reading, would deadlock.
// One goroutine writes what is queued; a peer that lets more than
// maxQueued bytes of refusals pile up is not reading them.
func (c *Conn) enqueue(f []byte) error {
	c.qmu.Lock()
	if len(c.queue)+len(f) > maxQueued {
		c.qmu.Unlock()
		return errors.New("wire: the peer does not read the resets of the streams it is refused")
	}
	c.queue = append(c.queue, f...)
	start := !c.qbusy
	c.qbusy = true
	c.qmu.Unlock()
	if start {
		go c.writeQueue()
	}
	return nil
}

func (c *Conn) writeQueue() {
	for {
		c.qmu.Lock()
		b := c.queue
		c.queue = nil
		if len(b) == 0 {
			c.qbusy = false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		if c.write(b) != nil {
			return // the connection has ended
		}
	}
}

// refuse forgets a stream the peer opened and resets it.
func (c *Conn) refuse(s *stream, reason string) error {
	c.remove(s)
	return c.enqueue(appendFrame(nil, fReset, 0, s.id, []byte(reason)))
}

// appendFrame encodes one frame onto b.
func appendFrame(b []byte, typ, flags byte, id uint32, payload []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, typ, flags)
	b = binary.BigEndian.AppendUint32(b, id)
	return append(b, payload...)
}

// sendControl sends a small frame (reset, window).
func (c *Conn) sendControl(typ byte, s *stream, payload []byte) {
	fl := byte(0)
	if s.mine {
		fl = flagFromInit
	}
	c.write(appendFrame(nil, typ, fl, s.id, payload))
}

// readLoop reads frames until the connection ends.
func (c *Conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var hdr [headerSize]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF || errors.Is(err, net.ErrClosed) {
				err = ErrClosed
			}
			c.fail(err)
			return
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		typ, flags, id := hdr[4], hdr[5], binary.BigEndian.Uint32(hdr[6:10])
		if n > MaxPayload {
			c.fail(fmt.Errorf("wire: frame of %d bytes is over the %d-byte limit", n, MaxPayload))
			return
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			c.fail(fmt.Errorf("wire: short frame: %w", err))
			return
		}
		if err := c.handle(typ, flags, id, payload); err != nil {
			c.fail(err)
			return
		}
	}
}

// handle applies one frame from the peer.
func (c *Conn) handle(typ, flags byte, id uint32, p []byte) error {
	switch typ {
	case fConnWindow:
		v, k := binary.Uvarint(p)
		if k <= 0 || k != len(p) || v > ConnWindow || !c.gotCredit(int(v)) {
			return errors.New("wire: bad connection window frame")
		}
		return nil
	case fData:
		if !c.received(len(p)) {
			return fmt.Errorf("wire: the peer overran the connection's window of %d bytes", ConnWindow)
		}
	}
	peerOpened := flags&flagFromInit != 0
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil
	}
	var s *stream
	if peerOpened {
		s = c.in[id]
	} else {
		s = c.out[id]
	}
	if typ == fHeaders && peerOpened {
		if s != nil {
			c.mu.Unlock()
			return fmt.Errorf("wire: stream %d opened twice", id)
		}
		if len(c.in) >= MaxStreams {
			c.mu.Unlock()
			return c.enqueue(appendFrame(nil, fReset, 0, id, []byte("too many streams at once")))
		}
		s = newStream(c, id, false)
		c.in[id] = s
	}
	c.mu.Unlock()
	if s == nil {
		if typ == fData {
			return c.dropped(len(p))
		}
		return nil // a stream that has ended: late frames are dropped
	}
	switch typ {
	case fHeaders:
		if peerOpened {
			return c.startRequest(s, flags, p)
		}
		return s.gotResponseHead(flags, p)
	case fData:
		kept, err := s.gotData(p)
		if err == nil && !kept {
			err = c.dropped(len(p))
		}
		return err
	case fEnd:
		var sig http.Header
		if flags&flagSignals != 0 {
			var err error
			if sig, p, err = cutSignals(p); err != nil {
				return err
			}
		}
		tr, err := decodeHeader(p)
		if err != nil {
			return err
		}
		return s.gotEnd(tr, sig)
	case fReset:
		s.abort(&ResetError{Reason: string(p)}, true)
		return nil
	case fWindow:
		v, k := binary.Uvarint(p)
		if k <= 0 || v > Window {
			return errors.New("wire: bad window frame")
		}
		s.gotWindow(int(v))
		return nil
	}
	return fmt.Errorf("wire: unknown frame type %d", typ)
}

// remove forgets a stream once both directions are done.
func (c *Conn) remove(s *stream) {
	c.mu.Lock()
	if s.mine {
		if c.out[s.id] == s {
			delete(c.out, s.id)
		}
	} else if c.in[s.id] == s {
		delete(c.in, s.id)
	}
	c.mu.Unlock()
}

// received accounts for n bytes of data arriving from the peer; false if
// they overrun the connection's window.
func (c *Conn) received(n int) bool {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.recvHeld+n > ConnWindow {
		return false
	}
	c.recvHeld += n
	return true
}

// freed records n received bytes consumed or dropped, and returns the
// connection credit to send now: all that is owed if now, or past min.
func (c *Conn) freed(n int, now bool, min int) int {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.recvFreed += n
	if c.recvFreed == 0 || !now && c.recvFreed < min {
		return 0
	}
	k := c.recvFreed
	c.recvFreed = 0
	c.recvHeld -= k
	return k
}

// creditFrame encodes connection credit k (nothing if 0).
func creditFrame(b []byte, k int) []byte {
	if k == 0 {
		return b
	}
	return appendFrame(b, fConnWindow, 0, 0, binary.AppendUvarint(nil, uint64(k)))
}

// dropped, on the read loop, credits n bytes of data the peer sent on a
// stream that no longer wants them (the read loop never waits on a write).
func (c *Conn) dropped(n int) error {
	if k := c.freed(n, false, connAck); k > 0 {
		return c.enqueue(creditFrame(nil, k))
	}
	return nil
}

// release credits n buffered bytes let go off the read loop.
func (c *Conn) release(n int) {
	if k := c.freed(n, false, connAck); k > 0 {
		c.write(creditFrame(nil, k))
	}
}

// gotCredit adds connection credit from the peer; false if the peer
// credits more than was sent.
func (c *Conn) gotCredit(n int) bool {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.sendAvail+n > ConnWindow {
		return false
	}
	c.sendAvail += n
	close(c.credit)
	c.credit = make(chan struct{})
	return true
}

// reserve takes up to n bytes of connection credit for a stream with out
// bytes in flight, within its share: a sixteenth of the window not held by
// other streams, at least minShare. If none, it returns a channel closed
// when credit arrives.
func (c *Conn) reserve(n, out int) (int, <-chan struct{}) {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	out = max(out, 0)
	share := max((c.sendAvail+out)/shareDiv, minShare)
	n = max(min(n, share-out, c.sendAvail), 0)
	c.sendAvail -= n
	if n == 0 {
		return 0, c.credit
	}
	return n, nil
}

// unreserve gives back n bytes of connection credit that reserve took
// for data this end then did not send.
func (c *Conn) unreserve(n int) {
	if n == 0 {
		return
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.sendAvail += n
	close(c.credit)
	c.credit = make(chan struct{})
}

// ResetError is a stream the peer abandoned.
type ResetError struct{ Reason string }

func (e *ResetError) Error() string { return "wire: stream reset by the peer: " + e.Reason }

// stream is one request and its response.
type stream struct {
	c    *Conn
	id   uint32
	mine bool // this end opened it

	mu       sync.Mutex
	notify   chan struct{} // cap 1: data, end, head or reset arrived
	wnotify  chan struct{} // cap 1: window or reset arrived
	chunks   [][]byte
	buffered int
	recvEnd  bool
	recvErr  error
	trailer  http.Header // filled when the body ends
	signals  *Signals    // client: the response's signals
	unacked  int
	discard  bool // the reader closed the body
	window   int  // send credit
	sendDone bool // this end sent its end or a reset
	sendErr  error
	head     *respHead // client: the response head, once it arrived
	cancel   context.CancelFunc
	ctx      context.Context // client: the request's context
}

type respHead struct {
	status int
	header http.Header
	clen   int64
	end    bool
}

func newStream(c *Conn, id uint32, mine bool) *stream {
	return &stream{c: c, id: id, mine: mine, notify: make(chan struct{}, 1), wnotify: make(chan struct{}, 1), window: Window}
}

func (s *stream) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *stream) wakeSender() {
	select {
	case s.wnotify <- struct{}{}:
	default:
	}
}

// settle, called with s.mu held, releases it, wakes the reader and
// forgets the stream if both directions are done.
func (s *stream) settle() {
	done := s.finished()
	s.mu.Unlock()
	s.wake()
	if done {
		s.c.remove(s)
	}
}

// finished reports (under s.mu) whether both directions are done.
func (s *stream) finished() bool { return s.sendDone && (s.recvEnd || s.recvErr != nil) }

// abort fails the stream: a reset from the peer (fromPeer) or the
// connection's end.
func (s *stream) abort(err error, fromPeer bool) {
	s.mu.Lock()
	if s.recvErr == nil && !s.recvEnd {
		s.recvErr = err
	}
	if s.sendErr == nil {
		s.sendErr = err
	}
	s.sendDone = true
	cancel := s.cancel
	s.mu.Unlock()
	s.wake()
	s.wakeSender()
	if cancel != nil {
		cancel()
	}
	if fromPeer {
		s.c.remove(s)
	}
}

// reset abandons the stream from this end and tells the peer.
func (s *stream) reset(reason string) {
	s.mu.Lock()
	already := s.sendDone && (s.recvEnd || s.recvErr != nil)
	s.sendDone = true
	dropped := 0
	if !s.recvEnd { // what has fully arrived stays readable
		if s.recvErr == nil {
			s.recvErr = errors.New("wire: stream reset: " + reason)
		}
		s.discard = true
		dropped = s.takeChunks()
	}
	if s.sendErr == nil {
		s.sendErr = errors.New("wire: stream reset: " + reason)
	}
	s.mu.Unlock()
	s.wake()
	s.wakeSender()
	if !already {
		s.c.sendControl(fReset, s, []byte(reason))
	}
	s.c.remove(s)
	s.c.release(dropped)
}

// takeChunks, under s.mu, lets go of the buffered body and returns its
// size (the connection credit it frees).
func (s *stream) takeChunks() int {
	n := s.buffered
	s.chunks, s.buffered = nil, 0
	return n
}

// errNoHead is a response's body or end before its head.
func (s *stream) errNoHead() error {
	return fmt.Errorf("wire: stream %d: body before the response head", s.id)
}

// gotData buffers p; kept is false when the stream does not want it.
func (s *stream) gotData(p []byte) (kept bool, err error) {
	s.mu.Lock()
	if s.mine && s.head == nil {
		s.mu.Unlock()
		return false, s.errNoHead()
	}
	if s.recvEnd || s.recvErr != nil {
		s.mu.Unlock()
		if s.discard || s.recvErr != nil {
			return false, nil
		}
		return false, fmt.Errorf("wire: data after the end of stream %d", s.id)
	}
	if s.discard {
		s.mu.Unlock()
		return false, nil
	}
	if s.buffered+len(p) > Window {
		s.mu.Unlock()
		return false, fmt.Errorf("wire: stream %d overran its window", s.id)
	}
	if len(p) > 0 {
		// Small frames join the last chunk, so what a body costs is about
		// its size, however the peer cuts it.
		if k := len(s.chunks); k > 0 && len(p) <= smallFrame && len(s.chunks[k-1])+len(p) <= joinedChunk {
			s.chunks[k-1] = append(s.chunks[k-1], p...)
		} else {
			s.chunks = append(s.chunks, p)
		}
		s.buffered += len(p)
	}
	s.mu.Unlock()
	s.wake()
	return true, nil
}

func (s *stream) gotEnd(tr, sig http.Header) error {
	s.mu.Lock()
	if s.mine && s.head == nil {
		s.mu.Unlock()
		return s.errNoHead()
	}
	if s.recvEnd {
		s.mu.Unlock()
		return fmt.Errorf("wire: stream %d ended twice", s.id)
	}
	if s.recvErr == nil {
		s.recvEnd = true
		for k, v := range tr {
			if s.trailer != nil {
				s.trailer[k] = v
			}
		}
		if s.signals != nil {
			for k, v := range sig {
				s.signals.End[k] = v
			}
		}
	}
	s.responseEnded()
	s.settle()
	return nil
}

// errResponseEnded stops a request body whose response has ended.
var errResponseEnded = errors.New("wire: the response ended before the request body")

// responseEnded, under s.mu, stops sending the request body of a stream
// this end opened once its response has ended: the peer sends its end
// when its handler has returned, so the rest is not wanted.
func (s *stream) responseEnded() {
	if s.mine && !s.sendDone {
		s.sendDone = true
		if s.sendErr == nil {
			s.sendErr = errResponseEnded
		}
		s.wakeSender()
	}
}

func (s *stream) gotWindow(n int) {
	s.mu.Lock()
	s.window += n
	s.mu.Unlock()
	s.wakeSender()
}

// read is the body reader of the stream's incoming direction.
func (s *stream) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		s.mu.Lock()
		if len(s.chunks) > 0 {
			n := copy(p, s.chunks[0])
			if n == len(s.chunks[0]) {
				s.chunks[0] = nil
				s.chunks = s.chunks[1:]
			} else {
				s.chunks[0] = s.chunks[0][n:]
			}
			s.buffered -= n
			s.unacked += n
			// Caught up: the sender may be waiting on its share of the
			// connection window, smaller than ackAt.
			drained := len(s.chunks) == 0
			var ack int
			if !s.recvEnd && (s.unacked >= ackAt || drained && s.unacked >= drainAck) {
				ack, s.unacked = s.unacked, 0
			}
			s.mu.Unlock()
			s.acknowledge(ack, n, drained)
			return n, nil
		}
		if s.recvEnd {
			done := s.finished()
			s.mu.Unlock()
			if done {
				s.c.remove(s)
			}
			return 0, io.EOF
		}
		if s.recvErr != nil {
			err := s.recvErr
			s.mu.Unlock()
			return 0, err
		}
		ctx := s.ctx
		s.mu.Unlock()
		if ctx != nil {
			select {
			case <-s.notify:
			case <-ctx.Done():
				s.reset("the reader's context ended")
				return 0, ctx.Err()
			}
		} else {
			<-s.notify
		}
	}
}

// acknowledge tells the peer that n more bytes of the stream were
// consumed: ack bytes to the stream (if any) and the connection's credit
// owed, in one write.
func (s *stream) acknowledge(ack, n int, drained bool) {
	min := connAckMax
	if drained {
		min = connAck
	}
	var b []byte
	if ack > 0 {
		fl := byte(0)
		if s.mine {
			fl = flagFromInit
		}
		b = appendFrame(b, fWindow, fl, s.id, binary.AppendUvarint(nil, uint64(ack)))
	}
	b = creditFrame(b, s.c.freed(n, ack > 0, min))
	if len(b) > 0 {
		s.c.write(b)
	}
}

// dropBody discards the incoming body, buffered and to come.
func (s *stream) dropBody() {
	s.mu.Lock()
	s.discard = true
	n := s.takeChunks()
	s.mu.Unlock()
	s.c.release(n)
}

// closeRead abandons the incoming body: what is buffered is let go and,
// if it has not ended, the peer is told to stop sending.
func (s *stream) closeRead() {
	s.mu.Lock()
	ended := s.recvEnd || s.recvErr != nil
	n := 0
	if ended {
		n = s.takeChunks()
	}
	s.mu.Unlock()
	s.c.release(n)
	if !ended {
		s.reset("the reader closed the body")
	}
}

// sendBody sends p as data frames, waiting for window; pre is written in
// front of the first frame (a head) and post after the last (an end).
func (s *stream) sendBody(pre, p, post []byte) error {
	fl := byte(0)
	if s.mine {
		fl = flagFromInit
	}
	buf := pre
	unsent := 0 // connection credit taken for the data in buf
	for {
		s.mu.Lock()
		if s.sendErr != nil {
			err := s.sendErr
			s.mu.Unlock()
			// The stream ended while buf was being filled (a reset from
			// the peer between two frames): its data is never sent, so
			// the credit it took goes back, or it is lost for good.
			s.c.unreserve(unsent)
			return err
		}
		n := min(len(p), s.window, chunk)
		var credit <-chan struct{}
		if n > 0 {
			n, credit = s.c.reserve(n, Window-s.window)
		}
		if n == 0 && len(p) > 0 {
			s.mu.Unlock()
			if len(buf) > 0 {
				if err := s.c.write(buf); err != nil {
					return err
				}
				buf, unsent = nil, 0
			}
			var cancelled <-chan struct{}
			if s.ctx != nil {
				cancelled = s.ctx.Done()
			}
			select {
			case <-s.wnotify:
			case <-credit:
			case <-s.c.dead:
				return s.c.Err()
			case <-cancelled:
				s.reset("the request was cancelled")
				return s.ctx.Err()
			}
			continue
		}
		s.window -= n
		s.mu.Unlock()
		if n > 0 {
			buf = appendFrame(buf, fData, fl, s.id, p[:n])
			unsent += n
			p = p[n:]
		}
		if len(p) == 0 {
			buf = append(buf, post...)
			if len(buf) == 0 {
				return nil
			}
			return s.c.write(buf)
		}
		if len(buf) >= 4*chunk {
			if err := s.c.write(buf); err != nil {
				return err
			}
			buf, unsent = nil, 0
		}
	}
}

// endFrame encodes this end's end of body with trailers, and marks it.
func (s *stream) endFrame(tr http.Header) []byte {
	fl := byte(0)
	if s.mine {
		fl = flagFromInit
	}
	return appendFrame(nil, fEnd, fl, s.id, appendHeader(nil, tr))
}

// markSent records that this end has sent its end.
func (s *stream) markSent() {
	s.mu.Lock()
	s.sendDone = true
	done := s.finished()
	s.mu.Unlock()
	if done {
		s.c.remove(s)
	}
}

func (s *stream) gotResponseHead(flags byte, p []byte) error {
	var sig http.Header
	if flags&flagSignals != 0 {
		var err error
		if sig, p, err = cutSignals(p); err != nil {
			return err
		}
	}
	status, clen, h, err := decodeResponseHead(p)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.head != nil {
		s.mu.Unlock()
		return fmt.Errorf("wire: stream %d got two response heads", s.id)
	}
	if s.signals != nil && sig != nil {
		s.signals.Head = sig
	}
	s.head = &respHead{status: status, header: h, clen: clen, end: flags&flagEnd != 0}
	if flags&flagEnd != 0 {
		s.recvEnd = true
		s.responseEnded()
	}
	s.settle()
	return nil
}

// body is an http body reading a stream.
type body struct{ s *stream }

func (b body) Read(p []byte) (int, error) { return b.s.read(p) }
func (b body) Close() error               { b.s.closeRead(); return nil }

// Signals are a response's out-of-band fields: facts of the serving end
// itself (the Warren host: "this is my error", "this is what the request
// used") that travel in the response's frames apart from its header and
// trailers. A handler that relays a response it does not trust (an app's)
// copies that response's header and trailers as they are; nothing in them
// can pass for a signal, and no signal is ever seen as a header or trailer.
type Signals struct {
	// Head are the signals sent with the response's head (set before
	// WriteHeader): there when RoundTripSignals returns.
	Head http.Header
	// End are the signals sent with the response's end (set after
	// WriteHeader): filled once the body has ended, like http.Response.Trailer.
	End http.Header
}

// SetSignal sets one of the signals of the response w writes (w must be a
// handler's http.ResponseWriter from this package; it reports whether it
// was). A signal set before WriteHeader (or the first Write) goes with
// the head, one set after it with the end.
func SetSignal(w http.ResponseWriter, key, value string) bool {
	rw, ok := w.(*responseWriter)
	if ok {
		if rw.signals == nil {
			rw.signals = http.Header{}
		}
		rw.signals.Set(key, value)
	}
	return ok
}

// RoundTrip sends req to the peer and returns its response, whose body
// streams. Closing the body early, or the end of req's context, abandons
// the stream.
func (c *Conn) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, _, err := c.roundTrip(req, false)
	return resp, err
}

// RoundTripSignals is RoundTrip, also returning the response's signals.
func (c *Conn) RoundTripSignals(req *http.Request) (*http.Response, *Signals, error) {
	return c.roundTrip(req, true)
}

func (c *Conn) roundTrip(req *http.Request, signals bool) (*http.Response, *Signals, error) {
	ctx := req.Context()
	target := req.URL.RequestURI()
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	// As in net/http, a client request's ContentLength of 0 with a body
	// is a body of unknown length.
	hasBody := req.Body != nil && req.Body != http.NoBody
	clen := req.ContentLength
	if !hasBody {
		clen = 0
	} else if clen == 0 {
		clen = -1
	}
	head := appendRequestHead(nil, req.Method, target, host, clen, req.Header)
	if !within(head, req.Header) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, nil, errLimits
	}
	if err := ctx.Err(); err != nil { // not sent: its handler would start for nothing
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, nil, err
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, nil, err
	}
	c.nextID++
	for c.out[c.nextID] != nil { // ids wrap after 2^32 streams: skip those in use
		c.nextID++
	}
	s := newStream(c, c.nextID, true)
	s.ctx = ctx
	s.trailer = http.Header{}
	if signals {
		s.signals = &Signals{Head: http.Header{}, End: http.Header{}}
	}
	c.out[s.id] = s
	c.mu.Unlock()

	if !hasBody {
		if req.Body != nil {
			req.Body.Close()
		}
		s.mu.Lock()
		s.sendDone = true
		s.mu.Unlock()
		if err := c.write(appendFrame(nil, fHeaders, flagFromInit|flagEnd, s.id, head)); err != nil {
			return nil, nil, err
		}
	} else if clen > 0 && clen <= chunk {
		// A small body of known length goes with its head, in one write.
		b := make([]byte, clen)
		_, err := io.ReadFull(req.Body, b)
		req.Body.Close()
		if err != nil {
			c.remove(s)
			return nil, nil, fmt.Errorf("wire: reading the request body: %w", err)
		}
		err = s.sendBody(appendFrame(nil, fHeaders, flagFromInit, s.id, head), b, s.endFrame(nil))
		switch {
		case err == nil:
			s.markSent()
		case errors.Is(err, errResponseEnded):
			// The body waited for window and the whole response came
			// meanwhile: it is the answer, as with a large body (pump).
		default:
			s.dropBody() // what came of the response: no one reads it
			return nil, nil, err
		}
	} else {
		if err := c.write(appendFrame(nil, fHeaders, flagFromInit, s.id, head)); err != nil {
			return nil, nil, err
		}
		go s.pump(req.Body)
	}

	for {
		s.mu.Lock()
		h, rerr := s.head, s.recvErr
		s.mu.Unlock()
		if h != nil {
			resp := &http.Response{Status: strconv.Itoa(h.status) + " " + http.StatusText(h.status), StatusCode: h.status,
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h.header, ContentLength: h.clen, Request: req, Trailer: s.trailer}
			if h.end {
				resp.Body = http.NoBody
			} else {
				resp.Body = body{s}
			}
			return resp, s.signals, nil
		}
		if rerr != nil {
			return nil, nil, rerr
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			s.reset("the request was cancelled")
			s.dropBody() // a response that arrived whole meanwhile: no one reads it
			return nil, nil, ctx.Err()
		}
	}
}

// pump sends a request body of unknown or large size.
func (s *stream) pump(r io.ReadCloser) {
	defer r.Close()
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if s.sendBody(nil, buf[:n], nil) != nil {
				return
			}
		}
		if err == io.EOF {
			s.mu.Lock()
			stopped := s.sendDone
			s.mu.Unlock()
			if !stopped && s.c.write(s.endFrame(nil)) == nil {
				s.markSent()
			}
			return
		}
		if err != nil {
			s.reset("reading the request body: " + err.Error())
			return
		}
	}
}

// startRequest runs the handler for a request the peer opened.
func (c *Conn) startRequest(s *stream, flags byte, p []byte) error {
	method, target, host, clen, h, err := decodeRequestHead(p)
	if err != nil {
		return err
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return c.refuse(s, "bad request target")
	}
	if c.handler == nil {
		return c.refuse(s, "this end serves no requests")
	}
	ctx, cancel := context.WithCancel(c.ctx)
	s.mu.Lock()
	s.cancel = cancel
	if flags&flagEnd != 0 {
		s.recvEnd = true
	}
	s.mu.Unlock()
	req := &http.Request{Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Host: host, RequestURI: target, ContentLength: clen, Body: http.NoBody}
	if flags&flagEnd == 0 {
		req.Body = body{s}
	}
	go c.serve(s, req.WithContext(ctx), cancel)
	return nil
}

// serve runs the handler and finishes the response.
func (c *Conn) serve(s *stream, req *http.Request, cancel context.CancelFunc) {
	w := &responseWriter{s: s, header: http.Header{}}
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			s.dropBody()
			s.reset(fmt.Sprintf("the handler failed: %v", p))
			return
		}
		// The handler is done with the request body: what it left is let
		// go now, not when the response's end is written (it may wait for
		// window, or on a peer that does not read).
		s.dropBody()
		if err := w.finish(); err != nil {
			return
		}
		// Like HTTP/2: a request body the handler did not read is not wanted.
		s.closeRead()
	}()
	c.handler.ServeHTTP(w, req)
}

// responseWriter is the http.ResponseWriter of a request from the peer. It
// holds body bytes until Flush, a full buffer or the handler's return, so a
// short response is one write: head, body and trailers.
type responseWriter struct {
	s        *stream
	header   http.Header
	head     http.Header // the head's fields, taken at WriteHeader
	status   int
	headSent bool
	buf      []byte
	err      error
	signals  http.Header // set by SetSignal after WriteHeader: for the end
	headSig  http.Header // set before WriteHeader: for the head
}

func (w *responseWriter) Header() http.Header { return w.header }

// encodeSignals returns sig encoded to go in front of a frame's payload,
// and the flag that says it is there.
func encodeSignals(sig http.Header) ([]byte, byte) {
	if len(sig) == 0 {
		return nil, 0
	}
	return appendHeader(nil, sig), flagSignals
}

// WriteHeader fixes the head: as in net/http, later changes to Header()
// are not sent, except as trailers.
func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 || code < 100 || code > 999 {
		return
	}
	if code < 200 { // informational heads are not sent
		return
	}
	w.status = code
	w.headSig, w.signals = w.signals, nil
	h := w.header.Clone()
	h.Del("Trailer")
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			delete(h, k) // a trailer, never a header
		}
	}
	w.head = h
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= chunk {
		w.Flush()
	}
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// headFrame encodes the response head (end: no body and no trailers).
func (w *responseWriter) headFrame(end bool) ([]byte, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	h := w.head
	clen := int64(-1)
	if v := h.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			clen = n
		}
	}
	p, fl := encodeSignals(w.headSig)
	if end {
		fl |= flagEnd
	}
	p = appendResponseHead(p, w.status, clen, h)
	if !within(p, h) {
		return nil, errLimits
	}
	w.headSent = true
	return appendFrame(nil, fHeaders, fl, w.s.id, p), nil
}

// Flush sends the head and the body so far.
func (w *responseWriter) Flush() {
	if w.err != nil {
		return
	}
	var pre []byte
	if !w.headSent {
		if pre, w.err = w.headFrame(false); w.err != nil {
			return
		}
	}
	w.err = w.s.sendBody(pre, w.buf, nil)
	w.buf = w.buf[:0]
}

// trailers are the values of the names the handler declared in its
// Trailer header, and any set with http.TrailerPrefix.
func (w *responseWriter) trailers() http.Header {
	var tr http.Header
	for _, v := range w.header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if vals, ok := w.header[k]; ok {
				if tr == nil {
					tr = http.Header{}
				}
				tr[k] = vals
			}
		}
	}
	for k, v := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if tr == nil {
				tr = http.Header{}
			}
			tr[http.CanonicalHeaderKey(strings.TrimPrefix(k, http.TrailerPrefix))] = v
		}
	}
	return tr
}

// finish sends what is left and the end of the response.
func (w *responseWriter) finish() error {
	if w.err != nil {
		w.s.reset("the response could not be sent: " + w.err.Error())
		return w.err
	}
	tr := w.trailers()
	headOnly := !w.headSent && len(w.buf) == 0 && tr == nil && w.signals == nil
	var pre, post []byte
	if !w.headSent {
		var err error
		if pre, err = w.headFrame(headOnly); err != nil {
			w.s.reset(err.Error())
			return err
		}
	}
	if !headOnly {
		p, fl := encodeSignals(w.signals)
		p = appendHeader(p, tr)
		if !within(p, tr) {
			// The body goes, its end cannot: the reader sees a reset,
			// not a body that looks whole.
			if err := w.s.sendBody(pre, w.buf, nil); err != nil {
				return err
			}
			w.s.reset(errLimits.Error())
			return errLimits
		}
		post = appendFrame(nil, fEnd, fl, w.s.id, p)
	}
	// sendBody, even for a head alone: nothing is sent on a stream the
	// peer has reset.
	if err := w.s.sendBody(pre, w.buf, post); err != nil {
		return err
	}
	w.s.markSent()
	return nil
}
