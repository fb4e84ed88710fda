package actor_test

import (
	"context"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/internal/testrt"
)

const sqlTypesApp = `
import { DurableObject } from "cloudflare:workers";
export class T extends DurableObject {
  check(which) {
    const sql = this.ctx.storage.sql;
    const q = (s, ...b) => sql.exec(s, ...b).raw().next().value;
    const cases = [
      () => q("SELECT ?, ?, ?, ?, ?, ?", 1, 2.5, "a\"b\\c\n\t\r\u0001\u001f\u007f é😀\u2028", null, true, false),
      () => q("SELECT typeof(?), typeof(?), typeof(?), typeof(?), typeof(?), typeof(?)", 2 ** 40, 2 ** 60, 1.5, -0, -(2 ** 31), 2 ** 31),
      () => q("SELECT ?, ?, ?", NaN, -(2 ** 53) + 1, 2 ** 53),
      () => q("SELECT ?, typeof(?), ?", 9007199254740993n, 9007199254740993n, undefined),
      () => { const r = sql.exec("SELECT ? AS b, ? AS s", new Uint8Array([1, 2, 255]), "x").one(); return [r.b instanceof ArrayBuffer, Array.from(new Uint8Array(r.b)), r.s]; },
      () => q("SELECT 0.1, 1e21, 1e-7, -2.5e-300, 123456789.125"),
      () => q("SELECT 9223372036854775807, -9223372036854775808, 9007199254740993"),
      () => q("SELECT CAST(x'ff41' AS TEXT), ''"),
      () => { const c = sql.exec("SELECT 1 AS a, 'two' AS \"b\"\"q\" UNION ALL SELECT 3, NULL"); return [c.columnNames, c.toArray(), c.rowsRead, c.rowsWritten]; },
      () => { sql.exec("CREATE TABLE IF NOT EXISTS w (k PRIMARY KEY, v)"); const c = sql.exec("INSERT OR REPLACE INTO w VALUES (?, ?), (?, ?)", "a", 1, "b", 2); return [c.toArray(), c.rowsRead, c.rowsWritten]; },
      () => q("SELECT 1e308 * 10, -1e308 * 10"),
    ];
    return JSON.stringify(cases[which]());
  }
}
export default { fetch() { return new Response("") } };
`

// TestSQLValuesCrossIntact: values and bindings of every type cross between
// JavaScript and SQLite unchanged (the wire format of sql.exec).
func TestSQLValuesCrossIntact(t *testing.T) {
	rt := testrt.Runtime(t)
	prog, err := rt.Compile(warren.SingleModule("app.js", sqlTypesApp))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := actor.New(rt, prog, actor.Options{Name: "T", Class: "T", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	obj := ns.Object(ns.IDFromName("t"))
	want := []string{
		`[1,2.5,"a\"b\\c\n\t\r\u0001\u001f` + "\x7f" + ` é😀` + "\u2028" + `",null,1,0]`,
		`["integer","real","real","integer","integer","integer"]`,
		`[null,-9007199254740991,9007199254740992]`,
		`[9007199254740992,"integer",null]`,
		`[true,[1,2,255],"x"]`,
		`[0.1,1e+21,1e-7,-2.5e-300,123456789.125]`,
		`[9223372036854776000,-9223372036854776000,9007199254740992]`,
		`["�A",""]`,
		`[["a","b\"q"],[{"a":1,"b\"q":"two"},{"a":3,"b\"q":null}],2,0]`,
		`[[],0,2]`,
		`[null,null]`,
	}
	for i, w := range want {
		got, err := obj.Call(context.Background(), "check", []any{i})
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if got != w {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, w)
		}
	}
}
