package supervisor

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

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

// Log bounds: what one app's log may hold in the control plane's memory.
const (
	// DefaultLogLineBytes is the most bytes one log line keeps (its
	// message; a request's path keeps at most 2 KiB); past it the message
	// is cut and ends with a marker saying how much was cut.
	DefaultLogLineBytes = 16 << 10
	// DefaultLogBytes is the most bytes one app's log buffer holds (the
	// lines' text and a fixed cost per line); past it the oldest lines go.
	DefaultLogBytes = 1 << 20
	// logLineCost is what a line costs beyond its text (the LogLine).
	logLineCost = 112
	maxLogPath  = 2 << 10
	maxLogToken = 64 // a method or level
)

// logRing keeps the last lines of one app, within a number of lines and a
// number of bytes, and feeds followers.
type logRing struct {
	mu       sync.Mutex
	maxLines int
	maxBytes int
	maxLine  int
	lines    []LogLine // oldest first; dropped from the front
	bytes    int       // the cost of lines
	subs     map[chan LogLine]struct{}
	closed   bool
}

func newLogRing(lines, bytes, lineBytes int) *logRing {
	// Lines are allocated as they come: most apps log little, and 10,000
	// apps with a preallocated buffer each would hold a gigabyte.
	return &logRing{maxLines: lines, maxBytes: bytes, maxLine: lineBytes}
}

func lineCost(l *LogLine) int {
	return logLineCost + len(l.Level) + len(l.Message) + len(l.Method) + len(l.Path)
}

// truncateLog cuts s to at most max bytes (on a character boundary), the
// end saying how much was cut.
func truncateLog(s string, max int) string {
	if len(s) <= max {
		return s
	}
	marker := func(cut int) string {
		return "…[" + strconv.Itoa(cut) + " bytes cut: a log line keeps " + strconv.Itoa(max) + "]"
	}
	keep := max - len(marker(len(s))) // the final marker is no longer
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker(len(s)-keep)
}

func (l *logRing) add(line LogLine) {
	line.Message = truncateLog(line.Message, l.maxLine)
	line.Path = truncateLog(line.Path, min(maxLogPath, l.maxLine))
	line.Method = truncateLog(line.Method, maxLogToken)
	line.Level = truncateLog(line.Level, maxLogToken)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	l.bytes += lineCost(&line)
	for len(l.lines) > 1 && (len(l.lines) > l.maxLines || l.bytes > l.maxBytes) {
		l.bytes -= lineCost(&l.lines[0])
		l.lines[0] = LogLine{} // its strings can go
		l.lines = l.lines[1:]
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
	all := l.lines
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return append([]LogLine(nil), all...)
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
