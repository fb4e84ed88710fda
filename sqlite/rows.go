package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
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

// rawOf finds the statement behind the driver's rows (its fields are not
// exported: they are read by name and type, so a driver that changes them
// is seen, and its rows are read through Next).
func rawOf(r driver.Rows) (rawRows, bool) {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return rawRows{}, false
	}
	e := v.Elem()
	ps, c, empty := e.FieldByName("pstmt"), e.FieldByName("c"), e.FieldByName("empty")
	if !ps.IsValid() || ps.Kind() != reflect.Uintptr || !empty.IsValid() || empty.Kind() != reflect.Bool ||
		!c.IsValid() || c.Kind() != reflect.Pointer || c.IsNil() || c.Elem().Kind() != reflect.Struct {
		return rawRows{}, false
	}
	tls := c.Elem().FieldByName("tls")
	if !tls.IsValid() || tls.Type() != reflect.TypeOf((*libc.TLS)(nil)) {
		return rawRows{}, false
	}
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
