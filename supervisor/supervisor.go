// Package supervisor is Warren's built-in supervisor: the operator's code in
// front of every app. It keeps apps (versions of their code, quotas, egress
// policy) in its own SQLite database, runs each app's Durable Object class
// as a facet (actor.Facets) with its own SQLite database, loaded through the
// Worker Loader, and decides what each app may use: storage, memory, CPU
// per request, requests per minute, outbound hosts. It meters usage in the
// units Cloudflare bills, keeps a bounded log per app and exports
// Prometheus metrics.
//
// Go programs embed it with New and drive it with Deploy, ServeApp and the
// Hooks in Options; package gateway serves it over HTTP.
//
// The policy is apart from the running code and from HTTP serving:
//
//   - policy: supervisor.go (Supervisor, Options, Hooks), store.go (apps
//     and versions in supervisor.sqlite: deploy, rollback, delete),
//     limits.go (an app's quotas and egress apart from deploys), quotas.go
//     (quotas, requests-per-minute windows), meter.go (usage), logs.go
//     (per-app logs), metrics.go (Prometheus);
//   - running code: runner.go (the Runner contract between policy and
//     execution), inprocess.go (InProcess, the Runner in this process;
//     host.Pool is the other);
//   - HTTP serving: serve.go (ServeApp); answers are written by package
//     respond.
//
// Dependencies point one way: serve.go uses the policy and the Runner;
// the policy uses the Runner only through its interface.
package supervisor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/warrenhq/warren/worker"
)

// Options configure a Supervisor.
type Options struct {
	// Runtime compiles and runs app code (for the default InProcess runner).
	Runtime *worker.Runtime
	// Runner runs the apps' code; nil: an InProcess runner on Runtime, with the
	// apps' folders under Dir/apps. Package host provides one that runs
	// them in confined processes.
	Runner Runner
	// Dir holds the supervisor's database (supervisor.sqlite) and one
	// folder per app.
	Dir string
	// Defaults are the platform quotas; apps override them per field.
	Defaults Quotas
	// Egress builds the outbound client of an app whose deploy allows the
	// given host patterns ("api.example.com", "*.example.org"). Nil: apps
	// get no network, whatever they ask for.
	Egress func(allow []string) worker.Fetcher
	// MemoryBudget bounds the estimated memory of live apps (isolate and
	// open database); past it the least recently used idle apps are closed,
	// to come back from disk on their next request. 0: 512 MiB.
	MemoryBudget int64
	// IdleTimeout closes apps without requests for this long (0: 60 s).
	IdleTimeout time.Duration
	// MaxVersions is how many versions of each app are kept for rollback
	// (0: 10).
	MaxVersions int
	// LogLines is the most lines each app's log buffer keeps (0: 1000).
	LogLines int
	// LogBytes is the most bytes each app's log buffer keeps, the oldest
	// lines going first (0: DefaultLogBytes, 1 MiB).
	LogBytes int
	// LogLineBytes is the most bytes one log line keeps; a longer one is
	// cut, with a marker (0: DefaultLogLineBytes, 16 KiB).
	LogLineBytes int
	// FlushInterval is how often usage is written to the database (0: 1 s).
	// Usage counted since the last flush is lost if the process is killed.
	FlushInterval time.Duration
	// Log receives operator log lines (quota hits, deploys, evictions).
	Log *slog.Logger
	// Hooks let a Go program act on requests and usage.
	Hooks Hooks
}

// Hooks are the extension points of a supervisor written in Go.
type Hooks struct {
	// BeforeRequest runs before a request is forwarded to the app. A
	// non-nil error stops it: the client gets the error (a *warren.Error
	// chooses the status and message).
	BeforeRequest func(ctx context.Context, app string, req *RequestInfo) error
	// AfterRequest runs when the app's response has been sent.
	AfterRequest func(app string, req *RequestInfo, usage RequestUsage)
	// Quotas, when set, returns the quotas of app given the ones Warren
	// computed (defaults with the deploy's overrides). Requests per minute
	// are read on every request; the others when the app's code starts.
	Quotas func(app string, q Quotas) Quotas
}

// RequestInfo describes a request to an app, for hooks.
type RequestInfo struct {
	Method string
	// Path is the path the app sees (after /apps/{id}).
	Path   string
	Header map[string][]string
}

// RequestUsage is what one request used.
type RequestUsage struct {
	Status      int
	Wall        time.Duration
	CPU         time.Duration
	RowsRead    int64
	RowsWritten int64
	Outbound    int64
	Error       bool
}

// Supervisor runs apps. It is safe for concurrent use.
type Supervisor struct {
	opts   Options
	runner Runner
	db     *sql.DB
	log    *slog.Logger

	mu     sync.RWMutex
	apps   map[string]*app
	closed bool

	metrics *metrics

	// flushMu makes usage flushes take turns; commitUsage commits one
	// (tx.Commit; tests make it fail).
	flushMu     sync.Mutex
	commitUsage func(*sql.Tx) error

	stop chan struct{}
	done chan struct{}
}

// app is one deployed app in memory.
type app struct {
	id       string
	parentID string // ctx.id of its object: 64 hex digits, random at first deploy
	dir      string

	mu      sync.Mutex
	ver     *Version
	quotas  Quotas // overrides from the deploy
	egress  []string
	spec    *AppSpec // what the runner runs; rebuilt after a change
	deleted bool

	rate rateWindow
	logs *logRing
	use  meter
}

// New opens (creating if needed) the supervisor's database in opts.Dir and
// loads the deployed apps.
func New(opts Options) (*Supervisor, error) {
	if opts.Runtime == nil && opts.Runner == nil {
		return nil, errors.New("supervisor: Options.Runtime or Options.Runner is required")
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 512 << 20
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	if opts.MaxVersions <= 0 {
		opts.MaxVersions = 10
	}
	if opts.LogLines <= 0 {
		opts.LogLines = 1000
	}
	if opts.LogBytes <= 0 {
		opts.LogBytes = DefaultLogBytes
	}
	if opts.LogLineBytes <= 0 {
		opts.LogLineBytes = DefaultLogLineBytes
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.Defaults = opts.Defaults.Or(Quotas{})
	if err := os.MkdirAll(filepath.Join(opts.Dir, "apps"), 0o700); err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	db, err := openDB(filepath.Join(opts.Dir, "supervisor.sqlite"))
	if err != nil {
		return nil, err
	}
	s := &Supervisor{opts: opts, runner: opts.Runner, db: db, log: opts.Log, apps: map[string]*app{}, stop: make(chan struct{}), done: make(chan struct{}),
		commitUsage: (*sql.Tx).Commit}
	if s.runner == nil {
		s.runner = NewInProcess(InProcessOptions{Runtime: opts.Runtime, Dir: filepath.Join(opts.Dir, "apps"), MemoryBudget: opts.MemoryBudget, IdleTimeout: opts.IdleTimeout, Logs: s.WorkerLog})
	}
	s.metrics = newMetrics(s)
	if err := s.loadApps(); err != nil {
		db.Close()
		return nil, err
	}
	go s.background()
	return s, nil
}

// lookup returns the app, or nil.
func (s *Supervisor) lookup(id string) *app {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.apps[id]
}

// quotasOf returns the app's effective quotas.
func (s *Supervisor) quotasOf(a *app) Quotas {
	a.mu.Lock()
	q := a.quotas.Or(s.opts.Defaults)
	a.mu.Unlock()
	if s.opts.Hooks.Quotas != nil {
		q = s.opts.Hooks.Quotas(a.id, q)
	}
	return q
}

// Close stops every app, writes pending usage and closes the database.
func (s *Supervisor) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.runner.Close()
	s.flush()
	s.db.Close()
}

// background flushes usage until Close.
func (s *Supervisor) background() {
	defer close(s.done)
	every(s.opts.FlushInterval, s.stop, s.flush)
}

// every calls f every d until stop is closed.
func every(d time.Duration, stop <-chan struct{}, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f()
		}
	}
}
