package webapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// ---- timers ----

func TestSetTimeoutOrder(t *testing.T) {
	expectJS(t, `
const order = [];
await new Promise((done) => {
  setTimeout(() => order.push("c60"), 60);
  setTimeout(() => order.push("a0"), 0);
  setTimeout(() => order.push("b25"), 25);
  setTimeout(() => { order.push("d90"); done(); }, 90);
});
return order;`, []string{"a0", "b25", "c60", "d90"})
	// Negative, NaN and missing delays are 0: they run before a 25 ms timer.
	expectJS(t, `
const order = [];
await new Promise((done) => {
  setTimeout(() => { order.push("late"); done(); }, 25);
  setTimeout(() => order.push("neg"), -5);
  setTimeout(() => order.push("nan"), "abc");
  setTimeout(() => order.push("undef"));
});
return [order.length, order[3], order.slice(0, 3).sort()];`, []any{4, "late", []string{"nan", "neg", "undef"}})
}

// TestSetTimeoutEqualDelaysFIFO: timers with equal delays run in the order
// they were set (HTML timer initialisation steps: wait until timers with the
// same context that started earlier and whose timeout is equal or less have
// run).
func TestSetTimeoutEqualDelaysFIFO(t *testing.T) {
	got := evalJS(t, `
const order = [];
await new Promise((done) => {
  let n = 0;
  for (let i = 0; i < 20; i++) setTimeout(() => { order.push(i); if (++n === 20) done(); }, 5);
});
return order;`)
	if want := `[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]`; got != want {
		t.Fatalf("20 timers of 5 ms ran in the order %s, want %s "+
			"(timers due at the same time must run in the order they were set)", got, want)
	}
}

func TestClearTimeout(t *testing.T) {
	expectJS(t, `
const order = [];
const id = setTimeout(() => order.push("cleared"), 5);
const ids = [id, setTimeout(() => {}, 0)];
clearTimeout(id);
clearTimeout(id);          // twice is fine
clearTimeout(123456);      // unknown is fine
clearTimeout(undefined);
clearTimeout("x");
const self = setTimeout(() => order.push("also cleared"), 1);
setTimeout(() => clearTimeout(self), 0);
await new Promise((r) => setTimeout(r, 20));
return [order, typeof id === "number" || typeof id === "object", ids[0] !== ids[1], id > 0];`,
		[]any{[]any{}, true, true, true})
}

func TestSetIntervalClearAfterN(t *testing.T) {
	expectJS(t, `
let runs = 0;
const seen = [];
await new Promise((done) => {
  const id = setInterval((a, b) => {
    runs++;
    seen.push(a + b);
    if (runs === 3) { clearInterval(id); setTimeout(done, 25); }
  }, 2, "x", "y");
});
return [runs, seen];`, []any{3, []string{"xy", "xy", "xy"}})
	// clearTimeout and clearInterval share one id space.
	expectJS(t, `
let runs = 0;
const id = setInterval(() => runs++, 1);
await new Promise((r) => setTimeout(r, 10));
clearTimeout(id);
const at = runs;
await new Promise((r) => setTimeout(r, 10));
return [at > 0, runs === at];`, []bool{true, true})
}

func TestTimerExtraArgs(t *testing.T) {
	expectJS(t, `
const got = await new Promise((r) => setTimeout((...args) => r(args), 0, 1, "two", { three: 3 }, null));
const none = await new Promise((r) => setTimeout(function () { r(arguments.length); }, 0));
return [got, none];`, []any{[]any{1, "two", map[string]int{"three": 3}, nil}, 0})
}

func TestTimerStringCallbackRefused(t *testing.T) {
	for _, code := range []string{
		`setTimeout("globalThis.evaluated = true", 0)`,
		`setInterval("globalThis.evaluated = true", 0)`,
		`setTimeout(null, 0)`,
		`setTimeout({}, 0)`,
	} {
		expectThrow(t, code, "TypeError")
	}
	expectJS(t, `try { setTimeout("globalThis.evaluated = true", 0); } catch {} await new Promise((r) => setTimeout(r, 5)); return globalThis.evaluated === undefined;`, true)
}

func TestQueueMicrotaskOrdering(t *testing.T) {
	expectJS(t, `
const order = [];
await new Promise((done) => {
  setTimeout(() => { order.push("timeout"); done(); }, 0);
  Promise.resolve().then(() => order.push("promise1"));
  queueMicrotask(() => {
    order.push("micro1");
    queueMicrotask(() => order.push("micro-nested"));
  });
  Promise.resolve().then(() => order.push("promise2"));
  queueMicrotask(() => order.push("micro2"));
  order.push("sync");
});
return order;`, []string{"sync", "promise1", "micro1", "promise2", "micro2", "micro-nested", "timeout"})
	expectThrow(t, `queueMicrotask("code")`, "TypeError")
	expectThrow(t, `queueMicrotask()`, "TypeError")
}

func TestSchedulerWait(t *testing.T) {
	expectJS(t, `
const order = [];
const p = scheduler.wait(10).then((v) => { order.push("wait10"); return v; });
setTimeout(() => order.push("timeout1"), 1);
const v = await p;
await scheduler.wait(0);
const t0 = performance.now();
await scheduler.wait(5);
return [order, v, p instanceof Promise, performance.now() >= t0];`, []any{[]string{"timeout1", "wait10"}, nil, true, true})
}

// ---- structuredClone ----

func TestStructuredCloneValues(t *testing.T) {
	expectJS(t, `
const d = new Date(Date.UTC(2020, 1, 29, 1, 2, 3, 4));
const cd = structuredClone(d);
const re = structuredClone(/a[b-c]+/giu);
re.lastIndex = 0;
const m = structuredClone(new Map([[1, "one"], ["k", { v: [1] }], [NaN, "nan"]]));
const s = structuredClone(new Set([1, "1", undefined, 1]));
const ab = new Uint8Array([1, 2, 255]).buffer;
const cab = structuredClone(ab);
const f64 = structuredClone(new Float64Array([1.5, -0, NaN]));
const i16 = structuredClone(new Int16Array([-2, 300]));
const big = structuredClone(new BigInt64Array([-5n]));
const sub = structuredClone(new Uint8Array([1, 2, 3, 4]).subarray(1, 3));
const dv = structuredClone(new DataView(new Uint8Array([7, 8]).buffer));
return [
  cd instanceof Date, cd !== d, cd.getTime() === d.getTime(),
  re instanceof RegExp, re.source, re.flags,
  m instanceof Map, [...m.keys()].map(String), m.get("k").v[0], m.get(NaN),
  s instanceof Set, s.size, s.has(undefined),
  cab instanceof ArrayBuffer, cab !== ab, [...new Uint8Array(cab)],
  f64 instanceof Float64Array, f64[0], Object.is(f64[1], -0), Number.isNaN(f64[2]),
  i16 instanceof Int16Array, [...i16],
  big instanceof BigInt64Array, String(big[0]),
  sub.length, [...sub],
  dv instanceof DataView, dv.getUint8(1),
];`, []any{
		true, true, true,
		true, "a[b-c]+", "giu",
		true, []string{"1", "k", "NaN"}, 1, "nan",
		true, 3, true,
		true, true, []int{1, 2, 255},
		true, 1.5, true, true,
		true, []int{-2, 300},
		true, "-5",
		2, []int{2, 3},
		true, 8,
	})
}

func TestStructuredClonePrimitives(t *testing.T) {
	expectJS(t, `
const v = structuredClone({ u: undefined, n: NaN, z: -0, i: Infinity, ni: -Infinity, b: 12345678901234567890n, s: "s", t: true, nul: null });
return [
  "u" in v, v.u === undefined, Number.isNaN(v.n), Object.is(v.z, -0), v.i === Infinity, v.ni === -Infinity,
  typeof v.b, v.b === 12345678901234567890n, v.s, v.t, v.nul,
  structuredClone(undefined) === undefined, Object.is(structuredClone(-0), -0), structuredClone(5n) === 5n,
  structuredClone("x"), structuredClone(null),
];`, []any{true, true, true, true, true, true, "bigint", true, "s", true, nil, true, true, true, "x", nil})
}

func TestStructuredCloneErrors(t *testing.T) {
	expectJS(t, `
const e = new RangeError("out of range");
const c = structuredClone(e);
const plain = structuredClone(new Error("plain"));
const t = structuredClone(new TypeError("t"));
return [c instanceof RangeError, c instanceof Error, c.name, c.message, c !== e, plain.name, plain.message, t instanceof TypeError, typeof c.stack];`,
		[]any{true, true, "RangeError", "out of range", true, "Error", "plain", true, "string"})
}

func TestStructuredCloneNestedAndCircular(t *testing.T) {
	expectJS(t, `
const shared = { v: 1 };
const root = { list: [shared, shared], nested: { deep: { deeper: [[[{ x: "end" }]]] } }, map: new Map([["s", shared]]) };
root.self = root;
root.list.push(root.list);
const c = structuredClone(root);
return [
  c !== root, c.self === c, c.list[0] === c.list[1], c.list[0] !== shared, c.list[2] === c.list,
  c.map.get("s") === c.list[0], c.nested.deep.deeper[0][0][0].x,
  Object.keys(c),
];`, []any{true, true, true, true, true, true, "end", []string{"list", "nested", "map", "self"}})
	// Blobs clone with their bytes and type.
	expectJS(t, `const b = structuredClone(new Blob(["hi"], { type: "text/plain" })); return [b instanceof Blob, b.type, await b.text()];`, []any{true, "text/plain", "hi"})
	// A plain object that has a "$t" key survives.
	expectJS(t, `const c = structuredClone({ $t: "ref", v: 0, other: [1] }); return c;`, map[string]any{"$t": "ref", "v": 0, "other": []int{1}})
	// Key order is kept, integer keys first as in every JS object.
	expectJS(t, `return Object.keys(structuredClone({ b: 1, 2: 2, a: 3, 1: 4 }));`, []string{"1", "2", "b", "a"})
}

// TestStructuredCloneInvalidDate: an invalid Date clones to an invalid Date
// (HTML: the [[DateValue]] NaN is copied), not to the epoch.
func TestStructuredCloneInvalidDate(t *testing.T) {
	expectJS(t, `const d = structuredClone(new Date(NaN)); return [d instanceof Date, Number.isNaN(d.getTime())];`, []bool{true, true})
}

func TestStructuredCloneRefusesUncloneable(t *testing.T) {
	cases := map[string]string{
		"function":       `structuredClone(function f() {})`,
		"arrow":          `structuredClone(() => 1)`,
		"nested fn":      `structuredClone({ a: [1, { f() {} }] })`,
		"symbol":         `structuredClone(Symbol("s"))`,
		"nested symbol":  `structuredClone({ s: Symbol.iterator })`,
		"class instance": `class Point { constructor() { this.x = 1; } } structuredClone(new Point())`,
		"promise":        `structuredClone(Promise.resolve())`,
		"weakmap":        `structuredClone(new WeakMap())`,
		"in map value":   `structuredClone(new Map([["k", () => 1]]))`,
	}
	for name, code := range cases {
		t.Run(name, func(t *testing.T) { expectThrow(t, code, "DataCloneError") })
	}
	expectJS(t, `try { structuredClone(() => 1); } catch (e) { return [e instanceof DataCloneError, e instanceof Error]; }`, []bool{true, true})
	expectThrow(t, `structuredClone()`, "TypeError")
}

// ---- console ----

// logHarness runs body inside a request in an isolate whose console output
// is captured, and returns the entries.
func logHarness(t *testing.T, body string) []worker.LogEntry {
	t.Helper()
	src := "export default { async fetch(request, env, ctx) {\n" + body + "\nreturn new Response(\"ok\");\n} }\n"
	p, err := runtime(t).Compile(warren.SingleModule("logs.js", src))
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var mu sync.Mutex
	var logs []worker.LogEntry
	in, err := runtime(t).NewInstance(p, worker.Config{Logs: func(e worker.LogEntry) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, e)
	}})
	if err != nil {
		t.Fatalf("instance: %v", err)
	}
	defer in.Close()
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "http://example.com/", nil))
	if err != nil {
		t.Fatalf("fetch: %v\n--- code ---\n%s", err, body)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	return append([]worker.LogEntry(nil), logs...)
}

func expectLogs(t *testing.T, body string, want ...string) {
	t.Helper()
	logs := logHarness(t, body)
	got := make([]string, len(logs))
	for i, e := range logs {
		got[i] = e.Level + " " + e.Message
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("logs\n%s\nwant\n%s\n--- code ---\n%s", g, w, body)
	}
}

func TestConsoleLevels(t *testing.T) {
	expectLogs(t, `console.log("l"); console.info("i"); console.warn("w"); console.error("e"); console.debug("d");`,
		"log l", "info i", "warn w", "error e", "debug d")
}

func TestConsoleFormatsValues(t *testing.T) {
	expectLogs(t, `
console.log("str", 1, -0, 1.5, true, null, undefined, 10n, Symbol("s"));
console.log({ a: 1, b: "two", "c-d": [1, { e: null }] });
console.log([1, "a", [2, [3]]]);
console.log(new Map([["k", 1], [2, { v: true }]]));
console.log(new Set(["x", 2]));
console.log({});
console.log([]);
console.log(function named() {}, () => {}, class K {});
console.log(new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6)));
console.log(/re/g, new Uint8Array([1, 2]));
const o = { name: "o" }; o.self = o; console.log(o);
class P { constructor() { this.x = 1; } } console.log(new P());
console.log(new URL("https://example.com/a?b"), new Headers({ "X-A": "1" }));`,
		`log str 1 -0 1.5 true null undefined 10n Symbol(s)`,
		`log { a: 1, b: "two", "c-d": [ 1, { e: null } ] }`,
		`log [ 1, "a", [ 2, [ 3 ] ] ]`,
		`log Map(2) { "k" => 1, 2 => { v: true } }`,
		`log Set(2) { "x", 2 }`,
		`log {}`,
		`log [  ]`,
		`log [Function: named] [Function: (anonymous)] [class K]`,
		`log 2020-01-02T03:04:05.006Z`,
		`log /re/g Uint8Array(2) [ 1, 2 ]`,
		`log { name: "o", self: [Circular] }`,
		`log P { x: 1 }`,
		`log URL "https://example.com/a?b" Headers { "x-a": "1" }`,
	)
}

func TestConsoleErrors(t *testing.T) {
	logs := logHarness(t, `
function thrower() { throw new TypeError("bad thing"); }
try { thrower(); } catch (e) { console.error("caught:", e); }
console.log(new RangeError("r"));`)
	if len(logs) != 2 {
		t.Fatalf("logs = %+v", logs)
	}
	if logs[0].Level != "error" || !strings.HasPrefix(logs[0].Message, "caught: TypeError: bad thing") {
		t.Fatalf("error log = %q", logs[0].Message)
	}
	// The stack of an error logged with console.error names the app's module.
	if !strings.Contains(logs[0].Message, "logs.js:") {
		t.Fatalf("error log has no app position: %q", logs[0].Message)
	}
	if !strings.HasPrefix(logs[1].Message, "RangeError: r") {
		t.Fatalf("log = %q", logs[1].Message)
	}
}

func TestConsoleSubstitutions(t *testing.T) {
	expectLogs(t, `
console.log("%s is %d years", "Bob", 42.9);
console.log("%i|%f|%%|%c", "7.5px", "2.5", "color: red");
console.log("obj %o and %O", { a: [1] }, [2]);
console.log("%s", { k: "v" });
console.log("extra %s", "a", "b", 3);
console.log("missing %s %s", "only");
console.log("%d", "abc");
console.log("no subst", "%s");`,
		`log Bob is 42 years`,
		`log 7|2.5|%|`,
		`log obj { a: [ 1 ] } and [ 2 ]`,
		`log { k: "v" }`,
		`log extra a b 3`,
		`log missing only %s`,
		`log NaN`,
		`log no subst %s`,
	)
}

func TestConsoleCountAssert(t *testing.T) {
	expectLogs(t, `
console.count(); console.count(); console.count("x"); console.countReset(); console.count();
console.assert(true, "never");
console.assert(false, "failed %s", "here");
console.assert(0);`,
		"log default: 1", "log default: 2", "log x: 1", "log default: 1",
		"error Assertion failed: failed here", "error Assertion failed")
}

// ---- performance, navigator ----

func TestPerformanceNow(t *testing.T) {
	expectJS(t, `
const a = performance.now();
await new Promise((r) => setTimeout(r, 5));
const b = performance.now();
let x = 0; for (let i = 0; i < 1e5; i++) x += i;
const c = performance.now();
return [typeof a, Number.isFinite(a), a >= 0, b > a, c >= b, typeof performance.timeOrigin];`,
		[]any{"number", true, true, true, true, "number"})
}

func TestNavigatorUserAgent(t *testing.T) {
	expectJS(t, `return [navigator.userAgent, typeof navigator.hardwareConcurrency, self === globalThis];`,
		[]any{"Cloudflare-Workers", "number", true})
}
