package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"

	"github.com/warrenhq/warren"
)

// Result is what one exec returns.
type Result struct {
	Columns     []string
	Rows        [][]any // values: nil, int64, float64, string, []byte
	RowsRead    int64
	RowsWritten int64
}

// MaxResultBytes bounds the values one exec may return.
const MaxResultBytes = 32 << 20

// Exec runs one statement with bindings (nil, bool, int64, float64, string,
// []byte). Errors are *warren.Error that say what to change.
func (d *DB) Exec(query string, args ...any) (*Result, error) {
	return d.ExecContext(context.Background(), query, args...)
}

// ExecContext is Exec that stops the statement (sqlite3_interrupt) when ctx
// ends: a runaway query (a recursive CTE without end) cannot hold the object.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (*Result, error) {
	if len(query) > MaxStatementBytes {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("the SQL statement is %d bytes, more than the limit of %d", len(query), MaxStatementBytes), Hint: "pass data as bindings (?) instead of inlining it"}
	}
	if len(args) > MaxBindings {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("%d bindings is more than the limit of %d per statement", len(args), MaxBindings), Hint: "split the statement, or insert rows in several statements"}
	}
	for i, a := range args {
		switch v := a.(type) {
		case nil, int64, float64, bool:
		case int:
			args[i] = int64(v)
		case string:
			if len(v) > MaxValueBytes {
				return nil, tooBig(i)
			}
		case []byte:
			if len(v) > MaxValueBytes {
				return nil, tooBig(i)
			}
			if v == nil {
				args[i] = []byte{} // database/sql would bind a nil slice as NULL
			}
		default:
			return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("binding %d has type %T; SQL values are null, numbers, strings and ArrayBuffers", i+1, a)}
		}
	}
	if isVacuum(query) {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "SQL refused: VACUUM is not allowed (the runtime manages the database file)"}
	}
	d.denied = ""
	switch firstWord(query) {
	case "CREATE", "DROP", "ALTER":
		d.ddl = true
	default:
		d.ddl = false
	}
	var res *Result
	// The driver's connection directly: database/sql would add a goroutine
	// per statement for the context and a copy of every value.
	var err error
	d.conn.Raw(func(dc any) error {
		// Errors stay out of Raw's result: it would close the connection
		// on driver.ErrBadConn.
		res, err = d.execDriver(ctx, dc, query, args)
		return nil
	})
	if err != nil {
		d.resetBatch()
		return nil, err
	}
	d.rowsRead.Add(res.RowsRead)
	d.rowsWritten.Add(res.RowsWritten)
	return res, nil
}

func (d *DB) execDriver(ctx context.Context, dc any, query string, args []any) (*Result, error) {
	interrupted := func() error {
		return &warren.Error{Code: warren.CodeLimit, Limit: "CPU time", Message: "the SQL statement ran too long and was interrupted", Hint: "add an index, bound recursive queries, or do less per statement"}
	}
	stmt, err := d.prepare(ctx, dc, query)
	if err != nil {
		if ctx.Err() != nil { // the time ran out while the statement was prepared
			return nil, interrupted()
		}
		return nil, d.wrap(err, query)
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := stmt.(driver.StmtQueryContext).QueryContext(ctx, named)
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted()
		}
		return nil, d.wrap(err, query)
	}
	closed := false
	defer func() {
		if !closed {
			rows.Close()
		}
	}()
	cols := rows.Columns()
	res := &Result{Columns: cols}
	tooLarge := func() error {
		return &warren.Error{Code: warren.CodeLimit, Limit: "SQL result size", Message: fmt.Sprintf("the query returned more than %d bytes", MaxResultBytes), Hint: "select fewer rows or columns (LIMIT/OFFSET, or keyset paging)"}
	}
	if raw, ok := rawOf(rows); ok {
		if err := raw.readRows(ctx, res, MaxResultBytes); err != nil {
			switch {
			case err == errResultSize:
				return nil, tooLarge()
			case ctx.Err() != nil:
				return nil, interrupted()
			}
			return nil, d.wrap(err, query)
		}
	} else if err := nextRows(ctx, rows, res); err != nil {
		if err == errResultSize {
			return nil, tooLarge()
		}
		if ctx.Err() != nil {
			return nil, interrupted()
		}
		return nil, d.wrap(err, query)
	}
	closed = true
	if err := rows.Close(); err != nil {
		return nil, d.wrap(err, query)
	}
	res.RowsRead = int64(len(res.Rows))
	if writes(query) {
		res.RowsWritten = d.changes(dc)
	}
	return res, nil
}

// nextRows reads rows through the driver (which copies each row whole
// before it can be sized): the fallback if rawOf cannot see its statement.
func nextRows(ctx context.Context, rows driver.Rows, res *Result) error {
	cols := res.Columns
	size := 0
	dest := make([]driver.Value, len(cols))
	for {
		if err := rows.Next(dest); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		vals := make([]any, len(cols))
		for i, v := range dest {
			switch x := v.(type) {
			case []byte:
				vals[i] = append([]byte(nil), x...)
				size += len(x)
			case string:
				vals[i] = x
				size += len(x)
			default:
				vals[i] = x
				size += 8
			}
		}
		if size > MaxResultBytes {
			return errResultSize
		}
		res.Rows = append(res.Rows, vals)
	}
}

// changes returns sqlite3_changes() through a prepared statement kept for it.
func (d *DB) changes(dc any) int64 {
	if d.changesStmt == nil {
		s, err := dc.(driver.ConnPrepareContext).PrepareContext(context.Background(), "SELECT changes()")
		if err != nil {
			return 0
		}
		d.changesStmt = s
	}
	rows, err := d.changesStmt.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
	if err != nil {
		return 0
	}
	defer rows.Close()
	v := []driver.Value{nil}
	if rows.Next(v) != nil {
		return 0
	}
	n, _ := v[0].(int64)
	return n
}

// maxStmts bounds the prepared-statement cache of one database.
const maxStmts = 64

// prepare returns a cached prepared statement for query. Statements that
// change the schema are not cached (they run once).
func (d *DB) prepare(ctx context.Context, dc any, query string) (driver.Stmt, error) {
	if s, ok := d.stmts[query]; ok {
		return s, nil
	}
	s, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if d.ddl {
		// Schema changes expire every cached statement; keep none.
		d.dropStmts()
		d.oneShot = append(d.oneShot, s)
		return s, nil
	}
	if d.stmts == nil {
		d.stmts = map[string]driver.Stmt{}
	}
	if len(d.stmts) >= maxStmts {
		d.dropStmts()
	}
	d.stmts[query] = s
	return s, nil
}

// dropStmts closes the cached statements; it runs where the driver's
// connection may be used (inside conn.Raw, or on Close).
func (d *DB) dropStmts() {
	for q, s := range d.stmts {
		s.Close()
		delete(d.stmts, q)
	}
	for _, s := range d.oneShot {
		s.Close()
	}
	d.oneShot = nil
}

func tooBig(i int) error {
	return &warren.Error{Code: warren.CodeBadRequest, Limit: "value size", Message: fmt.Sprintf("binding %d is larger than the limit of %d bytes per value", i+1, MaxValueBytes), Hint: "store large data in several rows"}
}

func firstWord(q string) string {
	q = strings.TrimLeft(q, " \t\r\n;(")
	for strings.HasPrefix(q, "--") || strings.HasPrefix(q, "/*") {
		if strings.HasPrefix(q, "--") {
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return ""
			}
			q = strings.TrimLeft(q[i+1:], " \t\r\n;(")
		} else {
			i := strings.Index(q, "*/")
			if i < 0 {
				return ""
			}
			q = strings.TrimLeft(q[i+2:], " \t\r\n;(")
		}
	}
	end := strings.IndexAny(q, " \t\r\n;(")
	if end < 0 {
		end = len(q)
	}
	return strings.ToUpper(q[:end])
}

func isVacuum(q string) bool { return firstWord(q) == "VACUUM" }

func writes(q string) bool {
	switch firstWord(q) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
		return true
	}
	return false
}

// internalExec runs the runtime's own statement, past the authorizer, on a
// prepared statement kept for it, and returns the rows it changed.
func (d *DB) internalExec(query string, args ...any) (int64, error) {
	d.internal = true
	defer func() { d.internal = false }()
	var n int64
	var err error
	d.conn.Raw(func(dc any) error {
		var s driver.Stmt
		if s, err = d.internalStmt(dc, query); err != nil {
			return nil
		}
		var r driver.Result
		if r, err = s.(driver.StmtExecContext).ExecContext(context.Background(), namedArgs(args)); err == nil {
			n, _ = r.RowsAffected()
		}
		return nil
	})
	return n, err
}

// internalQueryRow runs one of the runtime's own queries and reads its
// first row into dest; ok is false when there is none.
func (d *DB) internalQueryRow(query string, args []any, dest []driver.Value) (ok bool, err error) {
	d.internal = true
	defer func() { d.internal = false }()
	d.conn.Raw(func(dc any) error {
		var s driver.Stmt
		if s, err = d.internalStmt(dc, query); err != nil {
			return nil
		}
		var rows driver.Rows
		if rows, err = s.(driver.StmtQueryContext).QueryContext(context.Background(), namedArgs(args)); err != nil {
			return nil
		}
		switch e := rows.Next(dest); e {
		case nil:
			ok = true
		case io.EOF:
		default:
			err = e
		}
		if e := rows.Close(); err == nil {
			err = e
		}
		return nil
	})
	return ok, err
}

func (d *DB) internalStmt(dc any, query string) (driver.Stmt, error) {
	if s, ok := d.istmts[query]; ok {
		return s, nil
	}
	s, err := dc.(driver.ConnPrepareContext).PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	if d.istmts == nil {
		d.istmts = map[string]driver.Stmt{}
	}
	d.istmts[query] = s
	return s, nil
}

func namedArgs(args []any) []driver.NamedValue {
	if len(args) == 0 {
		return nil
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return named
}

// internalExecText runs a statement of the runtime's whose text varies
// (savepoint names), without keeping it prepared.
func (d *DB) internalExecText(query string) error {
	d.internal = true
	defer func() { d.internal = false }()
	_, err := d.conn.ExecContext(context.Background(), query)
	return err
}

// Begin starts a batch: the writes until Commit are one atomic transaction.
func (d *DB) Begin() error {
	if d.inBatch {
		return nil
	}
	if _, err := d.internalExec("BEGIN"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	d.inBatch = true
	return nil
}

// Commit makes the batch durable (to the Synchronous level).
func (d *DB) Commit() error {
	if !d.inBatch {
		return nil
	}
	d.inBatch = false
	if _, err := d.internalExec("COMMIT"); err != nil {
		d.internalExec("ROLLBACK")
		return d.wrap(err, "COMMIT")
	}
	return nil
}

// Rollback discards the batch.
func (d *DB) Rollback() error {
	if !d.inBatch {
		return nil
	}
	d.inBatch = false
	_, err := d.internalExec("ROLLBACK")
	return err
}

// Savepoint, Release and RollbackTo nest explicit transactions
// (transactionSync) inside a batch.
func (d *DB) Savepoint(name string) error {
	return d.internalExecText("SAVEPOINT " + quoteIdent(name))
}

// Release ends a savepoint, keeping its writes in the batch.
func (d *DB) Release(name string) error {
	return d.internalExecText("RELEASE " + quoteIdent(name))
}

// RollbackTo undoes the writes since the savepoint and ends it.
func (d *DB) RollbackTo(name string) error {
	if err := d.internalExecText("ROLLBACK TO " + quoteIdent(name)); err != nil {
		return err
	}
	return d.Release(name)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Size returns the database size in bytes (page_count × page_size).
func (d *DB) Size() (int64, error) {
	d.internal = true
	defer func() { d.internal = false }()
	var pages, size int64
	ctx := context.Background()
	if err := d.conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if err := d.conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its first line ("ok").
func (d *DB) IntegrityCheck() (string, error) {
	d.internal = true
	defer func() { d.internal = false }()
	var s string
	err := d.conn.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&s)
	return s, err
}
