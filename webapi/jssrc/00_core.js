// Core of Warren's prelude: the bridge to Go, and helpers shared by every
// Web API file. All prelude files are concatenated inside one function scope
// (see webapi/prelude.go), so names defined here are visible to later files
// and invisible to app code.
const callOp = globalThis.__op;
delete globalThis.__op;

// ---- primordials ----
// The built-ins the prelude uses, captured here, before app code runs. App
// code may replace globals and the methods of built-in prototypes and still
// gets its requests answered, because the prelude never looks a built-in up
// on a global or a prototype after start-up:
// - constructors are constants of this scope that shadow the globals
//   (Map, Promise, Uint8Array, ...);
// - methods are called through uncurried copies (ArrayPrototypeJoin(a, ","),
//   not a.join(",")), statics through copies (ObjectKeys, JSONParse);
// - arrays are walked by index and grown with a[a.length] = v: for...of,
//   spread and array destructuring call Array.prototype[Symbol.iterator];
// - the prelude's own maps and sets are SafeMap, SafeSet, SafeWeakMap and
//   SafeWeakSet, whose methods are own copies the app cannot reach;
// - regular expressions are run with RegExpPrototypeExec (not test, which
//   looks exec up), and those the prelude replaces or splits with are
//   hardened by _re (their exec and flags are own properties);
// - promises are chained with PromisePrototypeThen and made with
//   PromiseResolve and PromiseReject;
// - arrays are copied with ArrayPrototypeToSpliced (not slice, map or
//   splice, which make their result through the array's constructor and
//   Symbol.species), bytes with _copyBytes and _subBytes (not the typed
//   array slice and subarray, which do the same), and the length, buffer
//   and offsets of typed arrays are read through captured getters;
// - instanceof, which calls a class's own Symbol.hasInstance (an app can
//   define one), is not used to tell the prelude's objects and the values
//   it handles apart: its classes have brand checks (_isResponse,
//   _isHeaders, ...: #field in x), built-ins go through an internal slot
//   (_isUint8Array) or FunctionPrototypeSymbolHasInstance (_is,
//   _isArrayBuffer). Only console formatting still uses instanceof.
// The prelude's own classes are treated the same way: their prototypes are
// the app's too, so the runtime never calls their methods or getters on a
// value (res.status, req.headers, stream.getReader()); it reads private
// fields through accessors set in the classes' static blocks (_resStatus,
// _reqHeaders, _headersGet) or calls module-level functions (_consume,
// _shared.streamReader). Their internals are private fields or module
// functions, never underscore-named members an app could reach.
// App values (a Headers init, a body, a thrown value) stay the app's: using
// them may run its code, as the standards say. Names are one per line: the
// lazily evaluated families, which may load after app code tampered with
// built-ins, receive the top-level consts of the core that they mention
// (webapi/prelude.go) and capture nothing themselves. Each capture costs
// memory in every isolate; capture only what the prelude uses.
const Object = globalThis.Object;
const Array = globalThis.Array;
const String = globalThis.String;
const Number = globalThis.Number;
const Boolean = globalThis.Boolean;
const Symbol = globalThis.Symbol;
const BigInt = globalThis.BigInt;
const Promise = globalThis.Promise;
const Map = globalThis.Map;
const Set = globalThis.Set;
const WeakMap = globalThis.WeakMap;
const WeakSet = globalThis.WeakSet;
const Error = globalThis.Error;
const TypeError = globalThis.TypeError;
const RangeError = globalThis.RangeError;
const SyntaxError = globalThis.SyntaxError;
const Uint8Array = globalThis.Uint8Array;
const ArrayBuffer = globalThis.ArrayBuffer;
const SharedArrayBuffer = globalThis.SharedArrayBuffer;
const DataView = globalThis.DataView;
const Date = globalThis.Date;
const RegExp = globalThis.RegExp;
const Proxy = globalThis.Proxy;
const Reflect = globalThis.Reflect;
const _apply = Reflect.apply;
const _uncurry = (f) => _apply(globalThis.Function.prototype.bind, globalThis.Function.prototype.call, [f]);
const ReflectOwnKeys = Reflect.ownKeys;
const JSONParse = globalThis.JSON.parse;
const JSONStringify = globalThis.JSON.stringify;
const ObjectKeys = Object.keys;
const ObjectFreeze = Object.freeze;
const ObjectCreate = Object.create;
const ObjectAssign = Object.assign;
const ObjectIs = Object.is;
const ObjectDefineProperty = Object.defineProperty;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const ObjectHasOwn = Object.hasOwn;
const ObjectPrototype = Object.prototype;
const ObjectPrototypeToString = _uncurry(Object.prototype.toString);
const FunctionPrototypeToString = _uncurry(globalThis.Function.prototype.toString);
const ArrayIsArray = Array.isArray;
const ArrayFrom = Array.from;
const ArrayPrototypeJoin = _uncurry(Array.prototype.join);
const ArrayPrototypeToSpliced = _uncurry(Array.prototype.toSpliced);
const ArrayPrototypeIncludes = _uncurry(Array.prototype.includes);
const ArrayPrototypeIndexOf = _uncurry(Array.prototype.indexOf);
const ArrayPrototypeSort = _uncurry(Array.prototype.sort);
const ArrayPrototypeShift = _uncurry(Array.prototype.shift);
const StringFromCharCode = String.fromCharCode;
const StringPrototypeCharCodeAt = _uncurry(String.prototype.charCodeAt);
const StringPrototypeToLowerCase = _uncurry(String.prototype.toLowerCase);
const StringPrototypeToUpperCase = _uncurry(String.prototype.toUpperCase);
const StringPrototypeSlice = _uncurry(String.prototype.slice);
const StringPrototypeIndexOf = _uncurry(String.prototype.indexOf);
const StringPrototypeStartsWith = _uncurry(String.prototype.startsWith);
const StringPrototypeEndsWith = _uncurry(String.prototype.endsWith);
const StringPrototypeSplit = _uncurry(String.prototype.split);
const StringPrototypeReplace = _uncurry(String.prototype.replace);
const StringPrototypeTrim = _uncurry(String.prototype.trim);
const StringPrototypeTrimEnd = _uncurry(String.prototype.trimEnd);
const StringPrototypeIsWellFormed = _uncurry(String.prototype.isWellFormed);
const StringPrototypeToWellFormed = _uncurry(String.prototype.toWellFormed);
const StringPrototypeToString = _uncurry(String.prototype.toString);
const NumberIsInteger = Number.isInteger;
const NumberIsSafeInteger = Number.isSafeInteger;
const NumberIsFinite = Number.isFinite;
const NumberIsNaN = Number.isNaN;
const NumberPrototypeToFixed = _uncurry(Number.prototype.toFixed);
const BigIntPrototypeToString = _uncurry(BigInt.prototype.toString);
const SymbolPrototypeToString = _uncurry(Symbol.prototype.toString);
const SymbolIterator = Symbol.iterator;
const SymbolAsyncIterator = Symbol.asyncIterator;
const SymbolToPrimitive = Symbol.toPrimitive;
const SymbolToStringTag = Symbol.toStringTag;
const DatePrototypeGetTime = _uncurry(Date.prototype.getTime);
const DatePrototypeToISOString = _uncurry(Date.prototype.toISOString);
const _RegExpPrototype = { __proto__: null, exec: RegExp.prototype.exec, [Symbol.replace]: RegExp.prototype[Symbol.replace], [Symbol.split]: RegExp.prototype[Symbol.split] };
const SymbolReplace = Symbol.replace;
const SymbolSplit = Symbol.split;
const RegExpPrototypeExec = _uncurry(RegExp.prototype.exec);
const RegExpPrototypeSource = _uncurry(ObjectGetOwnPropertyDescriptor(RegExp.prototype, "source").get);
const RegExpPrototypeFlags = _uncurry(ObjectGetOwnPropertyDescriptor(RegExp.prototype, "flags").get);
const _promiseResolve = Promise.resolve;
const _promiseReject = Promise.reject;
const PromiseResolve = (v) => _apply(_promiseResolve, Promise, [v]);
const PromiseReject = (e) => _apply(_promiseReject, Promise, [e]);
const PromisePrototypeThen = _uncurry(Promise.prototype.then);
const ArrayBufferIsView = ArrayBuffer.isView;
const ArrayBufferPrototypeGetByteLength = _uncurry(ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get);
const _TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
const TypedArrayPrototypeSet = _uncurry(_TypedArrayPrototype.set);
const TypedArrayPrototypeIndexOf = _uncurry(_TypedArrayPrototype.indexOf);
const TypedArrayPrototypeGetLength = _uncurry(ObjectGetOwnPropertyDescriptor(_TypedArrayPrototype, "length").get);
const TypedArrayPrototypeGetByteLength = _uncurry(ObjectGetOwnPropertyDescriptor(_TypedArrayPrototype, "byteLength").get);
const TypedArrayPrototypeGetByteOffset = _uncurry(ObjectGetOwnPropertyDescriptor(_TypedArrayPrototype, "byteOffset").get);
const TypedArrayPrototypeGetBuffer = _uncurry(ObjectGetOwnPropertyDescriptor(_TypedArrayPrototype, "buffer").get);
const TypedArrayPrototypeGetSymbolToStringTag = _uncurry(ObjectGetOwnPropertyDescriptor(_TypedArrayPrototype, Symbol.toStringTag).get);
const DataViewPrototypeGetBuffer = _uncurry(ObjectGetOwnPropertyDescriptor(DataView.prototype, "buffer").get);
const DataViewPrototypeGetByteOffset = _uncurry(ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteOffset").get);
const DataViewPrototypeGetByteLength = _uncurry(ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteLength").get);
const FunctionPrototypeSymbolHasInstance = _uncurry(globalThis.Function.prototype[Symbol.hasInstance]);
const MathMin = globalThis.Math.min;
const MathMax = globalThis.Math.max;
const MathFloor = globalThis.Math.floor;
const MathTrunc = globalThis.Math.trunc;
const MathRandom = globalThis.Math.random;
const DateNow = Date.now;
const DecodeURIComponent = decodeURIComponent;
const _MapPrototypeForEach = _uncurry(Map.prototype.forEach);
const _MapPrototypeGetSize = _uncurry(ObjectGetOwnPropertyDescriptor(Map.prototype, "size").get);
const _SetPrototypeForEach = _uncurry(Set.prototype.forEach);
const _SetPrototypeGetSize = _uncurry(ObjectGetOwnPropertyDescriptor(Set.prototype, "size").get);
const Uint8ArrayFromBase64 = Uint8Array.fromBase64;
const Uint8ArrayPrototypeToBase64 = _uncurry(Uint8Array.prototype.toBase64);

// _safeClass returns a subclass of a built-in collection whose prototype
// holds its own copies of the built-in methods the prelude uses: its
// collections keep working when the app replaces Map.prototype.get and the
// like. (Only those: each method captured costs memory in every isolate.)
function _safeClass(Base, names) {
  // An explicit constructor: a default one would spread its arguments.
  const C = class extends Base { constructor() { super(); } };
  for (let i = 0; i < names.length; i++) {
    const k = names[i];
    ObjectDefineProperty(C.prototype, k, ObjectGetOwnPropertyDescriptor(Base.prototype, k));
  }
  return C;
}
const SafeMap = _safeClass(Map, ["get", "set", "has", "delete", "size"]);
const SafeSet = _safeClass(Set, ["add", "has", "delete", "size", "forEach"]);
const SafeWeakMap = _safeClass(WeakMap, ["get", "set", "has", "delete"]);
const SafeWeakSet = _safeClass(WeakSet, ["add", "has", "delete"]);

// _re hardens a regular expression of the prelude for String replace and
// split, which call its exec and read its flags through the prototype.
function _re(re) {
  ObjectDefineProperty(re, "exec", { __proto__: null, value: _RegExpPrototype.exec });
  ObjectDefineProperty(re, "flags", { __proto__: null, value: RegExpPrototypeFlags(re) });
  ObjectDefineProperty(re, SymbolReplace, { __proto__: null, value: _RegExpPrototype[SymbolReplace] });
  ObjectDefineProperty(re, SymbolSplit, { __proto__: null, value: _RegExpPrototype[SymbolSplit] });
  return re;
}
// _concat is a new array of the items of arrays a and b (concat without
// species or isConcatSpreadable).
function _concat(a, b) {
  const out = [];
  for (let i = 0; i < a.length; i++) out[out.length] = a[i];
  for (let i = 0; i < b.length; i++) out[out.length] = b[i];
  return out;
}

// _test is re.test(s) without looking exec up.
function _test(re, s) { return RegExpPrototypeExec(re, s) !== null; }

const _pending = new SafeMap();

// callOpAsync starts an asynchronous operation; Go answers later through
// the "settle" dispatch.
function callOpAsync(op /* , ...args */) {
  const id = _apply(callOp, undefined, arguments);
  return new Promise((resolve, reject) => { _pending.set(id, { __proto__: null, resolve, reject }); });
}

// _own holds what defineGlobal defined, by name, and _lazy the loaders of
// the lazily defined globals: the prelude reaches its own classes through
// _global (the global of that name may have been replaced by the app).
const _own = new SafeMap();
const _lazy = new SafeMap();

function defineGlobal(name, value) {
  if (!_own.has(name)) _own.set(name, value);
  ObjectDefineProperty(globalThis, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false });
}

// _global returns the prelude's own global name (loading its family first).
function _global(name) {
  let v = _own.get(name);
  if (v === undefined) {
    const load = _lazy.get(name);
    if (load !== undefined) { load(); v = _own.get(name); }
  }
  return v;
}

// defineLazyGlobal makes name a global that runs load (which must define it
// with defineGlobal) when first read or written.
function defineLazyGlobal(name, load) {
  _lazy.set(name, load);
  ObjectDefineProperty(globalThis, name, {
    __proto__: null,
    configurable: true, enumerable: false,
    get() {
      load();
      const d = ObjectGetOwnPropertyDescriptor(globalThis, name);
      return d && "value" in d ? d.value : undefined;
    },
    set(v) { load(); defineGlobal(name, v); },
  });
}

// __loaded holds the names of the Web API families evaluated so far.
const __loaded = new SafeSet();

// Older names of primordials (see the top of this file).
const _eval = eval;
const _JSONstringify = JSONStringify;
const _JSONparse = JSONParse;
const _String = String;

// _when calls ok with what v settles to, as await would (a thenable is
// resolved first), or err with the reason: one promise job for a native
// promise, none of the machinery of an async function.
function _when(v, ok, err) {
  PromisePrototypeThen(PromiseResolve(v), ok, err);
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
  const body = _eval(callOp("prelude.source", name));
  body(__core);
}

globalThis.__warren_family_register = (name, body) => {
  if (__loaded.has(name)) return;
  __loaded.add(name);
  body(__core);
};

const _nonAscii = /[^\x00-\x7f]/;
const _utf8 = {
  encode(s) {
    s = String(s);
    // Fast path for ASCII.
    if (!_test(_nonAscii, s)) { const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = StringPrototypeCharCodeAt(s, i); return u; }
    return Uint8ArrayFromBase64(callOp("utf8.encode", s));
  },
  decode(u8, fatal) {
    return callOp("utf8.decode", Uint8ArrayPrototypeToBase64(u8), !!fatal);
  },
};

// _isUint8Array reports whether x is a Uint8Array (or an instance of a
// subclass), from its internal slot.
function _isUint8Array(x) { return TypedArrayPrototypeGetSymbolToStringTag(x) === "Uint8Array"; }

// _isArrayBuffer is x instanceof ArrayBuffer without the constructor's
// Symbol.hasInstance.
function _isArrayBuffer(x) { return FunctionPrototypeSymbolHasInstance(ArrayBuffer, x); }

// toBytes converts a BufferSource or string into a Uint8Array: a view of the
// same memory (not a copy) for buffers and views.
function toBytes(x) {
  if (typeof x === "string") return _utf8.encode(x);
  const tag = TypedArrayPrototypeGetSymbolToStringTag(x);
  if (tag === "Uint8Array") return x;
  if (tag !== undefined) return new Uint8Array(TypedArrayPrototypeGetBuffer(x), TypedArrayPrototypeGetByteOffset(x), TypedArrayPrototypeGetByteLength(x));
  if (ArrayBufferIsView(x)) return new Uint8Array(DataViewPrototypeGetBuffer(x), DataViewPrototypeGetByteOffset(x), DataViewPrototypeGetByteLength(x));
  if (_isArrayBuffer(x)) return new Uint8Array(x);
  if (SharedArrayBuffer !== undefined && FunctionPrototypeSymbolHasInstance(SharedArrayBuffer, x)) return new Uint8Array(x);
  throw new TypeError("expected a string, ArrayBuffer or ArrayBufferView");
}

// _copyBytes is a new Uint8Array holding a copy of a BufferSource's bytes.
// (new Uint8Array of a Uint8Array copies without looking anything up.)
function _copyBytes(x) { return new Uint8Array(toBytes(x)); }

// _subBytes is u8.subarray(start, end) and _sliceBytes u8.slice(start, end)
// for a Uint8Array u8, without its constructor or Symbol.species: a view of
// the same memory and a copy.
function _subBytes(u8, start, end) {
  const n = TypedArrayPrototypeGetLength(u8);
  const s = start === undefined ? 0 : start < 0 ? MathMax(n + start, 0) : MathMin(start, n);
  let e = end === undefined ? n : end < 0 ? MathMax(n + end, 0) : MathMin(end, n);
  if (e < s) e = s;
  return new Uint8Array(TypedArrayPrototypeGetBuffer(u8), TypedArrayPrototypeGetByteOffset(u8) + s, e - s);
}
function _sliceBytes(u8, start, end) { return new Uint8Array(start === undefined && end === undefined ? u8 : _subBytes(u8, start, end)); }

// _bufferOf is an ArrayBuffer of exactly u8's bytes: its own buffer when
// u8 covers all of it, else a copy.
function _bufferOf(u8) {
  const buf = TypedArrayPrototypeGetBuffer(u8);
  if (TypedArrayPrototypeGetByteOffset(u8) === 0 && ArrayBufferPrototypeGetByteLength(buf) === TypedArrayPrototypeGetByteLength(u8)) return buf;
  return TypedArrayPrototypeGetBuffer(new Uint8Array(u8));
}

// _copyArray is a copy of an array (slice() without species).
function _copyArray(a) { return ArrayPrototypeToSpliced(a, 0, 0); }

// _usv converts a value to a USVString: lone surrogates become U+FFFD.
function _usv(s) {
  s = String(s);
  return StringPrototypeIsWellFormed(s) ? s : StringPrototypeToWellFormed(s);
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
const _shared = { __proto__: null };

function isBufferSource(x) {
  return ArrayBufferIsView(x) || _isArrayBuffer(x);
}

// concatBytes joins Uint8Arrays into a new one.
function concatBytes(chunks) {
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += TypedArrayPrototypeGetByteLength(chunks[i]);
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < chunks.length; i++) { const c = chunks[i]; TypedArrayPrototypeSet(out, c, o); o += TypedArrayPrototypeGetByteLength(c); }
  return out;
}

function b64(u8) { return Uint8ArrayPrototypeToBase64(u8); }
function fromB64(s) { return Uint8ArrayFromBase64(s); }

function errorInfo(e) {
  // The thrown value is the app's: its getters, toString and Proxy traps may
  // throw. Whatever happens, describe it.
  try {
    if (_is(e, Error) || (e !== null && typeof e === "object" && "message" in e)) {
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
  __proto__: null,
  settle(id, ok, value) {
    const p = _pending.get(id);
    if (!p) return;
    _pending.delete(id);
    if (ok) p.resolve(value);
    else {
      let err;
      try {
        const info = JSONParse(value);
        err = new (_errorClass(info.name))(info.message);
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
