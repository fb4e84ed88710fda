package worker

import (
	"context"

	"github.com/warrenhq/warren/sqlite"
)

// ObjectEntrypoint is the entrypoint name that reaches the Durable Object an
// Instance hosts (Config.Object).
const ObjectEntrypoint = "\x00object"

// ObjectSpec makes an Instance host one Durable Object: an instance of the
// exported class Class, constructed before the first event, with its storage
// in DB.
type ObjectSpec struct {
	Class string
	ID    string
	Name  string // the name the id came from, if any
	DB    *sqlite.DB
	// Alarms is told when the object sets or deletes its alarm, to wake it;
	// nil for facets, which cannot set alarms.
	Alarms AlarmScheduler
	// Facets keeps the object's facets; nil where facets are not available.
	Facets FacetHost
}

// FacetHost keeps the facets of one Durable Object: child objects with their
// own databases in the parent's folder, running code the parent loaded.
type FacetHost interface {
	// Facet returns the running facet called name, or nil.
	Facet(name string) Entrypoint
	// StartFacet starts the facet name from stub's exported class, with id
	// ("" for the parent's id).
	StartFacet(ctx context.Context, name string, stub WorkerStub, class, id string) (Entrypoint, error)
	// AbortFacet stops the facet; its data is kept.
	AbortFacet(name, reason string)
	// DeleteFacet stops the facet and deletes its data.
	DeleteFacet(name string) error
	// DeleteAllFacets stops every facet and deletes their data (the
	// parent's deleteAll()).
	DeleteAllFacets() error
}

// AlarmScheduler wakes objects at their alarm times.
type AlarmScheduler interface {
	Schedule(id string, atMillis int64)
	Cancel(id string)
}

// AlarmMethod is the RPC method name that runs an object's alarm() handler
// with its alarmInfo ({retryCount, isRetry}) as the argument.
const AlarmMethod = "\x00alarm"

// Namespace is a Durable Object namespace binding (env.MY_DO).
type Namespace interface {
	// IDFromName returns the id for name, the same every time.
	IDFromName(name string) string
	// NewUniqueID returns a new random id.
	NewUniqueID() string
	// ParseID checks an id's text form.
	ParseID(s string) (string, error)
	// Object returns the entrypoint of the object with id.
	Object(id string) Entrypoint
}

// Storage and the output gate.
//
// Storage operations are synchronous and run on the loop, so no other event
// can interleave with them (the input gate). The first one in a turn opens a
// batch; the turn's end commits it, and only then are responses and RPC
// results produced in that turn released (the output gate). A failed commit
// fails them instead.
