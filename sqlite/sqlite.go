// Package sqlite is the storage of one Durable Object: a SQLite database in
// one file on local disk (WAL), opened through modernc.org/sqlite, with an
// authorizer that keeps app SQL inside its own database, limits that match
// Cloudflare's documented ones, a storage quota enforced by SQLite's page
// limit, and explicit batches (BEGIN/COMMIT driven by the runtime, never by
// app SQL) for the implicit atomicity and output gate of Durable Objects.
//
// A DB is used by one goroutine at a time (the object's event loop).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	sqlite3 "modernc.org/sqlite"

	"github.com/warrenhq/warren"
)

// Limits from Cloudflare's documentation for SQLite-backed Durable Objects.
const (
	MaxBindings        = 100
	MaxValueBytes      = 2 << 20   // a string or blob argument or column value
	MaxStatementBytes  = 100 << 10 // SQL text of one exec
	DefaultMaxBytes    = 1 << 30   // storage quota per database
	defaultPageSize    = 4096
	reservedPrefix     = "_cf_"
	synchronousDefault = "NORMAL"
)

// Options configure Open.
type Options struct {
	// MaxBytes is the storage quota; writes past it fail with a quota error.
	MaxBytes int64
	// Synchronous is SQLite's synchronous level with WAL: "NORMAL" (the
	// default: a committed transaction survives a crash of the process, the
	// last ones may be lost on power loss) or "FULL" (also survives power
	// loss; an fsync per commit).
	Synchronous string
}

// DB is one object's database.
type DB struct {
	path string
	db   *sql.DB
	conn *sql.Conn
	opts Options

	internal bool   // the runtime's own statements (BEGIN, KV table) pass
	denied   string // why the authorizer refused the last statement
	ddl      bool   // the statement being run is CREATE, DROP or ALTER (it writes sqlite_master)
	inBatch  bool
	stmts    map[string]driver.Stmt // the driver's prepared statements by SQL text
	oneShot  []driver.Stmt          // schema statements, closed at the next cache drop

	changesStmt driver.Stmt            // SELECT changes()
	istmts      map[string]driver.Stmt // the runtime's own statements

	rowsRead, rowsWritten atomic.Int64 // totals, for metering

	full bool // a write hit the quota inside a batch: resetBatch must run
}

// diskFull tells a full disk from a full quota (SQLite reports both as
// SQLITE_FULL): the filesystem holding the database has almost no space.
func (d *DB) diskFull() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(d.path), &st); err != nil {
		return false
	}
	return int64(st.Bavail)*int64(st.Bsize) < 1<<20
}

// resetBatch rolls back a batch in which a write hit the storage quota and
// opens a new one (it runs outside the driver connection's Raw callback).
func (d *DB) resetBatch() {
	if !d.full {
		return
	}
	d.full = false
	d.internalExec("ROLLBACK")
	d.internalExec("BEGIN")
}

// Rows returns the rows read and written through this DB so far (SQL
// statements and KV operations, counted as Cloudflare bills them).
func (d *DB) Rows() (read, written int64) { return d.rowsRead.Load(), d.rowsWritten.Load() }

// Open opens (creating if needed) the database at path.
func Open(path string, opts Options) (*DB, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Synchronous == "" {
		opts.Synchronous = synchronousDefault
	}
	if opts.Synchronous != "NORMAL" && opts.Synchronous != "FULL" {
		return nil, fmt.Errorf("sqlite: synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	created, err := createFromTemplate(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsnFor(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &DB{path: path, db: db, conn: conn, opts: opts}
	pages := opts.MaxBytes / defaultPageSize
	if pages < 16 {
		pages = 16
	}
	pragmas := []string{
		"PRAGMA page_size = 4096",
		// One connection per database, in one process: the WAL index lives
		// in the connection's memory (no -shm file, no lock calls per
		// transaction). Set before the first access.
		"PRAGMA locking_mode = EXCLUSIVE",
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = " + opts.Synchronous,
		"PRAGMA foreign_keys = ON",
		"PRAGMA trusted_schema = OFF",
		fmt.Sprintf("PRAGMA max_page_count = %d", pages),
	}
	if !created {
		// A file made before the template, or by hand: the runtime's
		// tables, in one transaction (one WAL commit, none if they exist).
		pragmas = append(pragmas, "BEGIN", createKV, createAlarm, "COMMIT")
	}
	for _, p := range pragmas {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			d.Close()
			return nil, fmt.Errorf("open %s: %s: %w", path, p, err)
		}
	}
	// SQLite's own limits, as workerd sets them for Durable Objects
	// (sqlite3_limit ids from sqlite3.h).
	for id, v := range map[int]int{
		0: 4 << 20, // SQLITE_LIMIT_LENGTH: strings and blobs made inside SQL (zeroblob, repeat)
		1: MaxStatementBytes, 2: 100, 3: 100, 4: 5, 5: 25000, 6: 127,
		7: 0, // SQLITE_LIMIT_ATTACHED
		8: 50, 9: MaxBindings, 10: 10,
	} {
		if _, err := sqlite3.Limit(conn, id, v); err != nil {
			d.Close()
			return nil, fmt.Errorf("open %s: set limit %d: %w", path, id, err)
		}
	}
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(sqlite3.AuthorizerRegisterer)
		if !ok {
			return errors.New("the SQLite driver has no authorizer")
		}
		return r.RegisterAuthorizer(d.authorize)
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// The runtime's tables.
const (
	createKV    = "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
	createAlarm = "CREATE TABLE IF NOT EXISTS _cf_ALARM (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL)"
)

func dsnFor(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?_txlock=deferred"
}

// template is an empty database file as Open leaves it: page size 4096, WAL
// mode in its header, the runtime's tables. A new database starts as a copy
// of it, which costs one small file write instead of a rollback-journal
// transaction (to switch to WAL) and a schema commit.
var template struct {
	once sync.Once
	b    []byte
	err  error
}

func templateBytes() ([]byte, error) {
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "warren-sqlite-template")
		if err != nil {
			template.err = err
			return
		}
		defer os.RemoveAll(dir)
		p := filepath.Join(dir, "template.sqlite")
		db, err := sql.Open("sqlite", dsnFor(p))
		if err != nil {
			template.err = err
			return
		}
		for _, q := range []string{"PRAGMA page_size = 4096", "PRAGMA journal_mode = WAL", "BEGIN", createKV, createAlarm, "COMMIT"} {
			if _, err := db.Exec(q); err != nil {
				db.Close()
				template.err = fmt.Errorf("%s: %w", q, err)
				return
			}
		}
		// Closing the last connection checkpoints the WAL into the file.
		if err := db.Close(); err != nil {
			template.err = err
			return
		}
		template.b, template.err = os.ReadFile(p)
		if template.err == nil && (len(template.b) < 100 || template.b[18] != 2 || template.b[19] != 2) {
			template.err = errors.New("the template database is not in WAL mode")
		}
	})
	return template.b, template.err
}

// createFromTemplate creates path as a copy of the template when it does
// not exist (reporting true). The copy is written to a temporary name,
// synced and renamed, so a crash leaves either no file or a whole one; the
// directory entry is made durable by SQLite's directory sync when the WAL
// is created at the first commit.
func createFromTemplate(path string) (bool, error) {
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, nil // exists, or SQLite reports the problem
	}
	b, err := templateBytes()
	if err != nil {
		return false, err
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return false, err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}

// Path returns the database file's path.
func (d *DB) Path() string { return d.path }

// Close closes the database.
func (d *DB) Close() error {
	if d.conn != nil {
		d.conn.Raw(func(any) error {
			d.dropStmts()
			if d.changesStmt != nil {
				d.changesStmt.Close()
				d.changesStmt = nil
			}
			for q, s := range d.istmts {
				s.Close()
				delete(d.istmts, q)
			}
			return nil
		})
		d.conn.Close()
	}
	return d.db.Close()
}

// safePragmas may be used by app SQL; every other PRAGMA is refused.
var safePragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true,
	"index_info": true, "index_xinfo": true, "foreign_key_list": true, "foreign_key_check": true,
	"foreign_keys": true, "defer_foreign_keys": true, "case_sensitive_like": true,
	"recursive_triggers": true, "reverse_unordered_selects": true, "quick_check": true,
	"integrity_check": true, "optimize": true, "data_version": true, "collation_list": true,
	"function_list": true, "pragma_list": true,
}

func (d *DB) authorize(action sqlite3.AuthorizerActionCode, arg1, arg2, dbName, trigger string) sqlite3.AuthorizerReturnCode {
	deny := func(why string) sqlite3.AuthorizerReturnCode {
		d.denied = why
		return sqlite3.AuthorizerDeny
	}
	if d.internal {
		return sqlite3.AuthorizerOK
	}
	switch action {
	case sqlite3.AuthAttach, sqlite3.AuthDetach:
		return deny("ATTACH and DETACH are not allowed: each Durable Object has exactly one database")
	case sqlite3.AuthTransaction, sqlite3.AuthSavepoint:
		return deny("BEGIN, COMMIT, ROLLBACK and SAVEPOINT are not allowed in SQL: writes between two awaits already commit atomically; use ctx.storage.transactionSync(() => { ... }) for an explicit transaction")
	case sqlite3.AuthPragma:
		name := strings.ToLower(arg1)
		if !safePragmas[name] {
			return deny(fmt.Sprintf("PRAGMA %s is not allowed; allowed PRAGMAs are the read-only and schema ones (table_info, index_list, foreign_keys, quick_check, ...)", name))
		}
	case sqlite3.AuthFunction:
		switch strings.ToLower(arg2) {
		case "load_extension", "fts3_tokenizer", "sqlite_offset":
			return deny(fmt.Sprintf("the SQL function %s() is not allowed", arg2))
		}
	case sqlite3.AuthInsert, sqlite3.AuthUpdate, sqlite3.AuthDelete:
		t := strings.ToLower(arg1)
		if (t == "sqlite_master" || t == "sqlite_schema" || t == "sqlite_temp_master") && trigger == "" && d.ddl {
			return sqlite3.AuthorizerOK
		}
		if strings.HasPrefix(t, "sqlite_") && t != "sqlite_sequence" {
			return deny(fmt.Sprintf("writing to the internal table %s is not allowed", arg1))
		}
	case sqlite3.AuthCreateVTable, sqlite3.AuthDropVTable:
		return deny("virtual tables are not allowed")
	case sqlite3.AuthCreateTempTable, sqlite3.AuthCreateTempIndex, sqlite3.AuthCreateTempView, sqlite3.AuthCreateTempTrigger:
		// The temp schema lives in a file of its own, outside the
		// database's page limit and the app's storage quota.
		return deny("temporary tables, indexes, views and triggers are not allowed: they would be stored outside this object's storage quota; use a regular table and delete its rows when done")
	}
	if strings.HasPrefix(strings.ToLower(arg1), reservedPrefix) || strings.HasPrefix(strings.ToLower(arg2), reservedPrefix) {
		return deny(fmt.Sprintf("names starting with %q are reserved for the runtime (the key-value storage lives there); use ctx.storage.kv", reservedPrefix))
	}
	return sqlite3.AuthorizerOK
}

func (d *DB) wrap(err error, query string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case d.denied != "":
		return &warren.Error{Code: warren.CodeBadRequest, Message: "SQL refused: " + d.denied}
	case strings.Contains(msg, "database or disk is full") || strings.Contains(msg, "SQLITE_FULL"):
		e := &warren.Error{Code: warren.CodeLimit, Limit: "storage", Message: fmt.Sprintf("the write would exceed this object's storage quota of %d bytes", d.opts.MaxBytes), Hint: "delete data you no longer need, or ask the operator to raise the storage quota"}
		if d.diskFull() {
			e = &warren.Error{Code: warren.CodeUnavailable, Message: "the server's disk is full: the write could not be stored", Hint: "retry later; the operator has to free disk space (nothing stored before was lost)"}
		}
		if d.inBatch {
			// SQLite may or may not have rolled the transaction back on
			// SQLITE_FULL; resetBatch makes it certain and opens a new
			// batch, so the app's later writes and the output gate's
			// commit still work.
			d.full = true
			e.Message += "; the writes made since the last await were rolled back"
		}
		return e
	}
	msg = strings.TrimPrefix(msg, "SQL logic error: ")
	return &warren.Error{Code: warren.CodeBadRequest, Message: "SQL error: " + msg}
}
