package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/sqlite"
	"github.com/warrenhq/warren/worker"
)

// InProcessOptions configure an InProcess runner.
type InProcessOptions struct {
	Runtime *worker.Runtime
	// Dir holds one folder per app (<Dir>/<id>).
	Dir string
	// MemoryBudget bounds the estimated memory of live apps (0: 512 MiB).
	MemoryBudget int64
	// IdleTimeout closes apps without requests for this long (0: 60 s).
	IdleTimeout time.Duration
	// Logs receives the apps' console output and exceptions.
	Logs func(app string, e worker.LogEntry)
}

// InProcess is the Runner that runs apps in this process: each app's class
// as a facet (actor.Facets) with its own SQLite database, its code loaded
// through a Worker Loader.
type InProcess struct {
	opts   InProcessOptions
	rt     *worker.Runtime
	loader *loader.Loader

	mu   sync.Mutex
	apps map[string]*runningApp

	live, coldStarts, evictions atomic.Int64
	stop, done                  chan struct{}
	closeOnce                   sync.Once
}

type runningApp struct {
	id       string
	mu       sync.Mutex
	version  int // of stub
	stub     *loader.Stub
	facets   *actor.Facets
	seen     atomic.Pointer[dbSeen]
	running  atomic.Bool
	active   atomic.Int64
	lastUsed atomic.Int64
}

// NewInProcess returns an InProcess runner.
func NewInProcess(opts InProcessOptions) *InProcess {
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 512 << 20
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	l := &InProcess{opts: opts, rt: opts.Runtime, apps: map[string]*runningApp{}, stop: make(chan struct{}), done: make(chan struct{})}
	l.loader = loader.New(opts.Runtime, loader.Options{Limits: warren.DefaultLimits, Logs: l.workerLog, MemoryBudget: opts.MemoryBudget})
	go l.background()
	return l
}

// workerLog routes isolate output by app: the loader names each app's code
// "app:<id>@<version>".
func (l *InProcess) workerLog(e worker.LogEntry) {
	rest, ok := strings.CutPrefix(e.CodeID, "app:")
	if !ok || l.opts.Logs == nil {
		return
	}
	id, _, _ := strings.Cut(rest, "@")
	l.opts.Logs(id, e)
}

// Validate compiles d and checks that its class is exported.
func (l *InProcess) Validate(ctx context.Context, id string, d *Deployment, q Quotas) (string, error) {
	prog, err := l.rt.Compile(&d.WorkerCode)
	if err != nil {
		return "", err
	}
	inst, err := l.rt.NewInstance(prog, worker.Config{CodeID: "deploy-check", Limits: isolateLimits(q)})
	if err != nil {
		return "", badCode(err, "the code fails while loading: ", "fix the module's top-level code (it runs once when the app starts)")
	}
	defer func() { go inst.Close() }() // off the deploy's path
	exports, err := inst.Exports(ctx)
	if err != nil {
		// A getter or proxy trap on an export threw past its catch or hit
		// a limit.
		return "", badCode(err, "the code fails while its exports are read: ", "make the default export a plain object with a fetch method, and the app's class a plain class")
	}
	return chooseClass(exports, d.ClassName)
}

// badCode makes an exception or limit error of the app's code a bad_code
// error (the deploy is refused); other errors are returned as they are.
func badCode(err error, prefix, hint string) error {
	var e *warren.Error
	if errors.As(err, &e) && (e.Code == warren.CodeException || e.Code == warren.CodeLimit) {
		bad := *e
		bad.Code = warren.CodeBadCode
		bad.Message = prefix + e.Message
		if bad.Hint == "" {
			bad.Hint = hint
		}
		return &bad
	}
	return err
}

// export is one export as worker.Instance.Exports describes it.
type export struct {
	kind                             string // class, function, object, other; "" when there is none
	fetch, durableObject, entrypoint bool
}

func parseExport(desc string) export {
	f := strings.Fields(desc)
	if len(f) == 0 {
		return export{}
	}
	e := export{kind: f[0]}
	for _, t := range f[1:] {
		switch t {
		case "fetch":
			e.fetch = true
		case "DurableObject":
			e.durableObject = true
		case "WorkerEntrypoint":
			e.entrypoint = true
		}
	}
	return e
}

// chooseClass picks the class to run from a module's exports ("" for the
// default export's fetch handler) and refuses code that could serve no
// request: a class or default export without a fetch handler, or a default
// export that is a class the runtime cannot call.
func chooseClass(descs map[string]string, named string) (string, error) {
	exports := map[string]export{}
	var classes []string
	for name, desc := range descs {
		e := parseExport(desc)
		exports[name] = e
		if e.kind == "class" {
			classes = append(classes, name)
		}
	}
	sort.Strings(classes)
	if named != "" {
		if exports[named].kind != "class" {
			return "", &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("the code does not export a class named %q (its exported classes: %s)", named, listOr(classes)),
				Hint: fmt.Sprintf("add `export class %s extends DurableObject { ... }` to the main module, or set className to one of its classes", named)}
		}
		return named, classServes(named, exports[named])
	}
	if exports["App"].kind == "class" {
		return "App", classServes("App", exports["App"])
	}
	if len(classes) == 1 && classes[0] != "default" {
		return classes[0], classServes(classes[0], exports[classes[0]])
	}
	if def := exports["default"]; def.kind == "object" || def.kind == "class" {
		return "", defaultServes(def)
	}
	if len(classes) > 1 {
		return "", &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("the code exports several classes (%s) and no className says which one is the app", listOr(classes)), Hint: `set "className" in the JSON bundle, or ?className= on the deploy`}
	}
	return "", &warren.Error{Code: warren.CodeBadCode, Message: "the code exports neither a Durable Object class nor a default fetch handler",
		Hint: "export class App extends DurableObject { fetch(request) { ... } } (imported from \"cloudflare:workers\"), or export default { fetch(request) { ... } }"}
}

// classServes refuses the app's class when it has no fetch method: every
// request to the app calls it.
func classServes(name string, e export) error {
	if e.fetch {
		return nil
	}
	return &warren.Error{Code: warren.CodeBadCode, Message: fmt.Sprintf("class %s, the app's class, has no fetch() method, so the app could serve no request (its requests go to the class's fetch)", name),
		Hint: fmt.Sprintf("add fetch(request) { return new Response(\"...\") } to class %s (export class %s extends DurableObject, imported from \"cloudflare:workers\")", name, name)}
}

// defaultServes refuses a default export that no request could call: an
// object without a fetch function, a Durable Object class, or a class
// that does not extend WorkerEntrypoint or has no fetch method.
func defaultServes(e export) error {
	const handler = "export default { async fetch(request, env, ctx) { return new Response(\"...\") } }"
	switch {
	case e.kind == "object" && !e.fetch:
		return &warren.Error{Code: warren.CodeBadCode, Message: "the code has no request handler: its default export is an object without a fetch() function (an empty module's default export is {})",
			Hint: handler + ", or a Durable Object class: export class App extends DurableObject { fetch(request) { ... } }"}
	case e.kind == "class" && e.durableObject:
		return &warren.Error{Code: warren.CodeBadCode, Message: "the default export is a Durable Object class: an app runs a class it exports by name",
			Hint: "export class App extends DurableObject { fetch(request) { ... } } (or give its name as className)"}
	case e.kind == "class" && !e.entrypoint:
		return &warren.Error{Code: warren.CodeBadCode, Message: "the default export is a class that does not extend WorkerEntrypoint, so no request could call it",
			Hint: "import { WorkerEntrypoint } from \"cloudflare:workers\"; export default class extends WorkerEntrypoint { fetch(request) { ... } }, or " + handler}
	case e.kind == "class" && !e.fetch:
		return &warren.Error{Code: warren.CodeBadCode, Message: "the default export extends WorkerEntrypoint but has no fetch() method, so no request could call it",
			Hint: "add fetch(request) { return new Response(\"...\") } to the class"}
	}
	return nil
}

// isolateLimits maps quotas to isolate limits.
func isolateLimits(q Quotas) warren.Limits {
	l := warren.Limits{}
	if q.MemoryMB > 0 {
		l.MemoryBytes = int64(q.MemoryMB) << 20
	}
	if q.CPUMs > 0 {
		l.CPU = time.Duration(q.CPUMs) * time.Millisecond
	}
	return l
}

func (l *InProcess) app(id string) *runningApp {
	l.mu.Lock()
	defer l.mu.Unlock()
	la := l.apps[id]
	if la == nil {
		la = &runningApp{id: id}
		l.apps[id] = la
	}
	return la
}

// Serve forwards req to the app, starting its code if needed.
func (l *InProcess) Serve(ctx context.Context, spec *AppSpec, req *http.Request) (*http.Response, *RunUsage, error) {
	la := l.app(spec.ID)
	la.active.Add(1)
	la.lastUsed.Store(time.Now().UnixNano())
	use := &worker.Usage{}
	ru := &RunUsage{}
	var seen *dbSeen
	var once sync.Once
	finish := func() {
		once.Do(func() {
			ru.CPU = use.CPU()
			if seen != nil {
				ru.RowsRead, ru.RowsWritten = seen.take()
			}
			la.lastUsed.Store(time.Now().UnixNano())
			la.active.Add(-1)
		})
	}
	ctx = worker.WithUsage(ctx, use)
	req = req.WithContext(ctx)
	var resp *http.Response
	var err error
	for attempt := 0; ; attempt++ {
		var ep worker.Entrypoint
		var started bool
		ep, seen, started, err = l.acquire(ctx, la, spec)
		if started {
			go l.evictOver(la)
		}
		if err == nil {
			resp, err = ep.Fetch(ctx, req)
		}
		// A deploy or eviction closed the isolate before it took the
		// request (the body is unread): go again on the new one.
		if attempt == 0 && errors.Is(err, worker.ErrClosed) {
			continue
		}
		break
	}
	if err != nil {
		finish()
		return nil, ru, err
	}
	resp.Body = &finishBody{ReadCloser: resp.Body, finish: finish}
	return resp, ru, nil
}

// finishBody completes a request's usage when its body is closed.
type finishBody struct {
	io.ReadCloser
	finish func()
}

func (b *finishBody) Close() error {
	err := b.ReadCloser.Close()
	b.finish()
	return err
}

func (l *InProcess) acquire(ctx context.Context, la *runningApp, spec *AppSpec) (ep worker.Entrypoint, seen *dbSeen, started bool, err error) {
	la.mu.Lock()
	defer la.mu.Unlock()
	if la.stub == nil || la.version != spec.Version {
		l.closeLocked(la)
		out := worker.DenyAll
		if spec.Outbound != nil {
			out = &worker.Outbound{Direct: spec.Outbound}
		}
		limits, code := isolateLimits(spec.Quotas), spec.Code
		la.stub = l.loader.Get(appCodeID(spec.ID, spec.Version), func(ctx context.Context) (*worker.LoadCode, error) {
			c, err := code(ctx)
			if err != nil {
				return nil, err
			}
			return &worker.LoadCode{Code: c, Limits: limits, Outbound: out}, nil
		})
		la.version = spec.Version
		la.facets = actor.NewFacets(filepath.Join(l.opts.Dir, spec.ID), spec.ParentID, sqlite.Options{MaxBytes: spec.Quotas.StorageBytes})
	}
	if la.facets == nil { // closed by eviction or idleness
		la.facets = actor.NewFacets(filepath.Join(l.opts.Dir, spec.ID), spec.ParentID, sqlite.Options{MaxBytes: spec.Quotas.StorageBytes})
	}
	if spec.Class == "" {
		ep = la.stub.Entrypoint("", nil, warren.Limits{})
	} else if ep = la.facets.Running("app"); ep == nil {
		if ep, err = la.facets.Start(ctx, "app", la.stub, spec.Class, ""); err != nil { // creates the app's folder
			return nil, nil, false, err
		}
		l.coldStarts.Add(1)
	}
	if started = !la.running.Swap(true); started {
		l.live.Add(1)
	}
	if _, db := la.facets.Instance("app"); db != nil {
		seen = la.seen.Load()
		if seen == nil || seen.db != db {
			seen = &dbSeen{db: db}
			la.seen.Store(seen)
		}
	}
	return ep, seen, started, nil
}

// closeLocked stops the app's facet; la.mu is held.
func (l *InProcess) closeLocked(la *runningApp) {
	if la.facets != nil {
		la.facets.Close()
		la.facets = nil
	}
	la.seen.Store(nil)
	if la.running.Swap(false) {
		l.live.Add(-1)
	}
}

// Stop closes the app's running code; the next request loads its current
// version under its current quotas and egress. The loader's Worker of the
// version is discarded too: a change of quotas keeps the version, and the
// loader would otherwise hand back the Worker it holds under the old ones.
func (l *InProcess) Stop(id string) {
	l.mu.Lock()
	la := l.apps[id]
	l.mu.Unlock()
	if la != nil {
		la.mu.Lock()
		l.closeLocked(la)
		if la.stub != nil {
			l.loader.Abort(appCodeID(id, la.version))
		}
		la.stub = nil
		la.mu.Unlock()
	}
}

// appCodeID is the loader's id of an app's version ("app:<id>@<version>",
// which workerLog reads back).
func appCodeID(id string, version int) string { return fmt.Sprintf("app:%s@%d", id, version) }

// RunningApps returns the apps whose code is in memory.
func (l *InProcess) RunningApps() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	for id, la := range l.apps {
		if la.running.Load() {
			out[id] = true
		}
	}
	return out
}

// Stats returns the runner's figures.
func (l *InProcess) Stats() RunnerStats {
	return RunnerStats{Live: l.live.Load(), ColdStarts: l.coldStarts.Load(), Evictions: l.evictions.Load(),
		LoaderWorkers: int64(l.loader.Len()), Isolates: l.loader.Stats().Isolates.Load()}
}

// Close stops every app.
func (l *InProcess) Close() {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		apps := l.apps
		l.apps = map[string]*runningApp{}
		l.mu.Unlock()
		for _, la := range apps {
			la.mu.Lock()
			l.closeLocked(la)
			la.mu.Unlock()
		}
		l.loader.Close()
	})
}

// background closes idle apps until Close.
func (l *InProcess) background() {
	defer close(l.done)
	every(l.opts.IdleTimeout/4, l.stop, func() {
		l.closeIdle(time.Now().Add(-l.opts.IdleTimeout).UnixNano())
	})
}

// maxLive is how many apps may be live under the memory budget, each
// estimated at loader.WorkerMemory.
func (l *InProcess) maxLive() int64 {
	return max(l.opts.MemoryBudget/loader.WorkerMemory, 1)
}

func (l *InProcess) closeIdle(cutoff int64) {
	l.mu.Lock()
	var idle []*runningApp
	for _, la := range l.apps {
		if la.running.Load() && la.active.Load() == 0 && la.lastUsed.Load() < cutoff {
			idle = append(idle, la)
		}
	}
	l.mu.Unlock()
	for _, la := range idle {
		l.tryClose(la, cutoff)
	}
}

// tryClose closes la if it is still idle since before cutoff.
func (l *InProcess) tryClose(la *runningApp, cutoff int64) bool {
	if !la.mu.TryLock() {
		return false
	}
	defer la.mu.Unlock()
	if la.active.Load() != 0 || la.lastUsed.Load() >= cutoff || !la.running.Load() {
		return false
	}
	l.closeLocked(la)
	l.evictions.Add(1)
	return true
}

// evictOver closes least recently used idle apps while more are live than
// the memory budget allows; keep is never chosen.
func (l *InProcess) evictOver(keep *runningApp) {
	over := l.live.Load() - l.maxLive()
	if over <= 0 {
		return
	}
	l.mu.Lock()
	var cands []*runningApp
	for _, la := range l.apps {
		if la != keep && la.running.Load() && la.active.Load() == 0 {
			cands = append(cands, la)
		}
	}
	l.mu.Unlock()
	sort.Slice(cands, func(i, j int) bool { return cands[i].lastUsed.Load() < cands[j].lastUsed.Load() })
	for _, la := range cands {
		if over <= 0 {
			break
		}
		if l.tryClose(la, time.Now().UnixNano()) {
			over--
		}
	}
}

// dbSeen partitions a database's row counters between requests: each takes
// the rows counted since the previous one took its share, so the sum over
// requests is exact even when they overlap.
type dbSeen struct {
	db            *sqlite.DB
	read, written atomic.Int64
}

func (d *dbSeen) take() (read, written int64) {
	r, w := d.db.Rows()
	return r - d.read.Swap(r), w - d.written.Swap(w)
}
