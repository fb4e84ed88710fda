// Core of Warren's prelude: the bridge to Go, and helpers shared by every
// Web API file. All prelude files are concatenated inside one function scope
// (see webapi/prelude.go), so names defined here are visible to later files
// and invisible to app code.
const host = globalThis.__host;
delete globalThis.__host;

const _pending = new Map();

// hostAsync starts an asynchronous host operation; Go answers later through
// the "settle" dispatch.
function hostAsync(op, ...args) {
  const id = host(op, ...args);
  return new Promise((resolve, reject) => _pending.set(id, { resolve, reject }));
}

function defineGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

// defineLazyGlobal makes name a global that runs load (which must define it
// with defineGlobal) when first read or written.
function defineLazyGlobal(name, load) {
  Object.defineProperty(globalThis, name, {
    configurable: true, enumerable: false,
    get() {
      load();
      const d = Object.getOwnPropertyDescriptor(globalThis, name);
      return d && "value" in d ? d.value : undefined;
    },
    set(v) { load(); defineGlobal(name, v); },
  });
}

// __loaded holds the names of the Web API families evaluated so far.
const __loaded = new Set();

// Built-ins the prelude relies on, captured before app code runs: app code
// may replace the globals, never these.
const _eval = eval;
const _JSONstringify = JSON.stringify;
const _JSONparse = JSON.parse;
const _String = String;
const _Promise = Promise;
const _promiseThen = Promise.prototype.then;
const _promiseResolve = Promise.resolve;
const _apply = Reflect.apply;

// _when calls ok with what v settles to, as await would (a thenable is
// resolved first), or err with the reason: one promise job for a native
// promise, none of the machinery of an async function.
function _when(v, ok, err) {
  _apply(_promiseThen, _apply(_promiseResolve, _Promise, [v]), [ok, err]);
}

// __load evaluates a lazily loaded family (see webapi/prelude.go). At
// start-up Go runs the families the app names, which register through
// __warren_family_register (removed before app code runs); later, the
// family's source (a function expression) comes from Go and is evaluated
// here with the eval captured above. Nothing passes through a global the
// app could have set.
function __load(name) {
  if (__loaded.has(name)) return;
  __loaded.add(name);
  const body = _eval(host("prelude.source", name));
  body(__core);
}

globalThis.__warren_family_register = (name, body) => {
  if (__loaded.has(name)) return;
  __loaded.add(name);
  body(__core);
};

const _utf8 = {
  encode(s) {
    s = String(s);
    // Fast path for ASCII.
    let ascii = true;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
    if (ascii) { const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; }
    return Uint8Array.fromBase64(host("utf8.encode", s));
  },
  decode(u8, fatal) {
    return host("utf8.decode", u8.toBase64(), !!fatal);
  },
};

// toBytes converts a BufferSource or string into a Uint8Array (a copy for
// views, so the caller may keep it).
function toBytes(x) {
  if (typeof x === "string") return _utf8.encode(x);
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (typeof SharedArrayBuffer !== "undefined" && x instanceof SharedArrayBuffer) return new Uint8Array(x);
  throw new TypeError("expected a string, ArrayBuffer or ArrayBufferView");
}

// _usv converts a value to a USVString: lone surrogates become U+FFFD.
function _usv(s) {
  s = String(s);
  return typeof s.isWellFormed === "function" ? (s.isWellFormed() ? s : s.toWellFormed()) : s;
}

// _brand returns map's record for x, or throws the TypeError that a method
// called on the wrong receiver throws.
function _brand(map, x, what) {
  const s = map.get(x);
  if (!s) throw new TypeError(`Illegal invocation: the receiver is not a ${what}`);
  return s;
}

// _shared holds what lazily evaluated files (see webapi/prelude.go) give to
// the rest of the prelude; their other top-level names stay private.
const _shared = {};

function isBufferSource(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x);
}

function concatBytes(chunks) {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.byteLength; }
  return out;
}

function b64(u8) { return u8.toBase64(); }
function fromB64(s) { return Uint8Array.fromBase64(s); }

function errorInfo(e) {
  // The thrown value is the app's: its getters, toString and Proxy traps may
  // throw. Whatever happens, describe it.
  try {
    if (e instanceof Error || (e !== null && typeof e === "object" && "message" in e)) {
      let name = "Error", message = "", stack = "";
      try { name = _String(e.name || "Error"); } catch {}
      try { message = _String(e.message); } catch { message = "(the error's message could not be read)"; }
      try { stack = _String(e.stack || ""); } catch {}
      return { name, message, stack };
    }
  } catch {}
  let message;
  try { message = _String(e); } catch { message = "(unprintable value)"; }
  return { name: "Error", message: "Uncaught " + message, stack: "" };
}

// errorJSON describes a thrown value for the host, never throwing.
function errorJSON(e) {
  try { return _JSONstringify(errorInfo(e)); }
  catch { return '{"name":"Error","message":"an exception that could not be described"}'; }
}

// Dispatch table: Go calls __dispatch(kind, ...args); each file may add kinds.
const _dispatch = {
  settle(id, ok, value) {
    const p = _pending.get(id);
    if (!p) return;
    _pending.delete(id);
    if (ok) p.resolve(value);
    else {
      let err;
      try {
        const info = JSON.parse(value);
        const C = globalThis[info.name];
        err = typeof C === "function" && C.prototype instanceof Error ? new C(info.message) : new Error(info.message);
        if (info.name && err.name !== info.name) { try { err.name = info.name; } catch {} }
        if (info.remoteStack) err.stack = info.remoteStack;
      } catch { err = new Error(String(value)); }
      p.reject(err);
    }
  },
};

// At start-up Go evaluates the families the app's code needs, each followed

// A fixed number of parameters, not rest and spread: this is called for
// every event, and the spread costs more than the rest of the call.
globalThis.__dispatch = function (kind, a, b, c, d, e, f, g, h) {
  const fn = _dispatch[kind];
  if (!fn) throw new Error("unknown dispatch " + kind);
  return fn(a, b, c, d, e, f, g, h);
};
