package worker

// Storage and the output gate.
//
// Storage operations are synchronous and run on the loop, so no other event
// can interleave with them (the input gate). The first one in a turn opens a
// batch; the turn's end commits it, and only then are responses and RPC
// results produced in that turn released (the output gate). A failed commit
// fails them instead.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/sqlite"
	"github.com/warrenhq/warren/webapi"
)

func init() {
	opsOf(map[string]opFunc{
		"sql.exec":          storageOp(func(in *Instance, db *sqlite.DB, args []any) (any, error) { return in.opSQL(db, args, false) }),
		"sql.execv":         storageOp(func(in *Instance, db *sqlite.DB, args []any) (any, error) { return in.opSQL(db, args, true) }),
		"sql.size":          storageOp(opSQLSize),
		"kv.get":            storageOp(opKVGet),
		"kv.put":            storageOp(opKVPut),
		"kv.delete":         storageOp(opKVDelete),
		"kv.list":           storageOp(opKVList),
		"storage.deleteAll": storageOp(opDeleteAll),
		"tx.begin":          storageOp(opTxBegin),
		"tx.commit":         storageOp(func(in *Instance, db *sqlite.DB, args []any) (any, error) { return in.opTxEnd(db, args, true) }),
		"tx.rollback":       storageOp(func(in *Instance, db *sqlite.DB, args []any) (any, error) { return in.opTxEnd(db, args, false) }),
		"alarm.get":         storageOp(opAlarmGet),
		"alarm.set":         storageOp(opAlarmSet),
		"alarm.delete":      storageOp(opAlarmDelete),
	})
}

// storageOp is an operation on the object's database: it opens the turn's
// batch (db) first, and fails outside a Durable Object.
func storageOp(f func(in *Instance, db *sqlite.DB, args []any) (any, error)) opFunc {
	return func(in *Instance, args []any) (any, error) {
		db, err := in.db()
		if err != nil {
			return nil, err
		}
		return f(in, db, args)
	}
}

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

// opSQL runs one statement: (query, bindings). With plain, the bindings
// are the remaining arguments as themselves (null, strings, numbers,
// booleans); otherwise args[1] is their JSON form (taggedBindings).
func (in *Instance) opSQL(db *sqlite.DB, args []any, plain bool) (any, error) {
	q, err := webapi.ArgString(args, 0)
	if err != nil {
		return nil, err
	}
	var binds []any
	if plain {
		binds, err = plainBindings(args[1:])
	} else {
		binds, err = taggedBindings(args)
	}
	if err != nil {
		return nil, err
	}
	// A statement is stopped with the turn that runs it (its CPU budget).
	ctx, cancel := in.statementContext()
	res, err := db.ExecContext(ctx, q, binds...)
	cancel()
	if err != nil {
		return nil, err
	}
	return sqlResultJSON(res), nil
}

func opSQLSize(in *Instance, db *sqlite.DB, args []any) (any, error) {
	n, err := db.Size()
	return float64(n), err
}

func opKVGet(in *Instance, db *sqlite.DB, args []any) (any, error) {
	k, _ := webapi.ArgString(args, 0)
	v, ok, err := db.KVGet(k)
	if err != nil || !ok {
		return nil, err
	}
	return string(v), nil
}

func opKVPut(in *Instance, db *sqlite.DB, args []any) (any, error) {
	k, _ := webapi.ArgString(args, 0)
	v, _ := webapi.ArgString(args, 1)
	return nil, db.KVPut(k, []byte(v))
}

func opKVDelete(in *Instance, db *sqlite.DB, args []any) (any, error) {
	k, _ := webapi.ArgString(args, 0)
	return db.KVDelete(k)
}

func opKVList(in *Instance, db *sqlite.DB, args []any) (any, error) {
	var o struct {
		Start, StartAfter, End, Prefix string
		Reverse                        bool
		Limit                          float64
	}
	s, _ := webapi.ArgString(args, 0)
	_ = json.Unmarshal([]byte(s), &o)
	keys, vals, err := db.KVList(sqlite.ListOptions{Start: o.Start, StartAfter: o.StartAfter, End: o.End, Prefix: o.Prefix, Reverse: o.Reverse, Limit: int(o.Limit)})
	if err != nil {
		return nil, err
	}
	vs := make([]string, len(vals))
	for i, v := range vals {
		vs[i] = string(v)
	}
	if keys == nil {
		keys = []string{}
	}
	b, _ := json.Marshal(map[string]any{"k": keys, "v": vs})
	return string(b), nil
}

func opDeleteAll(in *Instance, db *sqlite.DB, args []any) (any, error) {
	if f := in.cfg.Object.Facets; f != nil {
		if err := f.DeleteAllFacets(); err != nil {
			return nil, err
		}
	}
	return nil, db.DeleteAll()
}

// opTxBegin opens a transactionSync: a savepoint inside the turn's batch.
func opTxBegin(in *Instance, db *sqlite.DB, args []any) (any, error) {
	in.nextID++
	sp := fmt.Sprintf("tx%d", in.nextID)
	return sp, db.Savepoint(sp)
}

func (in *Instance) opTxEnd(db *sqlite.DB, args []any, commit bool) (any, error) {
	sp, _ := webapi.ArgString(args, 0)
	if !strings.HasPrefix(sp, "tx") {
		return nil, errors.New("bad transaction")
	}
	if commit {
		return nil, db.Release(sp)
	}
	return nil, db.RollbackTo(sp)
}

func opAlarmGet(in *Instance, db *sqlite.DB, args []any) (any, error) {
	at, ok, err := db.Alarm()
	if err != nil || !ok {
		return nil, err
	}
	return float64(at), nil
}

func opAlarmDelete(in *Instance, db *sqlite.DB, args []any) (any, error) {
	if err := db.DeleteAlarm(); err != nil {
		return nil, err
	}
	if o := in.cfg.Object; o.Alarms != nil {
		o.Alarms.Cancel(o.ID)
	}
	return nil, nil
}

func opAlarmSet(in *Instance, db *sqlite.DB, args []any) (any, error) {
	o := in.cfg.Object
	if o.Alarms == nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "a facet cannot set alarms", Hint: "set the alarm in the parent (supervisor) object and forward it to the facet"}
	}
	ms, err := webapi.ArgInt(args, 0)
	if err != nil {
		return nil, errors.New("setAlarm(scheduledTime): scheduledTime must be a number of milliseconds since the epoch or a Date")
	}
	if err := db.SetAlarm(int64(ms)); err != nil {
		return nil, err
	}
	o.Alarms.Schedule(o.ID, int64(ms))
	return nil, nil
}

// taggedBindings decodes the JSON form of SQL bindings (args[1]), used when
// some are blobs ({$b: base64}) or integers given as text ({$i}).
func taggedBindings(args []any) ([]any, error) {
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

// sqlResultJSON is the JSON text of a result: [columns, rows, rows read, rows
// written, tagged], tagged being 1 when some values are tagged (blobs as
// {"$b": base64}, integers past 2^53 as {"$i": text}). An array, not an
// object, and written by hand: this is on every SQL call's path.
func sqlResultJSON(r *sqlite.Result) string {
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
