package supervisor

import (
	"sync"

	"time"

	"github.com/warrenhq/warren/worker"
)

// LogLine is one line of an app's log: console output ("log", "info",
// "warn", "error", "debug"), an uncaught exception with its stack mapped to
// the app's source ("exception"), a request ("request": method, path,
// status, duration, CPU time), a refusal by a quota ("quota") or a deploy.
type LogLine struct {
	Time       time.Time `json:"time"`
	Level      string    `json:"level"`
	Message    string    `json:"message,omitempty"`
	Method     string    `json:"method,omitempty"`
	Path       string    `json:"path,omitempty"`
	Status     int       `json:"status,omitempty"`
	DurationMs float64   `json:"durationMs,omitempty"`
	CPUMs      float64   `json:"cpuMs,omitempty"`
	// RequestID is the id of the request a "request" or "error" line is
	// about (the client got it as Warren-Request-Id).
	RequestID string `json:"requestId,omitempty"`
}

// logRing keeps the last lines of one app and feeds followers.
type logRing struct {
	mu     sync.Mutex
	max    int
	lines  []LogLine // grows to max, then is overwritten in a ring
	next   int
	full   bool
	subs   map[chan LogLine]struct{}
	closed bool
}

func newLogRing(n int) *logRing {
	// Lines are allocated as they come: most apps log little, and 10,000
	// apps with a preallocated buffer each would hold a gigabyte.
	return &logRing{max: n}
}

func (l *logRing) add(line LogLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		l.lines = append(l.lines, line)
		if len(l.lines) == l.max {
			l.full = true
		}
	} else {
		l.lines[l.next] = line
		l.next = (l.next + 1) % l.max
	}
	for ch := range l.subs {
		select {
		case ch <- line:
		default: // a slow follower misses lines rather than slowing the app
		}
	}
}

// last returns up to n of the most recent lines, oldest first.
func (l *logRing) last(n int) []LogLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []LogLine
	if l.full {
		all = append(all, l.lines[l.next:]...)
		all = append(all, l.lines[:l.next]...)
	} else {
		all = append(all, l.lines...)
	}
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

// follow subscribes to new lines; cancel ends it. The channel is closed
// when the app is deleted.
func (l *logRing) follow() (<-chan LogLine, func()) {
	ch := make(chan LogLine, 256)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs == nil {
		l.subs = map[chan LogLine]struct{}{}
	}
	if l.closed {
		close(ch)
		return ch, func() {}
	}
	l.subs[ch] = struct{}{}
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.subs[ch]; ok {
			delete(l.subs, ch)
			close(ch)
		}
	}
}

func (l *logRing) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for ch := range l.subs {
		delete(l.subs, ch)
		close(ch)
	}
}

// Logs returns up to n of the app's most recent log lines (all kept when
// n <= 0), oldest first.
func (s *Supervisor) Logs(id string, n int) ([]LogLine, error) {
	a, err := s.app(id)
	if err != nil {
		return nil, err
	}
	return a.logs.last(n), nil
}

// FollowLogs streams the app's new log lines until cancel is called or the
// app is deleted (the channel is then closed).
func (s *Supervisor) FollowLogs(id string) (<-chan LogLine, func(), error) {
	a, err := s.app(id)
	if err != nil {
		return nil, nil, err
	}
	ch, cancel := a.logs.follow()
	return ch, cancel, nil
}

// WorkerLog adds an isolate's output (console, exceptions) to app's log;
// runners call it.
func (s *Supervisor) WorkerLog(app string, e worker.LogEntry) {
	if a := s.lookup(app); a != nil {
		a.logs.add(LogLine{Time: e.Time.UTC(), Level: e.Level, Message: e.Message})
	}
}
