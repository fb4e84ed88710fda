// hostile: every method and getter of AbortSignal.prototype, AbortController.prototype, EventTarget.prototype and Event.prototype replaced by functions that throw (the app keeps the originals); fetch and pipeTo with a signal, request.signal, a WritableStream controller's signal and listeners removed by a signal still work
// request: GET /
// expect: status=200 body="why|true|true|stop|true|0"
const orig = new Map();
for (const C of [AbortSignal, AbortController, EventTarget, Event]) {
  for (const k of Reflect.ownKeys(C.prototype)) {
    const d = Object.getOwnPropertyDescriptor(C.prototype, k);
    if (k === "constructor" || !d.configurable) continue; // the constants (Event.NONE...)
    orig.set(C.name + "." + String(k), d);
    const boom = function () { throw new Error(C.name + "." + String(k) + " was called") };
    Object.defineProperty(C.prototype, k, d.get || d.set ? { get: boom, set: boom, configurable: true } : { value: boom, writable: true, configurable: true });
  }
}
// call runs the original member k of C.prototype on self.
const call = (C, k, self, ...args) => { const d = orig.get(C.name + "." + k); return d.get ? d.get.call(self) : d.value.apply(self, args); };
export default { async fetch(req) {
  const out = [];
  out.push(await fetch("https://example.com/", { signal: AbortSignal.abort("why") }).then(() => "fetched", (e) => String(e)));
  out.push(typeof req.signal === "object" && !call(AbortSignal, "aborted", req.signal));
  const ac = new AbortController();
  const sig = call(AbortController, "signal", ac);
  out.push(new Request("https://example.com/", { signal: sig }).signal === sig);
  const piping = new ReadableStream().pipeTo(new WritableStream(), { signal: sig }).then(() => "piped", (e) => String(e));
  call(AbortController, "abort", ac, "stop");
  out.push(await piping);
  let ctl;
  const ws = new WritableStream({ start(c) { ctl = c; } });
  const wsSignal = ctl.signal;
  await ws.getWriter().abort("bye");
  out.push(call(AbortSignal, "aborted", wsSignal));
  const t = new EventTarget(), ac2 = new AbortController();
  let calls = 0;
  call(EventTarget, "addEventListener", t, "x", () => { calls++; }, { signal: call(AbortController, "signal", ac2) });
  call(AbortController, "abort", ac2);
  call(EventTarget, "dispatchEvent", t, new Event("x"));
  out.push(calls);
  return new Response(out.join("|"));
} };
