package worker_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// App code must never reach the prelude's internals (the host function, the
// dispatch table): not through the lazy family loader, not through globals.
func TestNoPathToPreludeInternals(t *testing.T) {
	in := newInstance(t, `
let leaked = "none";
globalThis.__warren_family = function (c) { leaked = "family"; };
Object.defineProperty(globalThis, "__warren_family_x", { get() { leaked = "getter"; return () => {} } });
const reg = typeof globalThis.__warren_family_register;
export default { async fetch() {
  globalThis[["cryp", "to"].join("")].randomUUID();
  globalThis[["Readable", "Stream"].join("")];
  const names = Object.getOwnPropertyNames(globalThis).filter(n => /^__/.test(n));
  return Response.json({ leaked, reg, names, op: typeof __op, dispatch: typeof __dispatch });
} }`, worker.Config{})
	_, body := get(t, in, "/")
	if body != `{"leaked":"none","reg":"undefined","names":["__warren_family","__warren_family_x"],"op":"undefined","dispatch":"undefined"}` {
		t.Fatalf("got %s", body)
	}
}

// Exceptions whose properties throw, and a replaced JSON, still end the
// request with an error instead of hanging until the wall-time limit.
func TestHostileExceptionsFailFast(t *testing.T) {
	for _, src := range []string{
		`export default { fetch() { throw { get message() { throw new Error("x") } } } }`,
		`export default { fetch() { throw new Proxy({}, { get() { throw 1 }, has() { throw 2 } }) } }`,
		`export default { fetch() { const e = new Error("m"); Object.defineProperty(e, "stack", { get() { throw 1 } }); throw e } }`,
		`export default { fetch() { JSON.stringify = () => { throw new Error("no") }; throw new Error("boom") } }`,
		`export default { fetch() { String = () => { throw 1 }; throw new Error("boom") } }`,
	} {
		in := newInstance(t, src, worker.Config{Limits: warren.Limits{Wall: 60e9}})
		_, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "/", nil))
		if err == nil || strings.Contains(err.Error(), "wall time") {
			t.Errorf("%s: err = %v", src, err)
		}
	}
}
