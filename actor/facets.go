package actor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/sqlite"
	"github.com/warrenhq/warren/worker"
)

// MaxFacetDepth bounds the nesting of facets (a facet's facets, ...).
const MaxFacetDepth = 4

// facets are the facets of one object: each runs code its parent loaded,
// with its own SQLite database under the parent's folder (facets/), which
// the parent's own storage API cannot reach.
type facets struct {
	storage  sqlite.Options
	parentID string
	dir      string
	depth    int

	mu      sync.Mutex
	running map[string]*facet
}

type facet struct {
	inst     *worker.Instance
	db       *sqlite.DB
	children *facets
	ep       *facetEntrypoint // one per running facet: isolates reuse its capability id
}

var _ worker.FacetHost = (*facets)(nil)

func newFacets(ns *Namespace, parentID, dir string, depth int) *facets {
	return newFacetsStorage(ns.opts.Storage, parentID, dir, depth)
}

func newFacetsStorage(storage sqlite.Options, parentID, dir string, depth int) *facets {
	return &facets{storage: storage, parentID: parentID, dir: filepath.Join(dir, "facets"), depth: depth, running: map[string]*facet{}}
}

// file names a facet's database by a hash of its name (names are free text).
func (fs *facets) file(name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(fs.dir, hex.EncodeToString(h[:16]))
}

func (fs *facets) Facet(name string) worker.Entrypoint {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.running[name]; ok && f.inst.Broken() == nil {
		return f.ep
	}
	return nil
}

func (fs *facets) StartFacet(ctx context.Context, name string, stub worker.WorkerStub, class, id string) (worker.Entrypoint, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.running[name]; ok {
		if f.inst.Broken() == nil {
			return f.ep, nil
		}
		f.close()
		delete(fs.running, name)
	}
	if id == "" {
		id = fs.parentID
	} else if _, err := (*Namespace)(nil).ParseID(id); err != nil {
		return nil, err
	}
	dir := fs.file(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(filepath.Join(dir, "facet.sqlite"), fs.storage)
	if err != nil {
		return nil, err
	}
	spec := &worker.ObjectSpec{Class: class, ID: id, DB: db}
	var children *facets
	if fs.depth+1 < MaxFacetDepth {
		children = newFacetsStorage(fs.storage, id, dir, fs.depth+1)
		spec.Facets = children
	}
	inst, err := stub.ObjectInstance(ctx, spec)
	if err != nil {
		db.Close()
		return nil, err
	}
	f := &facet{inst: inst, db: db, children: children, ep: &facetEntrypoint{fs: fs, name: name}}
	fs.running[name] = f
	return f.ep, nil
}

func (f *facet) close() {
	if f.children != nil {
		f.children.closeAll()
	}
	f.inst.Close()
	f.db.Close()
}

func (fs *facets) AbortFacet(name, reason string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.running[name]; ok {
		f.close()
		delete(fs.running, name)
	}
}

func (fs *facets) DeleteFacet(name string) error {
	fs.AbortFacet(name, "deleted")
	return os.RemoveAll(fs.file(name))
}

func (fs *facets) DeleteAllFacets() error {
	fs.closeAll()
	return os.RemoveAll(fs.dir)
}

func (fs *facets) closeAll() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for name, f := range fs.running {
		f.close()
		delete(fs.running, name)
	}
}

// facetEntrypoint reaches a running facet by name, so that a stub kept
// across ctx.facets.abort() fails clearly instead of reaching old code.
type facetEntrypoint struct {
	fs   *facets
	name string
}

func (e *facetEntrypoint) inst() (*worker.Instance, error) {
	e.fs.mu.Lock()
	defer e.fs.mu.Unlock()
	f, ok := e.fs.running[e.name]
	if !ok {
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("facet %q is not running (it was aborted or deleted)", e.name), Hint: "call ctx.facets.get(name, callback) again"}
	}
	return f.inst, nil
}

func (e *facetEntrypoint) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	in, err := e.inst()
	if err != nil {
		return nil, err
	}
	return in.Fetch(ctx, worker.ObjectEntrypoint, worker.Invoke{}, req)
}

func (e *facetEntrypoint) Call(ctx context.Context, method string, args []any) (any, error) {
	in, err := e.inst()
	if err != nil {
		return nil, err
	}
	return in.Call(ctx, worker.ObjectEntrypoint, worker.Invoke{}, method, args)
}

// Facets is the set of facets of one parent, for supervisors written in Go:
// the parent is the Go program (it has no isolate and no storage API of its
// own), and each facet runs a class of code loaded through the Worker
// Loader, with its own SQLite database under Dir. This is the machinery
// behind ctx.facets in JavaScript supervisors.
type Facets struct{ fs *facets }

// NewFacets returns the facets of a parent whose folder is dir (databases go
// to dir/facets/<hash of name>/facet.sqlite) and whose id, the facets'
// ctx.id unless Start gives one, is parentID (64 hex digits).
func NewFacets(dir, parentID string, storage sqlite.Options) *Facets {
	return &Facets{fs: newFacetsStorage(storage, parentID, dir, 0)}
}

// Start returns the running facet name, or starts it: an Instance of
// code's class with its own database (ctx.id is id, or the parent's if id
// is empty). It is ctx.facets.get(name, () => ({class, id})).
func (f *Facets) Start(ctx context.Context, name string, code worker.WorkerStub, class, id string) (worker.Entrypoint, error) {
	return f.fs.StartFacet(ctx, name, code, class, id)
}

// Running returns the facet's entrypoint if it is running (nil if not).
func (f *Facets) Running(name string) worker.Entrypoint { return f.fs.Facet(name) }

// Abort stops the facet (its next Start loads code afresh); data is kept.
func (f *Facets) Abort(name, reason string) { f.fs.AbortFacet(name, reason) }

// Delete stops the facet and removes its database.
func (f *Facets) Delete(name string) error { return f.fs.DeleteFacet(name) }

// Close stops every facet; their data is kept.
func (f *Facets) Close() { f.fs.closeAll() }

// Instance returns the running facet's Instance and database (nil if it is
// not running), for metering.
func (f *Facets) Instance(name string) (*worker.Instance, *sqlite.DB) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if r, ok := f.fs.running[name]; ok {
		return r.inst, r.db
	}
	return nil, nil
}

// Path returns the folder of the facet's database (it may not exist yet).
func (f *Facets) Path(name string) string { return f.fs.file(name) }
