package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/sqlite"
)

func open(tb testing.TB, opts sqlite.Options) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "obj.sqlite"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustExec(tb testing.TB, db *sqlite.DB, q string, args ...any) *sqlite.Result {
	tb.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return r
}

func TestExecTypesAndCounts(t *testing.T) {
	db := open(t, sqlite.Options{})
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)")
	r := mustExec(t, db, "INSERT INTO t (name, score, data) VALUES (?, ?, ?), (?, ?, ?)", "a", 1.5, []byte{0, 1}, "b", nil, nil)
	if r.RowsWritten != 2 {
		t.Fatalf("rowsWritten = %d", r.RowsWritten)
	}
	r = mustExec(t, db, "SELECT id, name, score, data FROM t ORDER BY id")
	if fmt.Sprint(r.Columns) != "[id name score data]" || len(r.Rows) != 2 || r.RowsRead != 2 {
		t.Fatalf("%+v", r)
	}
	if fmt.Sprintf("%T %T %T %T", r.Rows[0]...) != "int64 string float64 []uint8" || r.Rows[1][2] != nil {
		t.Fatalf("row types %T / %v", r.Rows[0], r.Rows[1])
	}
}

func TestAuthorizerRefusals(t *testing.T) {
	db := open(t, sqlite.Options{})
	mustExec(t, db, "CREATE TABLE t (x)")
	for _, tc := range []struct{ q, want string }{
		{"ATTACH DATABASE '/tmp/other.db' AS other", "ATTACH"},
		{"DETACH DATABASE main", "DETACH"},
		{"VACUUM INTO '/tmp/copy.db'", "VACUUM"},
		{"VACUUM", "VACUUM"},
		{"PRAGMA writable_schema = ON", "writable_schema"},
		{"PRAGMA journal_mode = DELETE", "journal_mode"},
		{"PRAGMA max_page_count = 1000000000", "max_page_count"},
		{"SELECT load_extension('/tmp/x.so')", "load_extension"},
		{"UPDATE sqlite_master SET sql = 'x'", "sqlite_master"},
		{"INSERT INTO sqlite_master VALUES ('table','x','x',0,'')", "sqlite_master"},
		{"BEGIN", "transactionSync"},
		{"COMMIT", "transactionSync"},
		{"SAVEPOINT a", "transactionSync"},
		{"SELECT * FROM _cf_KV", "reserved"},
		{"DELETE FROM _cf_KV", "reserved"},
		{"CREATE TABLE _cf_mine (x)", "reserved"},
		// The temp schema is a file outside the quota: a 64 KiB app wrote
		// 1 GB there before.
		{"CREATE TEMP TABLE tt (x)", "temporary"},
		{"CREATE TEMPORARY TABLE tt AS SELECT 1", "temporary"},
		{"CREATE TEMP VIEW tv AS SELECT 1", "temporary"},
		{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", "temporary"},
	} {
		_, err := db.Exec(tc.q)
		var we *warren.Error
		if !errors.As(err, &we) || !strings.Contains(we.Message, tc.want) {
			t.Errorf("%s: err = %v, want one naming %q", tc.q, err, tc.want)
		}
	}
	// Allowed: schema work, safe PRAGMAs, ordinary functions.
	mustExec(t, db, "CREATE INDEX i ON t (x)")
	mustExec(t, db, "ALTER TABLE t ADD COLUMN y")
	mustExec(t, db, "PRAGMA table_info(t)")
	mustExec(t, db, "PRAGMA foreign_keys")
	mustExec(t, db, "SELECT json_object('a', 1), upper('x'), random()")
	mustExec(t, db, "DROP TABLE t")
	if s, err := db.IntegrityCheck(); err != nil || s != "ok" {
		t.Fatalf("integrity: %q %v", s, err)
	}
}

func TestBatchCommitRollbackSavepoint(t *testing.T) {
	db := open(t, sqlite.Options{})
	mustExec(t, db, "CREATE TABLE t (x)")
	db.Begin()
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	db.Rollback()
	db.Begin()
	mustExec(t, db, "INSERT INTO t VALUES (2)")
	db.Savepoint("s1")
	mustExec(t, db, "INSERT INTO t VALUES (3)")
	db.RollbackTo("s1")
	db.Savepoint("s2")
	mustExec(t, db, "INSERT INTO t VALUES (4)")
	db.Release("s2")
	if err := db.Commit(); err != nil {
		t.Fatal(err)
	}
	r := mustExec(t, db, "SELECT group_concat(x) FROM t")
	if r.Rows[0][0] != "2,4" {
		t.Fatalf("rows = %v", r.Rows[0][0])
	}
}

func TestLimits(t *testing.T) {
	db := open(t, sqlite.Options{})
	args := make([]any, 101)
	q := "SELECT " + strings.Repeat("?,", 100) + "?"
	if _, err := db.Exec(q, args...); err == nil || !strings.Contains(err.Error(), "100") {
		t.Errorf("101 bindings: %v", err)
	}
	if _, err := db.Exec("SELECT ?", strings.Repeat("x", sqlite.MaxValueBytes+1)); err == nil {
		t.Error("oversized value accepted")
	}
	if _, err := db.Exec("SELECT 1 -- " + strings.Repeat("x", sqlite.MaxStatementBytes)); err == nil {
		t.Error("oversized statement accepted")
	}
	if _, err := db.Exec("SELECT ?", struct{}{}); err == nil {
		t.Error("unsupported binding type accepted")
	}
}

func TestQuota(t *testing.T) {
	db := open(t, sqlite.Options{MaxBytes: 256 << 10})
	mustExec(t, db, "CREATE TABLE t (x)")
	mustExec(t, db, "INSERT INTO t VALUES ('keep me')")
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = db.Exec("INSERT INTO t VALUES (?)", strings.Repeat("x", 16<<10))
	}
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "storage" {
		t.Fatalf("err = %v", err)
	}
	// Nothing is corrupted and earlier data is intact; deletes still work.
	if s, _ := db.IntegrityCheck(); s != "ok" {
		t.Fatalf("integrity %q", s)
	}
	r := mustExec(t, db, "SELECT count(*) FROM t WHERE x = 'keep me'")
	if r.Rows[0][0] != int64(1) {
		t.Fatal("data lost")
	}
	mustExec(t, db, "DELETE FROM t WHERE x != 'keep me'")
	mustExec(t, db, "INSERT INTO t VALUES ('fits again')")
}

func TestKVAndPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "obj.sqlite")
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"b", "a", "ab", "c"} {
		if err := db.KVPut(k, []byte("v-"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, _ := db.KVGet("ab"); !ok || string(v) != "v-ab" {
		t.Fatalf("get ab = %q %v", v, ok)
	}
	keys, _, _ := db.KVList(sqlite.ListOptions{Prefix: "a"})
	if fmt.Sprint(keys) != "[a ab]" {
		t.Fatalf("prefix a: %v", keys)
	}
	keys, _, _ = db.KVList(sqlite.ListOptions{StartAfter: "a", End: "c", Reverse: true, Limit: 5})
	if fmt.Sprint(keys) != "[b ab]" {
		t.Fatalf("range: %v", keys)
	}
	if existed, _ := db.KVDelete("a"); !existed {
		t.Fatal("delete a")
	}
	db.Exec("CREATE TABLE t (x)")
	db.Exec("INSERT INTO t VALUES (42)")
	db.Close()
	db, err = sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, _, _ = db.KVList(sqlite.ListOptions{})
	r, _ := db.Exec("SELECT x FROM t")
	if fmt.Sprint(keys) != "[ab b c]" || r.Rows[0][0] != int64(42) {
		t.Fatalf("after reopen: %v %v", keys, r.Rows)
	}
	if err := db.DeleteAll(); err != nil {
		t.Fatal(err)
	}
	keys, _, _ = db.KVList(sqlite.ListOptions{})
	if _, err := db.Exec("SELECT * FROM t"); err == nil || len(keys) != 0 {
		t.Fatalf("deleteAll left %v / table t", keys)
	}
}

// BenchmarkPointRead is the storage hot path: one primary-key lookup.
func BenchmarkPointRead(b *testing.B) {
	db := open(b, sqlite.Options{})
	mustExec(b, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	db.Begin()
	for i := 0; i < 1000; i++ {
		mustExec(b, db, "INSERT INTO t VALUES (?, ?)", i, fmt.Sprint("value ", i))
	}
	db.Commit()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Exec("SELECT v FROM t WHERE id = ?", i%1000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommittedWrite is one write in its own batch (an output-gated
// counter increment), at the default synchronous level.
func BenchmarkCommittedWrite(b *testing.B) {
	db := open(b, sqlite.Options{})
	mustExec(b, db, "CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
	mustExec(b, db, "INSERT INTO c VALUES (1, 0)")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db.Begin()
		if _, err := db.Exec("UPDATE c SET n = n + 1 WHERE id = 1"); err != nil {
			b.Fatal(err)
		}
		if err := db.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRunawayAndOversizedQueries(t *testing.T) {
	db := open(t, sqlite.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := db.ExecContext(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
	var we *warren.Error
	if !errors.As(err, &we) || we.Limit != "CPU time" {
		t.Fatalf("recursive CTE: %v", err)
	}
	if _, err := db.Exec("SELECT zeroblob(100000000)"); err == nil {
		t.Fatal("a 100 MB blob made inside SQL was allowed")
	}
	if _, err := db.Exec("SELECT length(printf('%.*c', 50000000, 'x'))"); err == nil {
		t.Fatal("a 50 MB string made inside SQL was allowed")
	}
	// The database still works.
	mustExec(t, db, "SELECT 1")
}

// BenchmarkOpenNew is a new object's database: open (creating the file),
// the first write in its own batch, as a new Durable Object does. Close is
// not timed.
func BenchmarkOpenNew(b *testing.B) {
	dir := b.TempDir()
	dbs := make([]*sqlite.DB, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db, err := sqlite.Open(filepath.Join(dir, fmt.Sprint(i, ".sqlite")), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		db.Begin()
		mustExec(b, db, "CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER)")
		db.Commit()
		dbs = append(dbs, db)
	}
	b.StopTimer()
	for _, db := range dbs {
		db.Close()
	}
}

// TestNewDatabaseFromTemplate: a new database starts from the template (WAL
// mode, the runtime's tables) and keeps no shared-memory file (exclusive
// locking); its writes survive a reopen.
func TestNewDatabaseFromTemplate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.sqlite")
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.KVPut("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAlarm(42); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE t (x)")
	for _, name := range []string{"new.sqlite-shm", "new.sqlite.new"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s exists", name)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL: %v", err)
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 100 || b[18] != 2 || b[19] != 2 {
		t.Fatalf("the file is not in WAL mode (err %v)", err)
	}
	db, err = sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, ok, err := db.KVGet("k")
	at, aok, _ := db.Alarm()
	if err != nil || !ok || string(v) != "v" || !aok || at != 42 {
		t.Fatalf("after reopen: %q %v %v, alarm %d %v", v, ok, err, at, aok)
	}
	mustExec(t, db, "SELECT * FROM t")
}
