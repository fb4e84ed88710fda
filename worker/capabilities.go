package worker

// Capabilities: the Go values (bindings, stubs, loaders, namespaces) that an
// isolate's JavaScript refers to by id.
//
// A capability's id is handed to JavaScript, which wraps it in a stub. Each
// handing-out counts one reference; the prelude registers every stub with a
// FinalizationRegistry and releases its reference ("cap.release") when the
// stub is collected, so the table follows what the app still holds. Those in
// the Worker's env are pinned for the isolate's life. The table is bounded
// (MaxCapabilities): an app that holds more stubs at once fails with a limit
// error, and Go memory stays bounded whatever the app does.

import (
	"context"
	"errors"
	"net/http"
	"reflect"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/clone"
	"github.com/warrenhq/warren/webapi"
)

// MaxCapabilities bounds the capabilities one isolate holds at once.
const MaxCapabilities = 10000

func init() {
	opsOf(map[string]opFunc{
		"cap.fetch":      opCapFetch,
		"cap.call":       opCapCall,
		"cap.release":    opCapRelease,
		"self.namespace": opSelfNamespace,
		"self.cap":       opSelfCap,
	})
}

// capTable is an isolate's capabilities; owned by the loop goroutine.
type capTable struct {
	next int
	byID map[int]*capEntry
	ids  map[any]int // ids of comparable capabilities, to reuse them
}

type capEntry struct {
	v      any
	refs   int  // stubs JavaScript may hold
	pinned bool // in env: kept for the isolate's life
}

// capKind is the kind of stub JavaScript makes for v ("" if v is not a
// capability).
func capKind(v any) string {
	switch v.(type) {
	case Namespace:
		return "namespace"
	case Loader:
		return "loader"
	case WorkerStub:
		return "worker"
	case Fetcher, Target:
		return "service"
	}
	return ""
}

// add registers v (or finds it) and counts one more reference to it.
func (t *capTable) add(v any, pinned bool) (int, error) {
	comparable := reflect.TypeOf(v).Comparable()
	if comparable {
		if id, ok := t.ids[v]; ok {
			e := t.byID[id]
			e.refs++
			e.pinned = e.pinned || pinned
			return id, nil
		}
	}
	if len(t.byID) >= MaxCapabilities {
		return 0, warren.LimitError("capabilities", MaxCapabilities, "the Worker holds too many stubs (bindings, ctx.exports stubs, loaded Workers, facets) at once; drop the ones it no longer needs")
	}
	if t.byID == nil {
		t.byID, t.ids = map[int]*capEntry{}, map[any]int{}
	}
	t.next++
	t.byID[t.next] = &capEntry{v: v, refs: 1, pinned: pinned}
	if comparable {
		t.ids[v] = t.next
	}
	return t.next, nil
}

// release drops one reference to id; the last one removes it.
func (t *capTable) release(id int) {
	e, ok := t.byID[id]
	if !ok {
		return
	}
	e.refs--
	if e.refs > 0 || e.pinned {
		return
	}
	delete(t.byID, id)
	if reflect.TypeOf(e.v).Comparable() {
		delete(t.ids, e.v)
	}
}

func (t *capTable) get(id int) (any, bool) {
	e, ok := t.byID[id]
	if !ok {
		return nil, false
	}
	return e.v, true
}

// capRef registers a capability handed to JavaScript and returns its
// reference {id, kind}, as clone.Encode wants it (ok false: not a
// capability). A full table makes the encoding fail with the limit error.
func (in *Instance) capRef(v any) (any, bool) {
	ref, err := in.capRefErr(v, false)
	if err != nil {
		if in.current != nil {
			var we *warren.Error
			if errors.As(err, &we) {
				in.current.limitErr = we
			}
		}
		return nil, false
	}
	return ref, ref != nil
}

// envCapRef is capRef for the Worker's env: pinned.
func (in *Instance) envCapRef(v any) (any, bool) {
	ref, _ := in.capRefErr(v, true)
	return ref, ref != nil
}

func (in *Instance) capRefErr(v any, pinned bool) (any, error) {
	kind := capKind(v)
	if kind == "" {
		return nil, nil
	}
	id, err := in.caps.add(v, pinned)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": id, "kind": kind}, nil
}

// capID registers a capability an operation returns to JavaScript and
// gives its id.
func (in *Instance) capID(v any) (any, error) {
	if capKind(v) == "" {
		return nil, errors.New("not a capability")
	}
	return in.caps.add(v, false)
}

func (in *Instance) argCap(args []any, i int) (any, error) {
	id, err := webapi.ArgInt(args, i)
	if err != nil {
		return nil, err
	}
	c, ok := in.caps.get(id)
	if !ok {
		return nil, errors.New("unknown binding")
	}
	return c, nil
}

// resolveCaps replaces capability references in a decoded value with the Go
// capabilities they name.
func (in *Instance) resolveCaps(v any) any {
	switch x := v.(type) {
	case clone.Cap:
		id := 0
		switch n := x.ID.(type) {
		case float64:
			id = int(n)
		case map[string]any:
			f, _ := n["id"].(float64)
			id = int(f)
		}
		if c, ok := in.caps.get(id); ok {
			return c
		}
		return nil
	case []any:
		for i := range x {
			x[i] = in.resolveCaps(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = in.resolveCaps(x[k])
		}
	}
	return v
}

func opCapRelease(in *Instance, args []any) (any, error) {
	id, err := webapi.ArgInt(args, 0)
	if err != nil {
		return nil, err
	}
	in.caps.release(id)
	return nil, nil
}

func opCapFetch(in *Instance, args []any) (any, error) {
	f, err := argCapAs[Fetcher](in, args, 0, "a service: it does not accept fetch()")
	if err != nil {
		return nil, err
	}
	return in.sendFetch(f, args, 1, false)
}

func opCapCall(in *Instance, args []any) (any, error) {
	t, err := argCapAs[Target](in, args, 0, "an RPC target: it has no RPC methods")
	if err != nil {
		return nil, err
	}
	method, err := webapi.ArgString(args, 1)
	if err != nil {
		return nil, err
	}
	return in.call(t, method, args, 2)
}

// call makes an RPC call to t with the arguments in args[at] (clone format).
func (in *Instance) call(t Target, method string, args []any, at int) (any, error) {
	inv, err := in.subrequest()
	if err != nil {
		return nil, err
	}
	argsText, err := webapi.ArgString(args, at)
	if err != nil {
		return nil, err
	}
	decoded, err := clone.Decode(argsText)
	if err != nil {
		return nil, err
	}
	list, _ := in.resolveCaps(decoded).([]any)
	return in.async(inv, func(ctx context.Context) (string, error) {
		r, err := t.Call(ctx, method, list)
		if err != nil {
			return "", err
		}
		// Capabilities in results are registered on the loop; encode without
		// them here and let the JavaScript side see plain values.
		return clone.Encode(r, nil)
	}), nil
}

// opSelfNamespace gives ctx.exports.<Class> for a class of the Worker's own.
func opSelfNamespace(in *Instance, args []any) (any, error) {
	class, _ := webapi.ArgString(args, 0)
	ns, ok := in.cfg.Namespaces[class]
	if !ok {
		return nil, nil
	}
	return in.capID(ns)
}

// opSelfCap gives ctx.exports.<Entrypoint>({props}): a loopback stub.
func opSelfCap(in *Instance, args []any) (any, error) {
	ep, _ := webapi.ArgString(args, 0)
	var props any
	if s, _ := webapi.ArgString(args, 1); s != "" {
		p, err := clone.Decode(s)
		if err != nil {
			return nil, err
		}
		props = in.resolveCaps(p)
	}
	var target Entrypoint
	if in.cfg.Self != nil {
		target = in.cfg.Self(ep, props)
	} else {
		target = &selfEntrypoint{in: in, name: ep, opts: Invoke{Props: props}}
	}
	return in.capID(target)
}

// selfEntrypoint is an entrypoint of the Instance itself (ctx.exports).
type selfEntrypoint struct {
	in   *Instance
	name string
	opts Invoke
}

func (s *selfEntrypoint) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	return s.in.Fetch(ctx, s.name, s.opts, req)
}

func (s *selfEntrypoint) Call(ctx context.Context, method string, args []any) (any, error) {
	return s.in.Call(ctx, s.name, s.opts, method, args)
}
