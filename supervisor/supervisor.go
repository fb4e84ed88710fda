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
package supervisor

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the supervisor's own database

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// Quotas are what one app may use. Zero fields mean "the platform default"
// in overrides, and "no limit of Warren's own" in defaults (engine limits
// still apply).
type Quotas struct {
	// StorageBytes bounds the app's database (SQLite page limit).
	StorageBytes int64 `json:"storageBytes,omitempty"`
	// MemoryMB bounds the app's isolate heap.
	MemoryMB int `json:"memoryMB,omitempty"`
	// CPUMs bounds the JavaScript CPU time of one request.
	CPUMs int `json:"cpuMs,omitempty"`
	// RequestsPerMinute bounds the requests the app serves per minute;
	// past it clients get 429 with Retry-After.
	RequestsPerMinute int `json:"requestsPerMinute,omitempty"`
}

// Or returns q with zero fields taken from def.
func (q Quotas) Or(def Quotas) Quotas {
	if q.StorageBytes == 0 {
		q.StorageBytes = def.StorageBytes
	}
	if q.MemoryMB == 0 {
		q.MemoryMB = def.MemoryMB
	}
	if q.CPUMs == 0 {
		q.CPUMs = def.CPUMs
	}
	if q.RequestsPerMinute == 0 {
		q.RequestsPerMinute = def.RequestsPerMinute
	}
	return q
}

func (q Quotas) validate() error {
	bad := func(field string, v any, hint string) error {
		return &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("limits.%s = %v is not allowed", field, v), Hint: hint}
	}
	switch {
	case q.StorageBytes < 0 || (q.StorageBytes > 0 && q.StorageBytes < 64<<10):
		return bad("storageBytes", q.StorageBytes, "give at least 65536 bytes, or 0 for the platform default")
	case q.MemoryMB < 0 || (q.MemoryMB > 0 && q.MemoryMB < 8) || q.MemoryMB > 4096:
		return bad("memoryMB", q.MemoryMB, "give 8 to 4096, or 0 for the platform default")
	case q.CPUMs < 0 || q.CPUMs > 5*60*1000:
		return bad("cpuMs", q.CPUMs, "give 1 to 300000, or 0 for the platform default")
	case q.RequestsPerMinute < 0:
		return bad("requestsPerMinute", q.RequestsPerMinute, "give a positive number, or 0 for the platform default")
	}
	return nil
}

// DefaultQuotas are the platform defaults of the built-in supervisor.
var DefaultQuotas = Quotas{StorageBytes: 256 << 20, MemoryMB: 64, CPUMs: 1000, RequestsPerMinute: 6000}

// Options configure a Supervisor.
type Options struct {
	// Runtime compiles and runs app code (for the default Local runner).
	Runtime *worker.Runtime
	// Runner runs the apps' code; nil: a Local runner on Runtime, with the
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
	// LogLines is the size of each app's log buffer (0: 1000 lines).
	LogLines int
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

// idPattern is what an app id may be: a DNS label, so that {id}.<domain>
// routing works, in lower case.
var idPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidateID checks an app id.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		shown := id
		if len(shown) > 80 {
			shown = shown[:80] + "…"
		}
		return &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("invalid app id %q", shown), Hint: "an app id is 1 to 63 characters: lower-case letters, digits and '-', not starting or ending with '-' (it is also a DNS label)"}
	}
	return nil
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
	s := &Supervisor{opts: opts, runner: opts.Runner, db: db, log: opts.Log, apps: map[string]*app{}, stop: make(chan struct{}), done: make(chan struct{})}
	if s.runner == nil {
		s.runner = NewLocal(LocalOptions{Runtime: opts.Runtime, Dir: filepath.Join(opts.Dir, "apps"), MemoryBudget: opts.MemoryBudget, IdleTimeout: opts.IdleTimeout, Logs: s.WorkerLog})
	}
	s.metrics = newMetrics(s)
	if err := s.loadApps(); err != nil {
		db.Close()
		return nil, err
	}
	go s.background()
	return s, nil
}

func openDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`
CREATE TABLE IF NOT EXISTS apps (
  id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, created INTEGER NOT NULL,
  current INTEGER NOT NULL, quotas TEXT NOT NULL, egress TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
  app TEXT NOT NULL, version INTEGER NOT NULL, created INTEGER NOT NULL,
  hash TEXT NOT NULL, class TEXT NOT NULL, size INTEGER NOT NULL, code BLOB NOT NULL,
  PRIMARY KEY (app, version));
CREATE TABLE IF NOT EXISTS usage (
  app TEXT NOT NULL, hour INTEGER NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
  cpu_us INTEGER NOT NULL DEFAULT 0, wall_us INTEGER NOT NULL DEFAULT 0,
  rows_read INTEGER NOT NULL DEFAULT 0, rows_written INTEGER NOT NULL DEFAULT 0,
  outbound INTEGER NOT NULL DEFAULT 0, storage_bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app, hour));`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("supervisor: open %s: %w", path, err)
	}
	return db, nil
}

func (s *Supervisor) loadApps() error {
	rows, err := s.db.Query(`SELECT a.id, a.parent_id, a.quotas, a.egress, v.version, v.created, v.hash, v.class, v.size
		FROM apps a JOIN versions v ON v.app = a.id AND v.version = a.current`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, quotas, egress string
		v := &Version{}
		var created int64
		if err := rows.Scan(&id, &parent, &quotas, &egress, &v.Version, &created, &v.Hash, &v.ClassName, &v.Size); err != nil {
			return err
		}
		v.Created = time.UnixMilli(created).UTC()
		a := s.newApp(id, parent)
		a.ver = v
		json.Unmarshal([]byte(quotas), &a.quotas)
		json.Unmarshal([]byte(egress), &a.egress)
		s.apps[id] = a
	}
	return rows.Err()
}

func (s *Supervisor) newApp(id, parent string) *app {
	a := &app{id: id, parentID: parent, dir: filepath.Join(s.opts.Dir, "apps", id), logs: newLogRing(s.opts.LogLines)}
	a.rate.limit = func() int { return s.quotasOf(a).RequestsPerMinute }
	return a
}

func newParentID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
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
	flush := time.NewTicker(s.opts.FlushInterval)
	defer flush.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-flush.C:
			s.flush()
		}
	}
}
