package worker

import (
	"io"
	"sync"
)

// bodyStream is a response body that the isolate writes in chunks while
// the HTTP side reads it.
type bodyStream struct {
	mu     sync.Mutex
	cond   *sync.Cond
	chunks [][]byte
	total  int64
	max    int64
	err    error
	eof    bool
	closed bool
}

func newBodyStream(max int64) *bodyStream {
	s := &bodyStream{max: max}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// write queues a chunk; false tells the writer to stop (reader gone, limit).
func (s *bodyStream) write(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.eof {
		return false
	}
	s.total += int64(len(b))
	if s.total > s.max {
		s.err = tooLargeResponse(s.max)
		s.eof = true
		s.cond.Broadcast()
		return false
	}
	s.chunks = append(s.chunks, b)
	s.cond.Broadcast()
	return true
}

func (s *bodyStream) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eof {
		return
	}
	s.eof = true
	s.err = err
	s.cond.Broadcast()
}

// Read implements io.Reader.
func (s *bodyStream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.chunks) == 0 && !s.eof && !s.closed {
		s.cond.Wait()
	}
	if len(s.chunks) > 0 {
		n := copy(p, s.chunks[0])
		if n == len(s.chunks[0]) {
			s.chunks = s.chunks[1:]
		} else {
			s.chunks[0] = s.chunks[0][n:]
		}
		return n, nil
	}
	if s.closed {
		return 0, io.ErrClosedPipe
	}
	if s.err != nil {
		return 0, s.err
	}
	return 0, io.EOF
}

// Close implements io.Closer; the writer stops at its next chunk.
func (s *bodyStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.chunks = nil
	s.cond.Broadcast()
	return nil
}
