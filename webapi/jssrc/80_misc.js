// console, timers, queueMicrotask, performance, navigator.

const _classSource = /^class\b/;
const _identifier = /^[A-Za-z_$][\w$]*$/;

// _fmt formats a value for the console. Values are the app's: whatever
// reading them throws, the output is "[object]".
function _fmt(v, depth, seen) {
  if (typeof v === "string") return depth === 0 ? v : JSONStringify(v);
  if (typeof v === "bigint") return v + "n";
  if (typeof v === "symbol") return SymbolPrototypeToString(v);
  if (typeof v === "function") {
    let src = "";
    try { src = FunctionPrototypeToString(v); } catch {}
    return v.prototype && _test(_classSource, src) ? `[class ${v.name || "(anonymous)"}]` : `[Function: ${v.name || "(anonymous)"}]`;
  }
  if (typeof v === "number") return ObjectIs(v, -0) ? "-0" : String(v);
  if (v === null || typeof v !== "object") return String(v);
  if (seen.has(v)) return "[Circular]";
  if (depth > 4) return ArrayIsArray(v) ? "[Array]" : "[Object]";
  seen.add(v);
  try {
    if (v instanceof Error) return v.stack ? StringPrototypeTrimEnd(`${v.name}: ${v.message}\n${v.stack}`) : `${v.name}: ${v.message}`;
    if (ArrayIsArray(v)) {
      const n = MathMin(v.length, 100), parts = [];
      for (let i = 0; i < n; i++) parts[i] = _fmt(v[i], depth + 1, seen);
      return "[ " + ArrayPrototypeJoin(parts, ", ") + (v.length > 100 ? `, ... ${v.length - 100} more items` : "") + " ]";
    }
    if (v instanceof Map) {
      const parts = [];
      _MapPrototypeForEach(v, (x, k) => { if (parts.length < 100) parts[parts.length] = _fmt(k, depth + 1, seen) + " => " + _fmt(x, depth + 1, seen); });
      return `Map(${_MapPrototypeGetSize(v)}) { ` + ArrayPrototypeJoin(parts, ", ") + " }";
    }
    if (v instanceof Set) {
      const parts = [];
      _SetPrototypeForEach(v, (x) => { if (parts.length < 100) parts[parts.length] = _fmt(x, depth + 1, seen); });
      return `Set(${_SetPrototypeGetSize(v)}) { ` + ArrayPrototypeJoin(parts, ", ") + " }";
    }
    if (v instanceof Date) return NumberIsNaN(DatePrototypeGetTime(v)) ? "Invalid Date" : DatePrototypeToISOString(v);
    if (v instanceof RegExp) return `/${RegExpPrototypeSource(v)}/${RegExpPrototypeFlags(v)}`;
    if (ArrayBufferIsView(v) && !(v instanceof DataView)) {
      const n = MathMin(v.length, 50), parts = [];
      for (let i = 0; i < n; i++) parts[i] = String(v[i]);
      return `${v.constructor.name}(${v.length}) [ ${ArrayPrototypeJoin(parts, ", ")}${v.length > 50 ? ", ..." : ""} ]`;
    }
    if (v instanceof ArrayBuffer) return `ArrayBuffer { byteLength: ${ArrayBufferPrototypeGetByteLength(v)} }`;
    if (_isHeaders(v)) {
      const o = {}, e = _headersEntries(v);
      for (let i = 0; i < e.length; i++) o[e[i][0]] = e[i][1];
      return "Headers " + _fmt(o, depth, seen);
    }
    if (_isRequest(v)) return `Request { method: ${JSONStringify(_reqMethod(v))}, url: ${JSONStringify(_reqUrl(v))} }`;
    if (_isResponse(v)) return `Response { status: ${_resStatus(v)} }`;
    // An unloaded family cannot have made v: check before touching (loading) it.
    const href = __loaded.has("url") ? _shared.urlHrefOf(v) : undefined;
    if (href !== undefined) return `URL ${JSONStringify(href)}`;
    const proto = ObjectGetPrototypeOf(v);
    const name = proto && proto !== ObjectPrototype && proto.constructor ? proto.constructor.name + " " : "";
    const keys = ObjectKeys(v);
    if (keys.length === 0) return name + "{}";
    const n = MathMin(keys.length, 100), parts = [];
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      parts[i] = (_test(_identifier, k) ? k : JSONStringify(k)) + ": " + _fmt(v[k], depth + 1, seen);
    }
    return name + "{ " + ArrayPrototypeJoin(parts, ", ") + (keys.length > 100 ? ", ..." : "") + " }";
  } catch (e) {
    return "[object]";
  } finally {
    seen.delete(v);
  }
}

const _formatDirective = /%[sdifoOjc%]/;
const _formatDirectives = _re(/%[sdifoOjc%]/g);
const _parseInt = parseInt;
const _parseFloat = parseFloat;

function _format(args) {
  let out = "";
  let i = 0;
  if (typeof args[0] === "string" && _test(_formatDirective, args[0]) && args.length > 1) {
    i = 1;
    out = StringPrototypeReplace(args[0], _formatDirectives, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case "%s": return typeof a === "string" ? a : _fmt(a, 1, new SafeSet());
        case "%d": case "%i": return String(_parseInt(a, 10));
        case "%f": return String(_parseFloat(a));
        case "%c": return "";
        default: return _fmt(a, 1, new SafeSet());
      }
    });
    if (i < args.length) out += " ";
  }
  const parts = [];
  for (; i < args.length; i++) parts[parts.length] = _fmt(args[i], 0, new SafeSet());
  return out + ArrayPrototypeJoin(parts, " ");
}

const _counts = new SafeMap();
const _timersLabel = new SafeMap();
const console = {};
const _levels = ["log", "info", "warn", "error", "debug"];
for (let i = 0; i < _levels.length; i++) {
  const level = _levels[i];
  console[level] = (...args) => { callOp("log", level, _format(args)); };
}
console.trace = (...args) => callOp("log", "debug", _format(_concat(["Trace:"], args)) + "\n" + (new Error().stack || ""));
console.dir = (v) => callOp("log", "log", _fmt(v, 0, new SafeSet()));
console.table = (v) => callOp("log", "log", _fmt(v, 0, new SafeSet()));
console.assert = (cond, ...args) => { if (!cond) callOp("log", "error", "Assertion failed" + (args.length ? ": " + _format(args) : "")); };
console.count = (label = "default") => { const n = (_counts.get(label) || 0) + 1; _counts.set(label, n); callOp("log", "log", `${label}: ${n}`); };
console.countReset = (label = "default") => _counts.delete(label);
console.time = (label = "default") => { _timersLabel.set(label, callOp("now")); };
console.timeEnd = (label = "default") => { const t = _timersLabel.get(label); _timersLabel.delete(label); if (t !== undefined) callOp("log", "log", `${label}: ${NumberPrototypeToFixed(callOp("now") - t, 3)}ms`); };
console.timeLog = (label = "default", ...args) => { const t = _timersLabel.get(label); if (t !== undefined) callOp("log", "log", `${label}: ${NumberPrototypeToFixed(callOp("now") - t, 3)}ms` + (args.length ? " " + _format(args) : "")); };
console.group = console.groupCollapsed = (...args) => { if (args.length) callOp("log", "log", _format(args)); };
console.groupEnd = () => {};
defineGlobal("console", console);

// ---- timers: Go owns the clock; JS keeps the callbacks ----
const _timers = new SafeMap();
function _setTimer(repeat, fn, ms, args) {
  if (typeof fn !== "function") throw new TypeError("The callback must be a function; strings are not evaluated.");
  ms = Number(ms);
  if (!(ms >= 0)) ms = 0;
  const id = callOp("timer.set", MathMin(ms, 2147483647), repeat);
  _timers.set(id, { __proto__: null, fn, args, repeat });
  return id;
}
function _clearTimer(id) {
  if (typeof id === "object" && id !== null && typeof id[SymbolToPrimitive] === "function") id = id[SymbolToPrimitive]();
  if (typeof id !== "number" || !_timers.has(id)) return;
  _timers.delete(id);
  callOp("timer.clear", id);
}
_dispatch.timer = (id) => {
  const t = _timers.get(id);
  if (!t) return;
  if (!t.repeat) _timers.delete(id);
  _apply(t.fn, globalThis, t.args);
};
defineGlobal("setTimeout", (fn, ms, ...args) => _setTimer(false, fn, ms, args));
defineGlobal("setInterval", (fn, ms, ...args) => _setTimer(true, fn, ms, args));
defineGlobal("clearTimeout", _clearTimer);
defineGlobal("clearInterval", _clearTimer);
defineGlobal("queueMicrotask", (fn) => {
  if (typeof fn !== "function") throw new TypeError("queueMicrotask requires a function");
  _when(undefined, () => { fn(); });
});
defineGlobal("scheduler", { wait: (ms) => new Promise((r) => { _setTimer(false, r, ms, []); }) });

const performance = {
  timeOrigin: 0,
  now: () => callOp("now"),
  mark() {}, measure() {},
  toJSON() { return { timeOrigin: 0 }; },
};
defineGlobal("performance", performance);
defineGlobal("navigator", ObjectFreeze({ userAgent: "Cloudflare-Workers", hardwareConcurrency: 1, language: "en-US" }));
defineGlobal("self", globalThis);
