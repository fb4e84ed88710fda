package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/sqlite"
	"github.com/warrenhq/warren/webapi"
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

func (in *Instance) db() (*sqlite.DB, error) {
	if in.cfg.Object == nil || in.cfg.Object.DB == nil {
		return nil, errors.New("storage is only available in a Durable Object")
	}
	db := in.cfg.Object.DB
	if !in.batch {
		if err := db.Begin(); err != nil {
			return nil, err
		}
		in.batch = true
	}
	return db, nil
}

// gate holds a result until the current batch commits.
func (in *Instance) gate(inv *invocation, r invResult) {
	if in.batch {
		in.held = append(in.held, heldResult{inv, r})
		return
	}
	in.finish(inv, r)
}

type heldResult struct {
	inv *invocation
	r   invResult
}

// commitTurn ends the turn's batch and releases what the output gate held.
func (in *Instance) commitTurn() {
	if !in.batch {
		return
	}
	in.batch = false
	err := in.cfg.Object.DB.Commit()
	held := in.held
	in.held = nil
	for _, h := range held {
		if err != nil {
			h.r = invResult{err: &warren.Error{Code: warren.CodeUnavailable, Message: "the object's writes could not be committed: " + err.Error(), Hint: "retry the request"}}
		}
		in.finish(h.inv, h.r)
	}
}

func (in *Instance) objectOp(op string, args []any) (any, bool, error) {
	switch op {
	case "sql.exec", "sql.execv":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		q, err := webapi.ArgString(args, 0)
		if err != nil {
			return nil, true, err
		}
		var binds []any
		if op == "sql.execv" {
			// Bindings as themselves: null, strings, numbers, booleans.
			binds, err = plainBindings(args[1:])
		} else {
			binds, err = wireBindings(args)
		}
		if err != nil {
			return nil, true, err
		}
		// A statement is stopped with the turn that runs it (its CPU budget).
		ctx, cancel := in.statementContext()
		res, err := db.ExecContext(ctx, q, binds...)
		cancel()
		if err != nil {
			return nil, true, err
		}
		return sqlWire(res), true, nil
	case "sql.size":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		n, err := db.Size()
		return float64(n), true, err
	case "kv.get":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		k, _ := webapi.ArgString(args, 0)
		v, ok, err := db.KVGet(k)
		if err != nil || !ok {
			return nil, true, err
		}
		return string(v), true, nil
	case "kv.put":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		k, _ := webapi.ArgString(args, 0)
		v, _ := webapi.ArgString(args, 1)
		return nil, true, db.KVPut(k, []byte(v))
	case "kv.delete":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		k, _ := webapi.ArgString(args, 0)
		ok, err := db.KVDelete(k)
		return ok, true, err
	case "kv.list":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		var o struct {
			Start, StartAfter, End, Prefix string
			Reverse                        bool
			Limit                          float64
		}
		s, _ := webapi.ArgString(args, 0)
		_ = json.Unmarshal([]byte(s), &o)
		keys, vals, err := db.KVList(sqlite.ListOptions{Start: o.Start, StartAfter: o.StartAfter, End: o.End, Prefix: o.Prefix, Reverse: o.Reverse, Limit: int(o.Limit)})
		if err != nil {
			return nil, true, err
		}
		vs := make([]string, len(vals))
		for i, v := range vals {
			vs[i] = string(v)
		}
		if keys == nil {
			keys = []string{}
		}
		b, _ := json.Marshal(map[string]any{"k": keys, "v": vs})
		return string(b), true, nil
	case "storage.deleteAll":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		if f := in.cfg.Object.Facets; f != nil {
			if err := f.DeleteAllFacets(); err != nil {
				return nil, true, err
			}
		}
		return nil, true, db.DeleteAll()
	case "tx.begin":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		in.nextID++
		sp := fmt.Sprintf("tx%d", in.nextID)
		return sp, true, db.Savepoint(sp)
	case "tx.commit", "tx.rollback":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		sp, _ := webapi.ArgString(args, 0)
		if !strings.HasPrefix(sp, "tx") {
			return nil, true, errors.New("bad transaction")
		}
		if op == "tx.commit" {
			return nil, true, db.Release(sp)
		}
		return nil, true, db.RollbackTo(sp)
	case "alarm.get":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		at, ok, err := db.Alarm()
		if err != nil || !ok {
			return nil, true, err
		}
		return float64(at), true, nil
	case "alarm.set", "alarm.delete":
		db, err := in.db()
		if err != nil {
			return nil, true, err
		}
		o := in.cfg.Object
		if op == "alarm.delete" {
			if err := db.DeleteAlarm(); err != nil {
				return nil, true, err
			}
			if o.Alarms != nil {
				o.Alarms.Cancel(o.ID)
			}
			return nil, true, nil
		}
		if o.Alarms == nil {
			return nil, true, &warren.Error{Code: warren.CodeBadRequest, Message: "a facet cannot set alarms", Hint: "set the alarm in the parent (supervisor) object and forward it to the facet"}
		}
		ms, err := webapi.ArgInt(args, 0)
		if err != nil {
			return nil, true, errors.New("setAlarm(scheduledTime): scheduledTime must be a number of milliseconds since the epoch or a Date")
		}
		if err := db.SetAlarm(int64(ms)); err != nil {
			return nil, true, err
		}
		if o.Alarms != nil {
			o.Alarms.Schedule(o.ID, int64(ms))
		}
		return nil, true, nil
	case "facet.lookup", "facet.start", "facet.abort", "facet.delete":
		r, err := in.facetOp(op, args)
		return r, true, err
	case "object.abort":
		msg, _ := webapi.ArgString(args, 0)
		in.breakWith(&warren.Error{Code: warren.CodeUnavailable, Message: "the Durable Object aborted itself: " + msg, Hint: "retry the request; the object restarts from storage"})
		return nil, true, nil
	case "ns.idFromName", "ns.newUniqueId", "ns.idFromString":
		c, err := in.argCap(args, 0)
		if err != nil {
			return nil, true, err
		}
		ns, ok := c.(Namespace)
		if !ok {
			return nil, true, errors.New("not a Durable Object namespace")
		}
		switch op {
		case "ns.idFromName":
			name, _ := webapi.ArgString(args, 1)
			return ns.IDFromName(name), true, nil
		case "ns.newUniqueId":
			return ns.NewUniqueID(), true, nil
		}
		s, _ := webapi.ArgString(args, 1)
		id, err := ns.ParseID(s)
		return id, true, err
	case "ns.fetch", "ns.call":
		c, err := in.argCap(args, 0)
		if err != nil {
			return nil, true, err
		}
		ns, ok := c.(Namespace)
		if !ok {
			return nil, true, errors.New("not a Durable Object namespace")
		}
		id, _ := webapi.ArgString(args, 1)
		ep := ns.Object(id)
		if op == "ns.call" {
			method, _ := webapi.ArgString(args, 2)
			r, err := in.call(ep, method, args, 3)
			return r, true, err
		}
		inv, err := in.subrequest()
		if err != nil {
			return nil, true, err
		}
		wire, _ := webapi.ArgString(args, 2)
		return in.objectFetchVia(inv, ep, wire), true, nil
	}
	return nil, false, nil
}

// objectFetchVia is fetchVia for a Durable Object stub: a text body (valid
// UTF-8, with a Content-Type, so JavaScript adds none) crosses back as a
// string, not base64, and the calling isolate can pass it on as it is.
func (in *Instance) objectFetchVia(inv *invocation, f Fetcher, wire string) int {
	max := in.limits.ResponseBodyBytes
	return in.async(inv, func(ctx context.Context) (string, error) {
		req, err := wireToRequest(ctx, wire)
		if err != nil {
			return "", err
		}
		resp, err := f.Fetch(ctx, req)
		if err != nil {
			return "", err
		}
		return objectResponseToWire(resp, max, req.URL.String())
	})
}

// wireTextResponse is wireResponse with the body as text.
type wireTextResponse struct {
	wireResponse
	Text *string `json:"text,omitempty"`
}

func objectResponseToWire(resp *http.Response, maxBody int64, url string) (string, error) {
	if resp == nil || resp.Body == nil || resp.Header.Get("Content-Type") == "" {
		return responseToWire(resp, maxBody, url)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return "", fmt.Errorf("reading the response body: %w", err)
	}
	if int64(len(b)) > maxBody {
		return "", &warren.Error{Code: warren.CodeTooLarge, Limit: "response body", Message: fmt.Sprintf("the response body is larger than the limit of %d bytes", maxBody), Hint: "fetch less data (use Range requests or paging), or raise the responseBodyBytes limit"}
	}
	if !utf8.Valid(b) {
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return responseToWire(resp, maxBody, url)
	}
	w := wireTextResponse{wireResponse: wireResponse{Status: resp.StatusCode, URL: url}}
	if len(resp.Status) > 4 {
		w.StatusText = resp.Status[4:]
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Headers = append(w.Headers, [2]string{k, v})
		}
	}
	s := string(b)
	w.Text = &s
	out, err := json.Marshal(w)
	return string(out), err
}

// wireBindings decodes the JSON form of SQL bindings (args[1]), used when
// some are blobs ({$b: base64}) or integers given as text ({$i}).
func wireBindings(args []any) ([]any, error) {
	bt, _ := webapi.ArgString(args, 1)
	var raw []any
	if bt != "" {
		if err := json.Unmarshal([]byte(bt), &raw); err != nil {
			return nil, err
		}
	}
	binds := make([]any, len(raw))
	for i, b := range raw {
		switch x := b.(type) {
		case map[string]any:
			var err error
			if s, ok := x["$b"].(string); ok {
				binds[i], err = base64.StdEncoding.DecodeString(s)
			} else if s, ok := x["$i"].(string); ok {
				binds[i], err = strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("SQL binding %d: integer out of the 64-bit range", i+1)
				}
			}
			if err != nil {
				return nil, err
			}
		default:
			binds[i] = x
		}
	}
	return binds, nil
}

// plainBindings converts bindings that crossed as engine values. Numbers
// that are safe integers bind as INTEGER, others as REAL, booleans as 1/0,
// and NaN and infinities as NULL (as their JSON form did).
func plainBindings(args []any) ([]any, error) {
	binds := make([]any, len(args))
	for i, a := range args {
		switch x := a.(type) {
		case nil, string:
			binds[i] = x
		case int:
			binds[i] = int64(x)
		case bool:
			if x {
				binds[i] = int64(1)
			} else {
				binds[i] = int64(0)
			}
		case float64:
			switch {
			case math.IsNaN(x) || math.IsInf(x, 0):
				binds[i] = nil
			case x == math.Trunc(x) && math.Abs(x) <= 1<<53-1:
				binds[i] = int64(x)
			default:
				binds[i] = x
			}
		default:
			return nil, fmt.Errorf("SQL binding %d has type %T", i+1, a)
		}
	}
	return binds, nil
}

// sqlWire is the JSON text of a result: [columns, rows, rows read, rows
// written, tagged], tagged being 1 when some values are tagged (blobs as
// {"$b": base64}, integers past 2^53 as {"$i": text}). An array, not an
// object, and written by hand: this is on every SQL call's path.
func sqlWire(r *sqlite.Result) string {
	b := make([]byte, 0, 64+32*len(r.Rows))
	b = append(b, `[[`...)
	for i, c := range r.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c)
	}
	b = append(b, `],[`...)
	tagged := false
	for i, row := range r.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range row {
			if j > 0 {
				b = append(b, ',')
			}
			switch x := v.(type) {
			case nil:
				b = append(b, "null"...)
			case int64:
				if x > 1<<53 || x < -(1<<53) {
					b = append(b, `{"$i":"`...)
					b = strconv.AppendInt(b, x, 10)
					b = append(b, `"}`...)
					tagged = true
				} else {
					b = strconv.AppendInt(b, x, 10)
				}
			case float64:
				switch {
				case math.IsInf(x, 1):
					b = append(b, "1e999"...) // JSON.parse gives Infinity
				case math.IsInf(x, -1):
					b = append(b, "-1e999"...)
				case math.IsNaN(x):
					b = append(b, "null"...)
				default:
					b = strconv.AppendFloat(b, x, 'g', -1, 64)
				}
			case string:
				b = appendJSONString(b, x)
			case []byte:
				b = append(b, `{"$b":"`...)
				b = base64.StdEncoding.AppendEncode(b, x)
				b = append(b, `"}`...)
				tagged = true
			case bool:
				b = strconv.AppendBool(b, x)
			default:
				j, _ := json.Marshal(x)
				b = append(b, j...)
			}
		}
		b = append(b, ']')
	}
	b = append(b, "],"...)
	b = strconv.AppendInt(b, r.RowsRead, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.RowsWritten, 10)
	if tagged {
		b = append(b, ",1]"...)
	} else {
		b = append(b, ",0]"...)
	}
	return string(b)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// MaxFacetName bounds facet names.
const MaxFacetName = 256

func (in *Instance) facetOp(op string, args []any) (any, error) {
	o := in.cfg.Object
	if o == nil || o.Facets == nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "ctx.facets is only available in a Durable Object (and facets nest at most 4 levels)"}
	}
	name, err := webapi.ArgString(args, 0)
	if err != nil {
		return nil, err
	}
	if name == "" || len(name) > MaxFacetName {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("a facet name must be 1 to %d characters", MaxFacetName)}
	}
	switch op {
	case "facet.lookup":
		ep := o.Facets.Facet(name)
		if ep == nil {
			return nil, nil
		}
		id, _ := in.capID(ep)
		return id.(map[string]any)["id"], nil
	case "facet.start":
		c, err := in.argCap(args, 1)
		if err != nil {
			return nil, err
		}
		stub, ok := c.(WorkerStub)
		if !ok {
			return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "the facet callback must return { class: worker.getDurableObjectClass(\"Name\") }"}
		}
		class, _ := webapi.ArgString(args, 2)
		id, _ := webapi.ArgString(args, 3)
		ctx := context.Background()
		if in.current != nil {
			ctx = in.current.ctx
		}
		ep, err := o.Facets.StartFacet(ctx, name, stub, class, id)
		if err != nil {
			return nil, err
		}
		cid, _ := in.capID(ep)
		return cid.(map[string]any)["id"], nil
	case "facet.abort":
		reason, _ := webapi.ArgString(args, 1)
		o.Facets.AbortFacet(name, reason)
		return nil, nil
	}
	return nil, o.Facets.DeleteFacet(name)
}
