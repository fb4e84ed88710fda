package webapi_test

import "testing"

func TestDOMException(t *testing.T) {
	expectJS(t, `
const a = new DOMException("gone", "NotFoundError");
const b = new DOMException();
const c = new DOMException("m", "MadeUpError");
const d = new DOMException("x", { name: "DataCloneError", cause: 42 });
return [
  [a.name, a.message, a.code, a instanceof Error, a instanceof DOMException, String(a), Object.prototype.toString.call(a)],
  [b.name, b.message, b.code],
  [c.name, c.code],
  [d.name, d.code, d.cause],
  [DOMException.ABORT_ERR, DOMException.TIMEOUT_ERR, a.INVALID_STATE_ERR, DOMException.DATA_CLONE_ERR],
  [new DOMException("", "AbortError").code, new DOMException("", "TimeoutError").code, new DOMException("", "SyntaxError").code,
   new DOMException("", "QuotaExceededError").code, new DOMException("", "OperationError").code],
  typeof a.stack,
];
`, []any{
		[]any{"NotFoundError", "gone", 8, true, true, "NotFoundError: gone", "[object DOMException]"},
		[]any{"Error", "", 0},
		[]any{"MadeUpError", 0},
		[]any{"DataCloneError", 25, 42},
		[]int{20, 23, 11, 25},
		[]int{20, 23, 12, 22, 0},
		"string",
	})
}

func TestEventBasics(t *testing.T) {
	expectJS(t, `
const e = new Event("ping");
const c = new Event("pong", { bubbles: true, cancelable: true, composed: true });
let err = null;
try { new Event(); } catch (x) { err = x.name; }
c.preventDefault();
e.preventDefault(); // not cancelable: no effect
return [e.type, e.bubbles, e.cancelable, e.defaultPrevented, e.target, e.currentTarget, e.eventPhase, e.isTrusted,
  typeof e.timeStamp, c.bubbles, c.cancelable, c.composed, c.defaultPrevented, c.returnValue, err,
  Event.AT_TARGET, e.NONE];
`, []any{"ping", false, false, false, nil, nil, 0, false, "number", true, true, true, true, false, "TypeError", 2, 0})
}

func TestCustomEvent(t *testing.T) {
	expectJS(t, `
const e = new CustomEvent("hello", { detail: { n: 1 }, cancelable: true });
const t = new EventTarget();
let seen = null;
t.addEventListener("hello", (ev) => { seen = [ev.detail.n, ev instanceof Event, ev.type]; });
t.dispatchEvent(e);
return [seen, new CustomEvent("x").detail, e.cancelable];
`, []any{[]any{1, true, "hello"}, nil, true})
}

func TestEventTargetDispatch(t *testing.T) {
	expectJS(t, `
const t = new EventTarget();
const log = [];
let during = null;
function f(e) { log.push("f"); during = [e.target === t, e.currentTarget === t, e.eventPhase, this === t]; }
t.addEventListener("x", f);
t.addEventListener("x", f); // duplicate: ignored
t.addEventListener("x", { handleEvent(e) { log.push("obj:" + (this !== t)); } });
t.addEventListener("x", () => log.push("cap"), { capture: true }); // capture listeners run first
t.addEventListener("y", () => log.push("y"));
const ev = new Event("x");
const r = t.dispatchEvent(ev);
const after = [ev.target === t, ev.currentTarget, ev.eventPhase];
t.removeEventListener("x", f);
t.dispatchEvent(new Event("x"));
return [log, during, r, after];
`, []any{[]string{"cap", "f", "obj:true", "cap", "obj:true"}, []any{true, true, 2, true}, true, []any{true, nil, 0}})
}

func TestEventTargetCancelAndStop(t *testing.T) {
	expectJS(t, `
const t = new EventTarget();
const log = [];
t.addEventListener("x", (e) => { log.push(1); e.preventDefault(); e.stopImmediatePropagation(); });
t.addEventListener("x", () => log.push(2));
const cancelable = t.dispatchEvent(new Event("x", { cancelable: true }));
const notCancelable = t.dispatchEvent(new Event("x"));
// passive listeners cannot cancel
const p = new EventTarget();
p.addEventListener("z", (e) => e.preventDefault(), { passive: true });
const passive = p.dispatchEvent(new Event("z", { cancelable: true }));
return [log, cancelable, notCancelable, passive];
`, []any{[]int{1, 1}, false, true, true})
}

func TestEventTargetOnceAndSignal(t *testing.T) {
	expectJS(t, `
const t = new EventTarget();
const log = [];
t.addEventListener("x", () => log.push("once"), { once: true });
const ac = new AbortController();
t.addEventListener("x", () => log.push("sig"), { signal: ac.signal });
t.addEventListener("x", () => log.push("never"), { signal: AbortSignal.abort() });
t.dispatchEvent(new Event("x"));
ac.abort();
t.dispatchEvent(new Event("x"));
// removal during dispatch prevents a later listener from running
const u = new EventTarget();
const g = () => log.push("removed-late");
u.addEventListener("r", () => u.removeEventListener("r", g));
u.addEventListener("r", g);
u.dispatchEvent(new Event("r"));
return log;
`, []string{"once", "sig"})
}

func TestEventTargetListenerErrorsAreReported(t *testing.T) {
	expectJS(t, `
const errors = [];
const orig = console.error;
console.error = (...args) => errors.push(args.map((a) => a instanceof Error ? a.message : String(a)).join(" "));
try {
  const t = new EventTarget();
  const log = [];
  t.addEventListener("x", () => { throw new Error("boom"); });
  t.addEventListener("x", { handleEvent: 5 });
  t.addEventListener("x", () => log.push("still runs"));
  const r = t.dispatchEvent(new Event("x"));
  return [log, r, errors.length, errors[0].includes("boom")];
} finally { console.error = orig; }
`, []any{[]string{"still runs"}, true, 2, true})
}

func TestEventTargetErrors(t *testing.T) {
	expectJS(t, `
const t = new EventTarget();
const out = [];
try { t.dispatchEvent({ type: "x" }); } catch (e) { out.push(e.name); }
const ev = new Event("x");
t.addEventListener("x", () => {
  try { t.dispatchEvent(ev); } catch (e) { out.push(e.name, e.code); }
});
t.dispatchEvent(ev);
try { t.addEventListener("x"); } catch (e) { out.push(e.name); }
t.addEventListener("x", null); // ignored
return out;
`, []any{"TypeError", "InvalidStateError", 11, "TypeError"})
}

func TestEventTargetSubclass(t *testing.T) {
	expectJS(t, `
class Thing extends EventTarget { fire() { return this.dispatchEvent(new CustomEvent("go", { detail: 7 })); } }
const x = new Thing();
let got = null;
x.addEventListener("go", (e) => { got = [e.detail, e.target === x]; });
x.fire();
return [got, x instanceof EventTarget];
`, []any{[]any{7, true}, true})
}

func TestAbortController(t *testing.T) {
	expectJS(t, `
const ac = new AbortController();
const s = ac.signal;
const log = [];
const before = [s.aborted, s.reason, s instanceof EventTarget, ac.signal === s];
s.throwIfAborted();
s.addEventListener("abort", (e) => log.push(["listener", e.type, e.isTrusted, e.target === s, s.aborted]));
s.onabort = (e) => log.push(["onabort", e.type]);
ac.abort();
ac.abort("second"); // no effect
let thrown = null;
try { s.throwIfAborted(); } catch (e) { thrown = e === s.reason; }
return [before, log, s.aborted, s.reason instanceof DOMException, s.reason.name, s.reason.code, thrown];
`, []any{[]any{false, nil, true, true}, []any{[]any{"listener", "abort", true, true, true}, []any{"onabort", "abort"}}, true, true, "AbortError", 20, true})
}

func TestAbortSignalCustomReasonAndOnabort(t *testing.T) {
	expectJS(t, `
const ac = new AbortController();
const log = [];
const h1 = () => log.push("h1");
ac.signal.onabort = h1;
ac.signal.onabort = () => log.push("h2"); // replaces h1, keeps its position
const reason = { why: "because" };
ac.abort(reason);
const b = new AbortController();
b.signal.onabort = () => log.push("nope");
b.signal.onabort = null;
b.abort();
let err = null;
try { new AbortSignal(); } catch (e) { err = e.name; }
return [log, ac.signal.reason === reason, b.signal.onabort, err];
`, []any{[]string{"h2"}, true, nil, "TypeError"})
}

func TestAbortSignalAbortStatic(t *testing.T) {
	expectJS(t, `
const a = AbortSignal.abort();
const b = AbortSignal.abort("r");
let err = null;
try { b.throwIfAborted(); } catch (e) { err = e; }
return [a.aborted, a.reason.name, a.reason.message.length > 0, b.reason, err];
`, []any{true, "AbortError", true, "r", "r"})
}

func TestAbortSignalTimeout(t *testing.T) {
	expectJS(t, `
const s = AbortSignal.timeout(5);
const early = s.aborted;
const ev = await new Promise((resolve) => s.addEventListener("abort", resolve));
let err = null;
try { s.throwIfAborted(); } catch (e) { err = [e instanceof DOMException, e.name, e.code]; }
let bad = null;
try { AbortSignal.timeout(-1); } catch (e) { bad = e.name; }
return [early, ev.type, s.aborted, s.reason.name, err, bad];
`, []any{false, "abort", true, "TimeoutError", []any{true, "TimeoutError", 23}, "TypeError"})
}

func TestAbortSignalAny(t *testing.T) {
	expectJS(t, `
const a = new AbortController(), b = new AbortController();
const any = AbortSignal.any([a.signal, b.signal]);
const nested = AbortSignal.any([any]);
const log = [];
any.addEventListener("abort", () => log.push("any"));
nested.addEventListener("abort", () => log.push("nested"));
const before = any.aborted;
b.abort("from b");
a.abort("from a");
const pre = AbortSignal.any([new AbortController().signal, AbortSignal.abort("already")]);
let err = null;
try { AbortSignal.any([{}]); } catch (e) { err = e.name; }
return [before, any.aborted, any.reason, nested.reason, log, pre.aborted, pre.reason, AbortSignal.any([]).aborted, err];
`, []any{false, true, "from b", "from b", []string{"any", "nested"}, true, "already", false, "TypeError"})
}

func TestAbortSignalWithFetchStyleListener(t *testing.T) {
	// The pattern fetch() uses: a once-listener removed when the work finishes.
	expectJS(t, `
const ac = new AbortController();
const p = new Promise((resolve, reject) => {
  ac.signal.addEventListener("abort", () => reject(ac.signal.reason), { once: true });
});
ac.abort();
try { await p; return "resolved"; } catch (e) { return [e.name, e === ac.signal.reason]; }
`, []any{"AbortError", true})
}
