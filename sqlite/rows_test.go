package sqlite_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/sqlite"
)

// One row of 100 columns of 4 MB (SQLITE_LIMIT_COLUMN × SQLITE_LIMIT_LENGTH)
// fails with the result-size limit having allocated a few times the cap at
// most: the driver used to copy the whole row into Go (400 MB, and Exec
// copied blobs again) before the cap was checked.
func TestWideRowFailsBeforeItIsCopied(t *testing.T) {
	db := open(t, sqlite.Options{})
	for _, blob := range []bool{false, true} {
		col := "printf('%.*c', 4000000, 'x')"
		if blob {
			col = "zeroblob(4000000)"
		}
		q := "SELECT " + strings.TrimSuffix(strings.Repeat(col+", ", 100), ", ")
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := db.Exec(q)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("blob=%v: %d MiB allocated in Go", blob, alloc>>20)
		var we *warren.Error
		if !errors.As(err, &we) || we.Limit != "SQL result size" {
			t.Fatalf("blob=%v: %v, want the SQL result size limit", blob, err)
		}
		if alloc > 3*sqlite.MaxResultBytes {
			t.Fatalf("blob=%v: a refused row allocated %d MiB in Go (cap %d MiB)", blob, alloc>>20, sqlite.MaxResultBytes>>20)
		}
	}
	// What fits still comes back whole, value by value.
	r := mustExec(t, db, "SELECT printf('%.*c', 4000000, 'x'), zeroblob(3), x'', '', NULL, 7, 1.5")
	row := r.Rows[0]
	if s, _ := row[0].(string); len(s) != 4000000 || fmt.Sprint(row[1:]) != "[[0 0 0] []  <nil> 7 1.5]" {
		t.Fatalf("row %T %v", row[0], row[1:])
	}
}

// Rows are read through SQLite's API on the driver's statement (so values
// are sized before they are copied): a driver that no longer has the
// fields this reads would fall back to copying whole rows, and a column
// declared DATE still comes back as the text stored.
func TestRowsReadThroughTheStatement(t *testing.T) {
	if !sqlite.ReadsRawRows() {
		t.Fatal("the driver's rows are read through Next: values are copied before they are sized")
	}
	db := open(t, sqlite.Options{})
	mustExec(t, db, "CREATE TABLE d (at DATE)")
	mustExec(t, db, "INSERT INTO d VALUES ('2024-05-06'), ('tomorrow')")
	r := mustExec(t, db, "SELECT at FROM d ORDER BY rowid")
	if fmt.Sprint(r.Rows) != "[[2024-05-06] [tomorrow]]" {
		t.Fatalf("%v", r.Rows)
	}
	// An error after the first row is the statement's.
	if _, err := db.Exec("SELECT CASE WHEN value > 2 THEN abs(-9223372036854775808) ELSE value END FROM (WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value+1 FROM s WHERE value < 5) SELECT value FROM s)"); err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Fatalf("err = %v", err)
	}
}
