package supervisor

// The apps store: apps and their versions in supervisor.sqlite, and the
// deploys, rollbacks and deletions that change them.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the supervisor's own database

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/egress"
	"github.com/warrenhq/warren/worker"
)

// Deployment is what PUT /api/v1/apps/{id} carries: the code, the exported
// Durable Object class to run (empty: "App" if exported, else the only
// exported class, else the default export's fetch handler without storage),
// quota overrides and the outbound hosts the app may reach.
type Deployment struct {
	warren.WorkerCode
	ClassName string   `json:"className,omitempty"`
	Limits    Quotas   `json:"limits"`
	Egress    []string `json:"egress,omitempty"`
	// KeepLimits and KeepEgress keep the app's current limits or egress
	// instead of setting them from Limits and Egress: ParseDeployment sets
	// them for a deploy that does not carry the setting (one module, or a
	// JSON bundle without the key), so every format keeps what it does not
	// set. For a new app, keeping is the defaults and no network.
	KeepLimits bool `json:"-"`
	KeepEgress bool `json:"-"`
}

// ParseDeployment reads a deploy body: a JSON bundle
// ({mainModule, modules, className?, limits?, egress?}) or one module whose
// language the content type gives.
func ParseDeployment(contentType string, body []byte) (*Deployment, error) {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch mt {
	case "application/json":
		var d Deployment
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "the JSON bundle is not valid: " + err.Error(),
				Hint: `send {"mainModule": "index.js", "modules": {"index.js": "..."}, "className": "App", "limits": {"storageBytes": 1048576, "memoryMB": 64, "cpuMs": 50, "requestsPerMinute": 600}, "egress": ["api.example.com"]}`}
		}
		// A key that is absent (or null) keeps the app's setting.
		var set struct {
			Limits json.RawMessage `json:"limits"`
			Egress json.RawMessage `json:"egress"`
		}
		json.Unmarshal(body, &set) // valid: decoded above
		d.KeepLimits = len(set.Limits) == 0 || string(set.Limits) == "null"
		d.KeepEgress = len(set.Egress) == 0 || string(set.Egress) == "null"
		return &d, nil
	case "application/javascript", "text/javascript", "application/x-javascript", "application/ecmascript":
		return &Deployment{WorkerCode: *warren.SingleModule("app.js", string(body)), KeepLimits: true, KeepEgress: true}, nil
	case "application/typescript", "text/typescript", "application/x-typescript", "video/mp2t":
		return &Deployment{WorkerCode: *warren.SingleModule("app.ts", string(body)), KeepLimits: true, KeepEgress: true}, nil
	}
	return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("unsupported Content-Type %q for a deploy", contentType),
		Hint: "send the module as application/javascript or application/typescript, or a JSON bundle as application/json"}
}

// Version is one deployed version of an app's code.
type Version struct {
	Version   int       `json:"version"`
	Created   time.Time `json:"created"`
	Hash      string    `json:"hash"`
	ClassName string    `json:"className"` // "" for a stateless fetch handler
	Size      int       `json:"size"`
}

// Deploy validates d and makes it the app's current version (creating the
// app). Code that does not compile or lacks its class is refused with the
// error, and the running version keeps serving. The new version serves the
// next request; the app's data is kept.
func (s *Supervisor) Deploy(ctx context.Context, id string, d *Deployment) (v *Version, created bool, err error) {
	if err := ValidateID(id); err != nil {
		return nil, false, err
	}
	if err := d.WorkerCode.Validate(); err != nil {
		return nil, false, err
	}
	if err := d.Limits.validate(); err != nil {
		return nil, false, err
	}
	for _, h := range d.Egress {
		if err := egress.CheckPattern(h); err != nil {
			return nil, false, &warren.Error{Code: warren.CodeBadRequest, Message: err.Error(), Hint: egressHint}
		}
	}
	// The code is checked under the quotas it will run under.
	limits := d.Limits
	if a := s.lookup(id); a != nil && d.KeepLimits {
		a.mu.Lock()
		limits = a.quotas
		a.mu.Unlock()
	} else if d.KeepLimits {
		limits = Quotas{}
	}
	class, err := s.runner.Validate(ctx, id, d, limits.Or(s.opts.Defaults))
	if err != nil {
		return nil, false, err
	}
	code, _ := json.Marshal(d.WorkerCode)
	sum := sha256.Sum256(code)
	hash := hex.EncodeToString(sum[:])[:16]

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, worker.ErrClosed
	}
	a := s.apps[id]
	if a == nil {
		a = s.newApp(id, newParentID())
		created = true
	}
	s.mu.Unlock()

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.deleted {
		return nil, false, &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("app %q is being deleted", id), Hint: "retry the deploy"}
	}
	next := 1
	if a.ver != nil {
		var max int
		s.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM versions WHERE app = ?`, id).Scan(&max)
		next = max + 1
	}
	// What the deploy does not set, the app keeps (a new app: the defaults
	// and no network).
	limits, allow := d.Limits, d.Egress
	if d.KeepLimits {
		limits = a.quotas
	}
	if d.KeepEgress {
		allow = a.egress
	}
	quotas, _ := json.Marshal(limits)
	egressJSON, _ := json.Marshal(allow)
	if allow == nil {
		egressJSON = []byte("[]")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	tx, err := s.db.Begin()
	if err != nil {
		return nil, false, storeError(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO apps (id, parent_id, created, current, quotas, egress) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET current = excluded.current, quotas = excluded.quotas, egress = excluded.egress`,
		id, a.parentID, now.UnixMilli(), next, string(quotas), string(egressJSON)); err != nil {
		return nil, false, storeError(err)
	}
	if _, err := tx.Exec(`INSERT INTO versions (app, version, created, hash, class, size, code) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, next, now.UnixMilli(), hash, class, len(code), code); err != nil {
		return nil, false, storeError(err)
	}
	if _, err := tx.Exec(`DELETE FROM versions WHERE app = ? AND version <= ?`, id, next-s.opts.MaxVersions); err != nil {
		return nil, false, storeError(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, storeError(err)
	}
	v = &Version{Version: next, Created: now, Hash: hash, ClassName: class, Size: len(code)}
	s.switchTo(a, v, limits, allow)
	if created {
		s.mu.Lock()
		s.apps[id] = a
		s.mu.Unlock()
	}
	s.log.Info("app deployed", "app", id, "version", next, "class", class, "hash", hash)
	a.logs.add(LogLine{Time: now, Level: "deploy", Message: fmt.Sprintf("version %d deployed (class %q, %d bytes of code)", next, class, len(code))})
	return v, created, nil
}

const egressHint = `list hosts such as "api.example.com", "*.example.org" or "api.example.com:8443" (no scheme or path; without a port, 80 for http and 443 for https)`

func listOr(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// switchTo makes v the app's running code: the running facet is stopped
// (requests in flight on it fail with a retryable error) and the next
// request starts the new code on the same data. a.mu is held.
func (s *Supervisor) switchTo(a *app, v *Version, quotas Quotas, allow []string) {
	s.runner.Stop(a.id)
	a.ver, a.quotas, a.egress = v, quotas, allow
	a.spec = nil
}

// Code returns the code of an app's version (for runners).
func (s *Supervisor) Code(id string, version int) (*warren.WorkerCode, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	return s.codeOf(id, version)
}

// Outbound returns the fetcher of the app's outbound requests under its
// egress policy (counted as its usage), or nil when it may make none.
func (s *Supervisor) Outbound(id string) worker.Fetcher {
	a := s.lookup(id)
	if a == nil {
		return nil
	}
	spec, err := s.specOf(a)
	if err != nil {
		return nil
	}
	return spec.Outbound
}

// codeOf reads a stored version's code.
func (s *Supervisor) codeOf(id string, version int) (*warren.WorkerCode, error) {
	var code []byte
	if err := s.db.QueryRow(`SELECT code FROM versions WHERE app = ? AND version = ?`, id, version).Scan(&code); err != nil {
		return nil, fmt.Errorf("version %d of app %q: %w", version, id, err)
	}
	var wc warren.WorkerCode
	if err := json.Unmarshal(code, &wc); err != nil {
		return nil, err
	}
	return &wc, nil
}

// specOf returns what the runner runs for the app's current version.
func (s *Supervisor) specOf(a *app) (*AppSpec, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.deleted {
		return nil, notFound(a.id)
	}
	if a.spec != nil {
		return a.spec, nil
	}
	q := a.quotas.Or(s.opts.Defaults)
	if s.opts.Hooks.Quotas != nil {
		q = s.opts.Hooks.Quotas(a.id, q)
	}
	var out worker.Fetcher
	if len(a.egress) > 0 && s.opts.Egress != nil {
		out = &countingFetcher{next: s.opts.Egress(a.egress), a: a}
	}
	id, version := a.id, a.ver.Version
	a.spec = &AppSpec{ID: a.id, ParentID: a.parentID, Version: version, Hash: a.ver.Hash, Class: a.ver.ClassName, Quotas: q, Outbound: out,
		Code: func(context.Context) (*warren.WorkerCode, error) { return s.codeOf(id, version) }}
	return a.spec, nil
}

// Rollback makes an earlier version current: version, or the one before
// the current version when version is 0.
func (s *Supervisor) Rollback(id string, version int) (*Version, error) {
	a, err := s.app(id)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if version == 0 {
		err = s.db.QueryRow(`SELECT MAX(version) FROM versions WHERE app = ? AND version < ?`, id, a.ver.Version).Scan(&version)
		if err != nil || version == 0 {
			return nil, &warren.Error{Code: warren.CodeNotFound, Message: fmt.Sprintf("app %q has no version before %d to roll back to", id, a.ver.Version), Hint: fmt.Sprintf("GET /api/v1/apps/%s lists the versions kept", id)}
		}
	}
	v := &Version{}
	var created int64
	var quotas, egressJSON string
	err = s.db.QueryRow(`SELECT v.version, v.created, v.hash, v.class, v.size, a.quotas, a.egress FROM versions v JOIN apps a ON a.id = v.app WHERE v.app = ? AND v.version = ?`, id, version).
		Scan(&v.Version, &created, &v.Hash, &v.ClassName, &v.Size, &quotas, &egressJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &warren.Error{Code: warren.CodeNotFound, Message: fmt.Sprintf("app %q has no version %d", id, version), Hint: fmt.Sprintf("GET /api/v1/apps/%s lists the versions kept (the last %d)", id, s.opts.MaxVersions)}
	} else if err != nil {
		return nil, err
	}
	v.Created = time.UnixMilli(created).UTC()
	if _, err := s.db.Exec(`UPDATE apps SET current = ? WHERE id = ?`, version, id); err != nil {
		return nil, err
	}
	s.switchTo(a, v, a.quotas, a.egress)
	s.log.Info("app rolled back", "app", id, "version", version)
	a.logs.add(LogLine{Time: time.Now().UTC(), Level: "deploy", Message: fmt.Sprintf("rolled back to version %d", version)})
	return v, nil
}

// Delete removes the app: its code, versions and data (usage records stay,
// for billing). Requests in flight fail; the id can be deployed again.
func (s *Supervisor) Delete(id string) error {
	a, err := s.app(id)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deleted = true
	s.mu.Lock()
	delete(s.apps, id)
	s.mu.Unlock()
	s.flushApps([]*app{a})
	s.runner.Stop(id)
	if _, err := s.db.Exec(`DELETE FROM apps WHERE id = ?; DELETE FROM versions WHERE app = ?`, id, id); err != nil {
		return err
	}
	if err := os.RemoveAll(a.dir); err != nil {
		return err
	}
	a.logs.close()
	s.log.Info("app deleted", "app", id)
	return nil
}

// app returns the deployed app or a not-found error.
func (s *Supervisor) app(id string) (*app, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if a := s.lookup(id); a != nil {
		return a, nil
	}
	return nil, notFound(id)
}

func notFound(id string) error {
	return &warren.Error{Code: warren.CodeNotFound, Message: fmt.Sprintf("no app %q is deployed", id), Hint: fmt.Sprintf("deploy it with PUT /api/v1/apps/%s (or `warren deploy %s FILE`)", id, id)}
}

// AppInfo describes an app.
type AppInfo struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	ClassName string    `json:"className"`
	Hash      string    `json:"hash"`
	Updated   time.Time `json:"updated"`
	Running   bool      `json:"running"`
	// Limits are the effective quotas; Overrides what the deploy set.
	Limits    Quotas    `json:"limits"`
	Overrides Quotas    `json:"overrides"`
	Egress    []string  `json:"egress"`
	Versions  []Version `json:"versions,omitempty"`
	Usage     *UsageRow `json:"usage,omitempty"`
}

func (s *Supervisor) info(a *app, running map[string]bool) AppInfo {
	a.mu.Lock()
	v, over, eg := a.ver, a.quotas, a.egress
	a.mu.Unlock()
	if eg == nil {
		eg = []string{}
	}
	return AppInfo{ID: a.id, Version: v.Version, ClassName: v.ClassName, Hash: v.Hash, Updated: v.Created, Running: running[a.id],
		Limits: s.quotasOf(a), Overrides: over, Egress: eg}
}

// Apps lists the deployed apps, sorted by id.
func (s *Supervisor) Apps() []AppInfo {
	s.mu.RLock()
	apps := make([]*app, 0, len(s.apps))
	for _, a := range s.apps {
		apps = append(apps, a)
	}
	s.mu.RUnlock()
	sort.Slice(apps, func(i, j int) bool { return apps[i].id < apps[j].id })
	out := make([]AppInfo, len(apps))
	running := s.runner.RunningApps() // one question to the runner, not one per app
	for i, a := range apps {
		out[i] = s.info(a, running)
	}
	return out
}

// App describes one app with its versions and all-time usage.
func (s *Supervisor) App(id string) (*AppInfo, error) {
	a, err := s.app(id)
	if err != nil {
		return nil, err
	}
	info := s.info(a, s.runner.RunningApps())
	rows, err := s.db.Query(`SELECT version, created, hash, class, size FROM versions WHERE app = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v Version
		var created int64
		if err := rows.Scan(&v.Version, &created, &v.Hash, &v.ClassName, &v.Size); err != nil {
			rows.Close()
			return nil, err
		}
		v.Created = time.UnixMilli(created).UTC()
		info.Versions = append(info.Versions, v)
	}
	rows.Close() // the database has one connection: free it for Usage
	total, err := s.Usage(id, "all")
	if err != nil {
		return nil, err
	}
	if len(total) > 0 {
		info.Usage = &total[0]
	} else {
		info.Usage = &UsageRow{App: id, Period: "all"}
	}
	return &info, nil
}

// countingFetcher counts an app's outbound requests.
type countingFetcher struct {
	next worker.Fetcher
	a    *app
}

func (c *countingFetcher) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	c.a.use.outbound.Add(1)
	return c.next.Fetch(ctx, req)
}

// PublicEgress is the Options.Egress of warren serve: direct connections
// to the allowed hosts, never to loopback, private or metadata addresses.
func PublicEgress(allow []string) worker.Fetcher { return egress.New(false, allow) }

// storeError explains a failure to write the supervisor's database.
func storeError(err error) error {
	return storeErrorOf(err, "the deploy", "the running version keeps serving")
}

// storeErrorOf explains a failure to store what (which did not happen),
// saying what stays as it was.
func storeErrorOf(err error, what, kept string) error {
	if strings.Contains(err.Error(), "disk is full") || strings.Contains(err.Error(), "SQLITE_FULL") {
		return &warren.Error{Code: warren.CodeUnavailable, Message: what + " could not be stored: the server's disk is full", Hint: kept + "; retry once the operator has freed disk space"}
	}
	return &warren.Error{Code: warren.CodeInternal, Message: what + " could not be stored: " + err.Error()}
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
	a := &app{id: id, parentID: parent, dir: filepath.Join(s.opts.Dir, "apps", id), logs: newLogRing(s.opts.LogLines, s.opts.LogBytes, s.opts.LogLineBytes)}
	if r, ok := s.runner.(interface{ AppDir(id string) string }); ok {
		a.dir = r.AppDir(id) // host.Pool: the folder of the app's host
	}
	a.rate.limit = func() int { return s.quotasOf(a).RequestsPerMinute }
	return a
}

func newParentID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
