// console, timers, queueMicrotask, performance, navigator.

function _fmt(v, depth, seen) {
  if (typeof v === "string") return depth === 0 ? v : JSON.stringify(v);
  if (typeof v === "bigint") return v + "n";
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "function") return v.prototype && /^class\b/.test(Function.prototype.toString.call(v)) ? `[class ${v.name || "(anonymous)"}]` : `[Function: ${v.name || "(anonymous)"}]`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (v === null || typeof v !== "object") return String(v);
  if (seen.has(v)) return "[Circular]";
  if (depth > 4) return Array.isArray(v) ? "[Array]" : "[Object]";
  seen.add(v);
  try {
    if (v instanceof Error) return v.stack ? `${v.name}: ${v.message}\n${v.stack}`.trimEnd() : `${v.name}: ${v.message}`;
    if (Array.isArray(v)) return "[ " + v.slice(0, 100).map((x) => _fmt(x, depth + 1, seen)).join(", ") + (v.length > 100 ? `, ... ${v.length - 100} more items` : "") + " ]";
    if (v instanceof Map) return `Map(${v.size}) { ` + [...v].slice(0, 100).map(([k, x]) => _fmt(k, depth + 1, seen) + " => " + _fmt(x, depth + 1, seen)).join(", ") + " }";
    if (v instanceof Set) return `Set(${v.size}) { ` + [...v].slice(0, 100).map((x) => _fmt(x, depth + 1, seen)).join(", ") + " }";
    if (v instanceof Date) return isNaN(v) ? "Invalid Date" : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return `${v.constructor.name}(${v.length}) [ ${Array.prototype.slice.call(v, 0, 50).join(", ")}${v.length > 50 ? ", ..." : ""} ]`;
    if (v instanceof ArrayBuffer) return `ArrayBuffer { byteLength: ${v.byteLength} }`;
    if (typeof Headers === "function" && v instanceof Headers) return "Headers " + _fmt(Object.fromEntries(v), depth, seen);
    if (typeof Request === "function" && v instanceof Request) return `Request { method: ${JSON.stringify(v.method)}, url: ${JSON.stringify(v.url)} }`;
    if (typeof Response === "function" && v instanceof Response) return `Response { status: ${v.status} }`;
    // An unloaded family cannot have made v: check before touching (loading) it.
    if (__loaded.has("url") && v instanceof URL) return `URL ${JSON.stringify(v.href)}`;
    const proto = Object.getPrototypeOf(v);
    const name = proto && proto !== Object.prototype && proto.constructor ? proto.constructor.name + " " : "";
    const keys = Object.keys(v);
    if (keys.length === 0) return name + "{}";
    return name + "{ " + keys.slice(0, 100).map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)) + ": " + _fmt(v[k], depth + 1, seen)).join(", ") + (keys.length > 100 ? ", ..." : "") + " }";
  } catch (e) {
    return "[object]";
  } finally {
    seen.delete(v);
  }
}

function _format(args) {
  let out = "";
  let i = 0;
  if (typeof args[0] === "string" && /%[sdifoOjc%]/.test(args[0]) && args.length > 1) {
    i = 1;
    out = args[0].replace(/%[sdifoOjc%]/g, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case "%s": return typeof a === "string" ? a : _fmt(a, 1, new Set());
        case "%d": case "%i": return String(parseInt(a, 10));
        case "%f": return String(parseFloat(a));
        case "%c": return "";
        default: return _fmt(a, 1, new Set());
      }
    });
    if (i < args.length) out += " ";
  }
  return out + args.slice(i).map((a) => _fmt(a, 0, new Set())).join(" ");
}

const _counts = new Map();
const _timersLabel = new Map();
const console = {};
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => { host("log", level, _format(args)); };
}
console.trace = (...args) => host("log", "debug", _format(["Trace:", ...args]) + "\n" + (new Error().stack || ""));
console.dir = (v) => host("log", "log", _fmt(v, 0, new Set()));
console.table = (v) => host("log", "log", _fmt(v, 0, new Set()));
console.assert = (cond, ...args) => { if (!cond) host("log", "error", "Assertion failed" + (args.length ? ": " + _format(args) : "")); };
console.count = (label = "default") => { const n = (_counts.get(label) || 0) + 1; _counts.set(label, n); host("log", "log", `${label}: ${n}`); };
console.countReset = (label = "default") => _counts.delete(label);
console.time = (label = "default") => _timersLabel.set(label, performance.now());
console.timeEnd = (label = "default") => { const t = _timersLabel.get(label); _timersLabel.delete(label); if (t !== undefined) host("log", "log", `${label}: ${(performance.now() - t).toFixed(3)}ms`); };
console.timeLog = (label = "default", ...args) => { const t = _timersLabel.get(label); if (t !== undefined) host("log", "log", `${label}: ${(performance.now() - t).toFixed(3)}ms` + (args.length ? " " + _format(args) : "")); };
console.group = console.groupCollapsed = (...args) => { if (args.length) console.log(...args); };
console.groupEnd = () => {};
defineGlobal("console", console);

// ---- timers: Go owns the clock; JS keeps the callbacks ----
const _timers = new Map();
function _setTimer(repeat, fn, ms, args) {
  if (typeof fn !== "function") throw new TypeError("The callback must be a function; strings are not evaluated.");
  ms = Number(ms);
  if (!(ms >= 0)) ms = 0;
  const id = host("timer.set", Math.min(ms, 2147483647), repeat);
  _timers.set(id, { fn, args, repeat });
  return id;
}
function _clearTimer(id) {
  if (typeof id === "object" && id !== null && typeof id[Symbol.toPrimitive] === "function") id = id[Symbol.toPrimitive]();
  if (typeof id !== "number" || !_timers.has(id)) return;
  _timers.delete(id);
  host("timer.clear", id);
}
_dispatch.timer = (id) => {
  const t = _timers.get(id);
  if (!t) return;
  if (!t.repeat) _timers.delete(id);
  t.fn.apply(globalThis, t.args);
};
defineGlobal("setTimeout", (fn, ms, ...args) => _setTimer(false, fn, ms, args));
defineGlobal("setInterval", (fn, ms, ...args) => _setTimer(true, fn, ms, args));
defineGlobal("clearTimeout", _clearTimer);
defineGlobal("clearInterval", _clearTimer);
defineGlobal("queueMicrotask", (fn) => {
  if (typeof fn !== "function") throw new TypeError("queueMicrotask requires a function");
  Promise.resolve().then(() => fn());
});
defineGlobal("scheduler", { wait: (ms) => new Promise((r) => _setTimer(false, r, ms, [])) });

const performance = {
  timeOrigin: 0,
  now: () => host("now"),
  mark() {}, measure() {},
  toJSON() { return { timeOrigin: 0 }; },
};
defineGlobal("performance", performance);
defineGlobal("navigator", Object.freeze({ userAgent: "Cloudflare-Workers", hardwareConcurrency: 1, language: "en-US" }));
defineGlobal("self", globalThis);
