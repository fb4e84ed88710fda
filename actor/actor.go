// Package actor runs Durable Objects: a Namespace maps ids to live objects,
// one Instance per id at a time, each with its own SQLite database in a
// folder of the namespace; objects are activated on their first event and,
// when idle for Options.IdleTimeout, closed (their isolate and database),
// to come back from disk on the next event.
package actor

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/sqlite"
	"github.com/warrenhq/warren/worker"
)

// DefaultIdleTimeout is how long an object stays in memory without events.
const DefaultIdleTimeout = 30 * time.Second

// DefaultMaxLive is the default of Options.MaxLive.
const DefaultMaxLive = 2000

// Options configure a Namespace.
type Options struct {
	// Name names the namespace (its folder under Dir and its id key).
	Name string
	// Class is the exported DurableObject class.
	Class string
	// Dir holds one folder per object.
	Dir string
	// Env, Namespaces, Limits, Outbound and Logs are passed to every
	// object's Instance.
	Env        map[string]any
	Namespaces map[string]worker.Namespace
	Limits     warren.Limits
	Outbound   *worker.Outbound
	Logs       worker.LogSink
	// Storage configures each object's database.
	Storage sqlite.Options
	// IdleTimeout closes objects without events for this long (0: default).
	IdleTimeout time.Duration
	// MaxLive bounds the objects held in memory (isolate and open database)
	// at once; past it, the least recently used idle ones are closed. This
	// also bounds open files (three per live object: database, WAL, shared
	// memory). 0 means DefaultMaxLive.
	MaxLive int
	// AlarmRetryBase is the first retry delay of a failed alarm, doubled at
	// each retry (0: DefaultAlarmRetryBase).
	AlarmRetryBase time.Duration
}

// Namespace is a Durable Object namespace. It implements worker.Namespace.
type Namespace struct {
	rt   *worker.Runtime
	prog *worker.Program
	opts Options
	key  []byte

	mu      sync.Mutex
	objects map[string]*object
	liveN   int // objects with live set
	closed  bool

	evictions atomic.Int64

	alarmMu     sync.Mutex
	alarmIdx    *sqlite.DB
	alarmTimers map[string]*time.Timer
}

var _ worker.Namespace = (*Namespace)(nil)

type object struct {
	id       string
	mu       sync.Mutex // held while activating
	inst     *worker.Instance
	db       *sqlite.DB
	idle     *time.Timer
	active   int       // invocations in flight
	lastUsed time.Time // for LRU eviction
	live     bool      // inst != nil, readable under Namespace.mu
	facets   *facets
}

// New returns a namespace running prog's class opts.Class. The id key is
// kept in Dir/<name>/.key so that idFromName is stable across restarts.
func New(rt *worker.Runtime, prog *worker.Program, opts Options) (*Namespace, error) {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxLive <= 0 {
		opts.MaxLive = DefaultMaxLive
	}
	dir := filepath.Join(opts.Dir, opts.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	keyPath := filepath.Join(dir, ".key")
	key, err := os.ReadFile(keyPath)
	if err != nil || len(key) != 32 {
		key = make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(keyPath, key, 0o600); err != nil {
			return nil, err
		}
	}
	ns := &Namespace{rt: rt, prog: prog, opts: opts, key: key, objects: map[string]*object{}}
	if err := ns.openAlarms(); err != nil {
		return nil, err
	}
	return ns, nil
}

// SetEnv sets the env of objects activated from now on (a namespace's env
// usually contains the namespace itself, so it is set after New).
func (ns *Namespace) SetEnv(env map[string]any) { ns.opts.Env = env }

// SetNamespaces sets the namespaces behind ctx.exports.<Class> of objects
// activated from now on.
func (ns *Namespace) SetNamespaces(m map[string]worker.Namespace) { ns.opts.Namespaces = m }

// IDFromName returns the 64-hex-digit id for name: HMAC-SHA256 under the
// namespace's key, so ids are stable and do not reveal the name.
func (ns *Namespace) IDFromName(name string) string {
	m := hmac.New(sha256.New, ns.key)
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil))
}

// NewUniqueID returns a random id.
func (ns *Namespace) NewUniqueID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ParseID validates the text form of an id.
func (ns *Namespace) ParseID(s string) (string, error) {
	if len(s) != 64 {
		return "", &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("invalid Durable Object id %q: an id is 64 hexadecimal digits", truncate(s))}
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("invalid Durable Object id %q: an id is 64 hexadecimal digits", truncate(s))}
	}
	// One object, one id: "AB…" and "ab…" name the same object (and the
	// same folder on disk).
	return strings.ToLower(s), nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Object returns the entrypoint of the object with id.
func (ns *Namespace) Object(id string) worker.Entrypoint {
	return &stub{ns: ns, id: strings.ToLower(id)}
}

// Len returns the number of objects in memory.
func (ns *Namespace) Len() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	n := 0
	for _, o := range ns.objects {
		if o.live {
			n++
		}
	}
	return n
}

// Close closes every object.
func (ns *Namespace) Close() {
	ns.closeAlarms()
	ns.mu.Lock()
	ns.closed = true
	objs := ns.objects
	ns.objects = map[string]*object{}
	ns.mu.Unlock()
	for _, o := range objs {
		o.mu.Lock()
		o.closeLocked()
		o.mu.Unlock()
	}
}

func (o *object) closeLocked() {
	if o.idle != nil {
		o.idle.Stop()
	}
	if o.facets != nil {
		o.facets.closeAll()
		o.facets = nil
	}
	if o.inst != nil {
		o.inst.Close()
		o.inst = nil
	}
	if o.db != nil {
		o.db.Close()
		o.db = nil
	}
}

// acquire returns the object's live instance, activating it if needed, and
// counts an invocation in flight.
func (ns *Namespace) acquire(id string) (*object, *worker.Instance, error) {
	if _, err := ns.ParseID(id); err != nil {
		return nil, nil, err
	}
	ns.mu.Lock()
	if ns.closed {
		ns.mu.Unlock()
		return nil, nil, worker.ErrClosed
	}
	o, ok := ns.objects[id]
	if !ok {
		o = &object{id: id}
		ns.objects[id] = o
	}
	ns.mu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.inst != nil && o.inst.Broken() != nil {
		o.closeLocked()
		ns.setLive(o, false)
	}
	if o.inst == nil {
		dir := filepath.Join(ns.opts.Dir, ns.opts.Name, id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, err
		}
		db, err := sqlite.Open(filepath.Join(dir, "object.sqlite"), ns.opts.Storage)
		if err != nil {
			return nil, nil, err
		}
		o.facets = newFacets(ns, id, dir, 0)
		inst, err := ns.rt.NewInstance(ns.prog, worker.Config{
			CodeID: ns.opts.Name + "/" + id[:12], Env: ns.opts.Env, Namespaces: ns.opts.Namespaces, Limits: ns.opts.Limits,
			Outbound: ns.opts.Outbound, Logs: ns.opts.Logs,
			Object: &worker.ObjectSpec{Class: ns.opts.Class, ID: id, DB: db, Alarms: ns, Facets: o.facets},
		})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		o.db, o.inst = db, inst
		ns.setLive(o, true)
		defer ns.evictOver(o)
	}
	if o.idle != nil {
		o.idle.Stop()
	}
	o.active++
	ns.mu.Lock()
	o.lastUsed = time.Now()
	ns.mu.Unlock()
	return o, o.inst, nil
}

// evictOver closes least recently used idle objects while more than MaxLive
// are live. keep (just activated) is never chosen.
func (ns *Namespace) evictOver(keep *object) {
	ns.mu.Lock()
	under := ns.liveN <= ns.opts.MaxLive
	ns.mu.Unlock()
	if under { // the common case: no scan of every object
		return
	}
	go func() {
		for {
			ns.mu.Lock()
			live := 0
			var victim *object
			for _, o := range ns.objects {
				if !o.live {
					continue
				}
				live++
				if o != keep && (victim == nil || o.lastUsed.Before(victim.lastUsed)) && o.mu.TryLock() {
					if o.active == 0 {
						if victim != nil {
							victim.mu.Unlock()
						}
						victim = o
					} else {
						o.mu.Unlock()
					}
				}
			}
			ns.mu.Unlock()
			if live <= ns.opts.MaxLive || victim == nil {
				if victim != nil {
					victim.mu.Unlock()
				}
				return
			}
			victim.closeLocked()
			ns.setLive(victim, false)
			ns.evictions.Add(1)
			victim.mu.Unlock()
		}
	}()
}

// setLive records whether o is in memory.
func (ns *Namespace) setLive(o *object, live bool) {
	ns.mu.Lock()
	if o.live != live {
		if live {
			ns.liveN++
		} else {
			ns.liveN--
		}
		o.live = live
	}
	ns.mu.Unlock()
}

// Evictions returns how many objects were closed to stay under MaxLive.
func (ns *Namespace) Evictions() int64 { return ns.evictions.Load() }

// release ends an invocation; an object with none left is closed after the
// idle timeout.
func (ns *Namespace) release(o *object) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.active--
	if o.active > 0 || o.inst == nil {
		return
	}
	inst := o.inst
	o.idle = time.AfterFunc(ns.opts.IdleTimeout, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.active == 0 && o.inst == inst {
			o.closeLocked()
			ns.setLive(o, false)
		}
	})
}

type stub struct {
	ns *Namespace
	id string
}

func (s *stub) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	o, inst, err := s.ns.acquire(s.id)
	if err != nil {
		return nil, err
	}
	resp, err := inst.Fetch(ctx, worker.ObjectEntrypoint, worker.Invoke{}, req)
	if err != nil || resp.Body == nil {
		s.ns.release(o)
		return resp, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, done: func() { s.ns.release(o) }}
	return resp, nil
}

func (s *stub) Call(ctx context.Context, method string, args []any) (any, error) {
	o, inst, err := s.ns.acquire(s.id)
	if err != nil {
		return nil, err
	}
	defer s.ns.release(o)
	return inst.Call(ctx, worker.ObjectEntrypoint, worker.Invoke{}, method, args)
}

// releaseBody ends the invocation's hold on the object when the response
// body is closed (it may still be streaming when Fetch returns).
type releaseBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
