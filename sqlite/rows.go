package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/sqlite/lib"
)

// The driver's rows.Next copies every value of a row into Go before the
// caller sees any: one row of 100 columns of 4 MiB (SQLITE_LIMIT_LENGTH ×
// SQLITE_LIMIT_COLUMN) cost 400 MB, twice that with the copy Exec made,
// before the result cap was checked. So the rows are read here, through
// SQLite's API on the driver's statement: each value is sized
// (sqlite3_column_bytes) before it is copied, and the result fails at the
// cap having copied at most MaxResultBytes.

// rawRows is the statement behind the driver's rows.
type rawRows struct {
	tls   *libc.TLS
	pstmt uintptr
	empty bool // the statement returned no row
}

// rawFields are the indexes of the fields rawOf reads, found once per
// driver type (reflection by name costs more than a point query's read).
type rawFields struct {
	ok              bool
	pstmt, c, empty int
	tls             int
}

var rawLayouts sync.Map // reflect.Type of the driver's rows → rawFields

func rawLayout(t reflect.Type) rawFields {
	if f, ok := rawLayouts.Load(t); ok {
		return f.(rawFields)
	}
	var f rawFields
	e := t.Elem()
	ps, okP := e.FieldByName("pstmt")
	c, okC := e.FieldByName("c")
	empty, okE := e.FieldByName("empty")
	if okP && okC && okE && ps.Type.Kind() == reflect.Uintptr && empty.Type.Kind() == reflect.Bool &&
		c.Type.Kind() == reflect.Pointer && c.Type.Elem().Kind() == reflect.Struct && len(ps.Index) == 1 && len(c.Index) == 1 && len(empty.Index) == 1 {
		if tls, ok := c.Type.Elem().FieldByName("tls"); ok && tls.Type == reflect.TypeOf((*libc.TLS)(nil)) && len(tls.Index) == 1 {
			f = rawFields{ok: true, pstmt: ps.Index[0], c: c.Index[0], empty: empty.Index[0], tls: tls.Index[0]}
		}
	}
	rawLayouts.Store(t, f)
	return f
}

// rawOf finds the statement behind the driver's rows (its fields are not
// exported: they are found by name and type, so a driver that changes them
// is seen, and its rows are read through Next).
func rawOf(r driver.Rows) (rawRows, bool) {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return rawRows{}, false
	}
	f := rawLayout(v.Type())
	if !f.ok {
		return rawRows{}, false
	}
	e := v.Elem()
	c := e.Field(f.c)
	if c.IsNil() {
		return rawRows{}, false
	}
	ps, empty, tls := e.Field(f.pstmt), e.Field(f.empty), c.Elem().Field(f.tls)
	raw := rawRows{
		tls:   *(**libc.TLS)(unsafe.Pointer(tls.UnsafeAddr())),
		pstmt: *(*uintptr)(unsafe.Pointer(ps.UnsafeAddr())),
		empty: *(*bool)(unsafe.Pointer(empty.UnsafeAddr())),
	}
	if raw.tls == nil || raw.pstmt == 0 {
		return rawRows{}, false
	}
	return raw, true
}

// errResultSize is the result cap (execDriver turns it into the limit
// error).
var errResultSize = errors.New("sqlite: the result is over its cap")

// readRows appends the statement's rows to res (the first is already
// stepped, as the driver leaves it), failing with errResultSize before
// copying a value that takes the result past max bytes.
func (r rawRows) readRows(ctx context.Context, res *Result, max int) error {
	if r.empty {
		return nil
	}
	n := len(res.Columns)
	size := 0
	for {
		if lib.Xsqlite3_data_count(r.tls, r.pstmt) == 0 {
			return nil // no row ready
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Size the row before copying any of it.
		for i := 0; i < n; i++ {
			switch lib.Xsqlite3_column_type(r.tls, r.pstmt, int32(i)) {
			case lib.SQLITE_TEXT, lib.SQLITE_BLOB:
				size += int(lib.Xsqlite3_column_bytes(r.tls, r.pstmt, int32(i)))
			default:
				size += 8
			}
			if size > max {
				return errResultSize
			}
		}
		vals := make([]any, n)
		for i := range vals {
			col := int32(i)
			switch lib.Xsqlite3_column_type(r.tls, r.pstmt, col) {
			case lib.SQLITE_INTEGER:
				vals[i] = lib.Xsqlite3_column_int64(r.tls, r.pstmt, col)
			case lib.SQLITE_FLOAT:
				vals[i] = lib.Xsqlite3_column_double(r.tls, r.pstmt, col)
			case lib.SQLITE_TEXT:
				p := lib.Xsqlite3_column_text(r.tls, r.pstmt, col)
				k := int(lib.Xsqlite3_column_bytes(r.tls, r.pstmt, col))
				if p == 0 || k == 0 {
					vals[i] = ""
				} else {
					vals[i] = string(libc.GoBytes(p, k)) // a view of SQLite's memory: copied
				}
			case lib.SQLITE_BLOB:
				p := lib.Xsqlite3_column_blob(r.tls, r.pstmt, col)
				k := int(lib.Xsqlite3_column_bytes(r.tls, r.pstmt, col))
				if p == 0 || k == 0 {
					vals[i] = []byte(nil)
				} else {
					vals[i] = append([]byte(nil), libc.GoBytes(p, k)...)
				}
			default:
				vals[i] = nil
			}
		}
		res.Rows = append(res.Rows, vals)
		switch rc := lib.Xsqlite3_step(r.tls, r.pstmt); rc {
		case lib.SQLITE_ROW:
		case lib.SQLITE_DONE:
			return nil
		default:
			return r.errstr(rc)
		}
	}
}

// errstr is the driver's error for rc ("errstr: errmsg (rc)").
func (r rawRows) errstr(rc int32) error {
	str := libc.GoString(lib.Xsqlite3_errstr(r.tls, rc))
	db := lib.Xsqlite3_db_handle(r.tls, r.pstmt)
	if msg := libc.GoString(lib.Xsqlite3_errmsg(r.tls, db)); msg != str {
		return fmt.Errorf("%s: %s (%d)", str, msg, rc)
	}
	return fmt.Errorf("%s (%d)", str, rc)
}

// ReadsRawRows reports whether rows are read through SQLite's API (sized
// before they are copied), for a test to catch a driver that changed.
func ReadsRawRows() bool {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return false
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		return false
	}
	defer conn.Close()
	ok := false
	conn.Raw(func(dc any) error {
		s, err := dc.(driver.ConnPrepareContext).PrepareContext(context.Background(), "SELECT 1")
		if err != nil {
			return nil
		}
		defer s.Close()
		rows, err := s.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
		if err != nil {
			return nil
		}
		defer rows.Close()
		_, ok = rawOf(rows)
		return nil
	})
	return ok
}
