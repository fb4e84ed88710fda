// Package gateway is Warren's HTTP front door: health, the one-shot run API
// (POST /api/v1/run), and the mapping of *warren.Error to HTTP statuses and
// JSON bodies that say what went wrong and what to do.
package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/respond"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// MaxRunBody bounds the body of POST /api/v1/run (code plus request). It is
// far below warren.MaxCodeSize because compiling runs on the request path
// without a time limit (a 1 MiB module of 20,000 functions takes seconds).
const MaxRunBody = 2 << 20

// maxRunLogBytes bounds the console output a run returns in its envelope.
const maxRunLogBytes = 1 << 20

// MaxEnvelopeBody bounds the body a run's envelope carries: the control
// plane holds it (and its JSON) while it answers, for each run in flight.
const MaxEnvelopeBody = 1 << 20

// Server serves the gateway's routes.
type Server struct {
	Loader *loader.Loader
	Log    *slog.Logger
	// Limits for one-shot runs.
	Limits warren.Limits
	// Outbound is the egress policy for one-shot runs (nil: deny).
	Outbound *worker.Outbound
	// Runs, when set, runs one-shot code (host.Pool: in a host process of
	// its own, never one that holds apps); otherwise it runs in this
	// process on Loader.
	Runs OneShotRunner
	// RunAPI says who may use POST /api/v1/run: RunAPIToken (the zero
	// value: a caller with the admin token or RunToken), RunAPIOpen (anyone
	// who reaches the listener) or RunAPIOff (no one).
	RunAPI RunAccess
	// RunToken, when set, is a second bearer token that allows one-shot
	// runs (and nothing else); the admin token allows them too.
	RunToken string
	// MaxConcurrentRuns bounds one-shot runs in flight (each holds an
	// isolate); past it, runs get 503 with Retry-After. Zero means
	// DefaultMaxConcurrentRuns.
	MaxConcurrentRuns int

	// Project, when set, receives all traffic (warren serve --config): the
	// project's default fetch handler is the whole site.
	Project worker.Fetcher

	// Apps, when set, is the built-in supervisor: the admin API, /metrics
	// and app traffic at /apps/{id}/... and {id}.<Domain>.
	Apps *supervisor.Supervisor
	// AdminToken guards the admin API and /metrics (Bearer token).
	AdminToken string
	// Domain, when set, routes requests for {id}.<Domain> to app id.
	Domain string

	semOnce sync.Once
	sem     chan struct{}

	stopOnce, closeOnce sync.Once
	stopping            chan struct{} // closed by Shutdown
}

// Shutdown ends the streams that would otherwise outlive a graceful
// shutdown (followed logs, which end with "event: end", reason "server
// shutting down"). Register it with http.Server.RegisterOnShutdown: the
// server's Shutdown waits for active connections, and a follower's never
// ends by itself.
func (s *Server) Shutdown() {
	ch := s.stop()
	s.closeOnce.Do(func() { close(ch) })
}

func (s *Server) stop() chan struct{} {
	s.stopOnce.Do(func() { s.stopping = make(chan struct{}) })
	return s.stopping
}

// OneShotRunner runs one-shot code: loads lc, sends it req and returns its
// response, with the code's logs to sink.
type OneShotRunner interface {
	RunOnce(ctx context.Context, lc *worker.LoadCode, req *http.Request, sink worker.LogSink) (*http.Response, error)
}

// RunAccess says who may use POST /api/v1/run.
type RunAccess string

// Run API modes (warren serve --run-api).
const (
	RunAPIToken RunAccess = "token" // the admin token or the run token (the default; also "")
	RunAPIOpen  RunAccess = "open"  // anyone who reaches the listener
	RunAPIOff   RunAccess = "off"   // no one: the route answers 404
)

// ParseRunAccess reads a --run-api value.
func ParseRunAccess(v string) (RunAccess, error) {
	switch a := RunAccess(v); a {
	case RunAPIToken, RunAPIOpen, RunAPIOff:
		return a, nil
	}
	return "", fmt.Errorf("--run-api must be token, open or off, not %q", v)
}

// DefaultMaxConcurrentRuns is the default of Server.MaxConcurrentRuns.
const DefaultMaxConcurrentRuns = 256

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	if s.Project != nil {
		return s.recoverer(http.HandlerFunc(s.project))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.HandleFunc("POST /api/v1/run", s.run)
	hint := "the API is POST /api/v1/run and GET /healthz"
	if s.Apps != nil {
		s.routeApps(mux)
		hint = "apps are served at /apps/{id}/...; the admin API is under /api/v1/apps; see docs/API.md"
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); allow != "" { // a known route, another method
			w.Header().Set("Allow", allow)
			respond.Error(w, &warren.Error{Code: warren.CodeMethodNotAllowed, Message: fmt.Sprintf("%s is not a method of %s", r.Method, r.URL.Path), Hint: "use " + allow + "; see docs/API.md"})
			return
		}
		respond.Error(w, &warren.Error{Code: warren.CodeNotFound, Message: fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), Hint: hint})
	})
	h := http.Handler(mux)
	if s.Apps != nil && s.Domain != "" {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id, ok := s.appHost(r); ok {
				s.Apps.ServeApp(w, r, id, r.URL.Path)
				return
			}
			mux.ServeHTTP(w, r)
		})
	}
	return s.recoverer(h)
}

// allowedMethods lists the methods that a route other than the catch-all
// serves at r's path ("" when none does).
func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	var allow []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		r2 := *r
		r2.Method = m
		if _, pat := mux.Handler(&r2); pat != "" && pat != "/" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.Error("panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(p))
				respond.Error(w, &warren.Error{Code: warren.CodeInternal, Message: "internal error"})
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) project(w http.ResponseWriter, r *http.Request) {
	resp, err := s.Project.Fetch(r.Context(), r)
	if err != nil {
		s.Log.Info("project request failed", "path", r.URL.Path, "error", err.Error())
		respond.Error(w, err)
		return
	}
	if err := respond.Copy(w, resp); err != nil {
		panic(http.ErrAbortHandler) // a body cut off midway: the client must not take it for whole
	}
}

// RunRequest is the JSON body of POST /api/v1/run.
type RunRequest struct {
	warren.WorkerCode
	// Request is sent to the Worker's fetch handler (default: GET /).
	Request *RunHTTPRequest `json:"request,omitempty"`
	// Limits lower the platform's limits for this run.
	Limits *RunLimits `json:"limits,omitempty"`
}

// RunHTTPRequest describes the request sent to a one-shot Worker.
type RunHTTPRequest struct {
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// RunLimits are the limits a caller can lower, in Cloudflare's units.
type RunLimits struct {
	CPUMs       int   `json:"cpuMs,omitempty"`
	WallMs      int   `json:"wallMs,omitempty"`
	SubRequests int   `json:"subRequests,omitempty"`
	MemoryMB    int64 `json:"memoryMb,omitempty"`
}

// validate refuses limits that are negative or absurdly large; limits can
// only lower the platform's, so anything above it is clamped by Min anyway.
func (l *RunLimits) validate() error {
	for name, v := range map[string]int64{"cpuMs": int64(l.CPUMs), "wallMs": int64(l.WallMs), "subRequests": int64(l.SubRequests), "memoryMb": l.MemoryMB} {
		if v < 0 || v > 1<<30 {
			return &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("limits.%s = %d is out of range", name, v), Hint: "limits are positive numbers that lower the platform's limits; leave a field out to keep its default"}
		}
	}
	return nil
}

// Envelope is the JSON reply of POST /api/v1/run when the caller asks for it
// (?envelope=1 or Accept: application/vnd.warren.envelope+json).
type Envelope struct {
	Status       int                 `json:"status,omitempty"`
	Headers      map[string][]string `json:"headers,omitempty"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding,omitempty"` // "base64" when the body is not printable UTF-8
	// BodyTruncated says the body was longer than MaxEnvelopeBody and is
	// cut there.
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
	Logs          []worker.LogEntry `json:"logs"`
	Error         *warren.Error     `json:"error,omitempty"`
	DurationMs    float64           `json:"durationMs"`
}

// runAllowed answers a run the server's RunAPI refuses, and reports
// whether the caller may run code; authenticated says the caller gave a
// valid token (it then gets errors in full).
func (s *Server) runAllowed(w http.ResponseWriter, r *http.Request) (ok, authenticated bool) {
	authenticated = bearer(r, s.AdminToken) || bearer(r, s.RunToken)
	switch s.RunAPI {
	case RunAPIOff:
		respond.Error(w, &warren.Error{Code: warren.CodeNotFound, Message: "the run API is off on this server",
			Hint: "the operator turns it on with warren serve --run-api=token (callers then need a token) or --run-api=open"})
		return false, false
	case RunAPIOpen:
		return true, authenticated
	}
	if !authenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warren"`)
		respond.Error(w, &warren.Error{Code: warren.CodeUnauthorized, Message: "the run API needs a token: it runs any code it is sent",
			Hint: "send Authorization: Bearer <token>, the admin token (WARREN_ADMIN_TOKEN, or the admin.token file in the data folder) or the run token (--run-token-file); an operator who wants anyone to run code starts the server with --run-api=open"})
		return false, false
	}
	return true, true
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := respond.NewRequestID()
	w.Header().Set(respond.RequestIDHeader, rid)
	ok, authenticated := s.runAllowed(w, r)
	if !ok {
		return
	}
	// An anonymous caller (--run-api=open) gets a failure's code and the
	// request id; its text (Go errors, paths) goes to the server's log. A
	// caller with a token gets it whole, stack included.
	shown := func(err error) *warren.Error {
		e := respond.AsError(err)
		if authenticated {
			return e
		}
		return respond.Public(e)
	}
	// The body is read before a run slot is taken, so slow uploads hold
	// connections (bounded by the server's read timeout), not run slots.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRunBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			respond.Error(w, &warren.Error{Code: warren.CodeTooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", MaxRunBody), Hint: "send less code"})
		} else {
			respond.Error(w, &warren.Error{Code: warren.CodeBadRequest, Message: "reading the request body: " + err.Error()})
		}
		return
	}
	s.semOnce.Do(func() {
		n := s.MaxConcurrentRuns
		if n <= 0 {
			n = DefaultMaxConcurrentRuns
		}
		s.sem = make(chan struct{}, n)
	})
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		w.Header().Set("Retry-After", "1")
		respond.Error(w, &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("too many runs in flight (the limit is %d)", cap(s.sem)), Hint: "retry after a second"})
		return
	}
	rr, err := ParseRun(r.Header.Get("Content-Type"), body)
	if err != nil {
		respond.Error(w, err)
		return
	}
	if rr.Request == nil {
		rr.Request = &RunHTTPRequest{}
	}
	if p := r.URL.Query().Get("path"); p != "" {
		rr.Request.URL = p
	}
	envelope := r.URL.Query().Get("envelope") == "1" || strings.Contains(r.Header.Get("Accept"), "application/vnd.warren.envelope+json")

	var mu sync.Mutex
	var logs []worker.LogEntry
	lc := &worker.LoadCode{Code: &rr.WorkerCode, Outbound: s.Outbound}
	if s.Outbound == nil {
		lc.Outbound = worker.DenyAll
	}
	if rr.Limits != nil {
		if err := rr.Limits.validate(); err != nil {
			respond.Error(w, err)
			return
		}
		lc.Limits = warren.Limits{CPU: time.Duration(rr.Limits.CPUMs) * time.Millisecond, Wall: time.Duration(rr.Limits.WallMs) * time.Millisecond, Subrequests: rr.Limits.SubRequests, MemoryBytes: rr.Limits.MemoryMB << 20}
	}
	logBytes := 0
	sink := func(e worker.LogEntry) {
		mu.Lock()
		if len(logs) < 1000 && logBytes+len(e.Message) <= maxRunLogBytes {
			logBytes += len(e.Message)
			logs = append(logs, e)
		}
		mu.Unlock()
	}
	var resp *http.Response
	if s.Runs != nil {
		var req *http.Request
		if req, err = rr.Request.httpRequest(r.Context()); err == nil {
			resp, err = s.Runs.RunOnce(r.Context(), lc, req, sink)
		}
	} else {
		resp, err = RunOnce(r.Context(), s.Loader, lc, rr.Request, sink)
	}
	env := Envelope{Logs: logs}
	if err != nil {
		s.Log.Info("run failed", "error", err.Error(), "code", warren.ErrorCode(err), "requestId", rid)
		if !envelope {
			respond.ErrorWithID(w, shown(err), rid)
			return
		}
		mu.Lock()
		env.Logs = logs
		mu.Unlock()
		env.Error = shown(err)
		env.DurationMs = msSince(start)
		respond.JSON(w, statusOf(env.Error.Code), env)
		return
	}
	resp.Header.Del(respond.RequestIDHeader) // the platform's, not the code's
	if !envelope {
		if err := respond.Copy(w, resp); err != nil {
			// The body failed halfway: end the connection so the client
			// sees a truncated response, not a complete one.
			panic(http.ErrAbortHandler)
		}
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxEnvelopeBody+1))
	if len(b) > MaxEnvelopeBody {
		b, env.BodyTruncated = b[:MaxEnvelopeBody], true
	}
	mu.Lock()
	env.Logs = logs
	mu.Unlock()
	if env.Logs == nil {
		env.Logs = []worker.LogEntry{}
	}
	env.Status, env.Headers = resp.StatusCode, resp.Header
	if err != nil {
		s.Log.Info("run failed", "error", err.Error(), "code", warren.ErrorCode(err), "requestId", rid)
		env.Error = shown(err)
	}
	if utf8.Valid(b) && !hasControls(b) {
		env.Body = string(b)
	} else { // bytes, or text whose JSON escapes would take six bytes a byte
		env.Body, env.BodyEncoding = base64.StdEncoding.EncodeToString(b), "base64"
	}
	env.DurationMs = msSince(start)
	respond.JSON(w, http.StatusOK, env)
}

// hasControls reports C0 controls other than tab, newline and carriage
// return, or DEL.
func hasControls(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return true
		}
	}
	return false
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// RunOnce loads code as a one-shot Dynamic Worker, sends it req, and returns
// its response. Logs go to sink.
func RunOnce(ctx context.Context, l *loader.Loader, lc *worker.LoadCode, rq *RunHTTPRequest, sink worker.LogSink) (*http.Response, error) {
	req, err := rq.httpRequest(ctx)
	if err != nil {
		return nil, err
	}
	stub := l.LoadWithLogs(lc, sink)
	defer stub.Discard()
	return stub.Fetch(ctx, req)
}

func (rq *RunHTTPRequest) httpRequest(ctx context.Context) (*http.Request, error) {
	method := rq.Method
	if method == "" {
		method = "GET"
	}
	u := rq.URL
	if u == "" {
		u = "/"
	}
	if strings.HasPrefix(u, "/") {
		u = "http://localhost" + u
	}
	var body io.Reader
	if rq.Body != "" {
		body = strings.NewReader(rq.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "request: " + err.Error(), Hint: `give request as {"method": "POST", "url": "/path", "headers": {...}, "body": "..."}`}
	}
	for k, v := range rq.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// ParseRun reads a run body: a module (JavaScript or TypeScript, by content
// type) or a JSON bundle.
func ParseRun(contentType string, body []byte) (*RunRequest, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json":
		var rr RunRequest
		dec := json.NewDecoder(strings.NewReader(string(body)))
		if err := dec.Decode(&rr); err != nil {
			return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "the JSON bundle is not valid: " + err.Error(), Hint: `send {"mainModule": "index.js", "modules": {"index.js": "export default {...}"}}`}
		}
		if err := rr.WorkerCode.Validate(); err != nil {
			return nil, err
		}
		return &rr, nil
	case "", "application/javascript", "text/javascript", "application/x-javascript", "application/ecmascript", "text/plain":
		return &RunRequest{WorkerCode: *warren.SingleModule("worker.js", string(body))}, nil
	case "application/typescript", "text/typescript", "application/x-typescript", "video/mp2t":
		return &RunRequest{WorkerCode: *warren.SingleModule("worker.ts", string(body))}, nil
	}
	return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("unsupported Content-Type %q", contentType), Hint: "use application/javascript, application/typescript or application/json"}
}

func statusOf(c warren.Code) int { return c.HTTPStatus() }
