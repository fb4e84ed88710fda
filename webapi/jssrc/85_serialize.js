// Warren's structured-clone value format. Values cross isolates, RPC and
// storage as JSON text: plain JSON values stay as they are; everything else is
// an object with a "$t" tag (see docs/ARCHITECTURE.md, "Value format").
// Objects and arrays are numbered in visiting order so that shared and
// circular references survive ({"$t":"ref","v":n}).

const _capSym = Symbol("warren.capability");

class DataCloneError extends Error {
  constructor(msg) { super(msg); this.name = "DataCloneError"; }
}

const _typedNames = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "DataView"];
const _typed = [];
for (let i = 0; i < _typedNames.length; i++) _typed[i] = globalThis[_typedNames[i]];
const _WeakRef = globalThis.WeakRef;
const _MapPrototypeSet = _uncurry(Map.prototype.set);
const _SetPrototypeAdd = _uncurry(Set.prototype.add);
const _BooleanPrototypeValueOf = _uncurry(Boolean.prototype.valueOf);
const _NumberPrototypeValueOf = _uncurry(Number.prototype.valueOf);
const _errorClasses = { __proto__: null, Error, TypeError, RangeError, SyntaxError, ReferenceError: globalThis.ReferenceError, EvalError: globalThis.EvalError, URIError: globalThis.URIError, AggregateError: globalThis.AggregateError, InternalError: globalThis.InternalError };

// _errorClass is the built-in error class of that name, or Error (for
// DOMException and the like, which the decoded error names).
function _errorClass(name) {
  const C = typeof name === "string" ? _errorClasses[name] : undefined;
  return typeof C === "function" ? C : Error;
}

function _encodeValue(value, opts) {
  const seen = new SafeMap();
  let next = 0;
  const allowCaps = !!(opts && opts.caps);
  function enc(v, depth) {
    if (depth > 1000) throw new DataCloneError("value is nested too deeply to clone (more than 1000 levels)");
    switch (typeof v) {
      case "string": case "boolean": return v;
      case "number":
        if (NumberIsFinite(v)) return ObjectIs(v, -0) ? { $t: "num", v: "-0" } : v;
        return { $t: "num", v: String(v) };
      case "undefined": return { $t: "undef" };
      case "bigint": return { $t: "bigint", v: BigIntPrototypeToString(v) };
      case "symbol": throw new DataCloneError("Symbol values cannot be cloned");
      case "function":
        if (v[_capSym] !== undefined && allowCaps) return { $t: "cap", v: v[_capSym] };
        throw new DataCloneError(`function ${v.name || "(anonymous)"} could not be cloned; pass data, or an RpcTarget/stub where RPC allows it`);
    }
    if (v === null) return null;
    if (seen.has(v)) return { $t: "ref", v: seen.get(v) };
    if (v[_capSym] !== undefined) {
      if (allowCaps) return { $t: "cap", v: v[_capSym] };
      throw new DataCloneError("a stub or binding cannot be stored or cloned here");
    }
    const id = next++;
    seen.set(v, id);
    if (ArrayIsArray(v)) {
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = enc(v[i], depth + 1);
      return out;
    }
    const proto = ObjectGetPrototypeOf(v);
    // A plain object (the common case) is none of the classes below, which
    // are told apart by _is (instanceof without the classes' own
    // Symbol.hasInstance, which the app may define).
    if (proto !== ObjectPrototype && proto !== null) {
      // An invalid Date's time value is NaN, which JSON writes as null.
      if (_is(v, Date)) return { $t: "date", v: DatePrototypeGetTime(v) };
      if (_is(v, RegExp)) return { $t: "regexp", src: RegExpPrototypeSource(v), flags: RegExpPrototypeFlags(v) };
      if (_is(v, Map)) {
        const out = [];
        _MapPrototypeForEach(v, (x, k) => { out[out.length] = [enc(k, depth + 1), enc(x, depth + 1)]; });
        return { $t: "map", v: out };
      }
      if (_is(v, Set)) {
        const out = [];
        _SetPrototypeForEach(v, (x) => { out[out.length] = enc(x, depth + 1); });
        return { $t: "set", v: out };
      }
      if (_isArrayBuffer(v)) return { $t: "ab", v: Uint8ArrayPrototypeToBase64(new Uint8Array(v)) };
      if (ArrayBufferIsView(v)) {
        let name = "Uint8Array";
        for (let i = 0; i < _typedNames.length; i++) if (_is(v, _typed[i])) { name = _typedNames[i]; break; }
        return { $t: "view", k: name, v: Uint8ArrayPrototypeToBase64(toBytes(v)) };
      }
      if (_is(v, Error)) {
        return { $t: "error", name: String(v.name), message: String(v.message), stack: String(v.stack || "") };
      }
      if (_is(v, Boolean) || _is(v, Number) || _is(v, String)) return { $t: "boxed", v: enc(_unbox(v), depth + 1) };
      // An unloaded family cannot have made v: check before touching (loading) it.
      if (__loaded.has("blob_formdata") && _shared.isBlob(v)) return { $t: "blob", type: _shared.blobType(v), v: Uint8ArrayPrototypeToBase64(_shared.blobBytes(v)) };
      const name = (proto && proto.constructor && proto.constructor.name) || "object";
      if (_is(v, Promise) || _is(v, WeakMap) || _is(v, WeakSet) || (typeof _WeakRef === "function" && _is(v, _WeakRef))) {
        throw new DataCloneError(`${name} could not be cloned`);
      }
      if (!(opts && opts.lossy)) throw new DataCloneError(`an instance of class ${name} could not be cloned; only plain objects, arrays and built-in value types can be (make ${name} extend RpcTarget to pass it by reference over RPC, or send a plain object)`);
    }
    const out = {};
    const keys = ObjectKeys(v);
    for (let i = 0; i < keys.length; i++) out[keys[i]] = enc(v[keys[i]], depth + 1);
    if (ObjectHasOwn(out, "$t")) return { $t: "obj", v: out };
    return out;
  }
  return JSONStringify(enc(value, 0));
}

// _unbox is the primitive in a Boolean, Number or String object.
function _unbox(v) {
  if (_is(v, Boolean)) return _BooleanPrototypeValueOf(v);
  if (_is(v, Number)) return _NumberPrototypeValueOf(v);
  return StringPrototypeToString(v);
}

function _decodeValue(text, capFactory) {
  if (text === undefined || text === null || text === "") return undefined;
  const root = JSONParse(text);
  const refs = [];
  function dec(x) {
    if (x === null || typeof x !== "object") return x;
    if (ArrayIsArray(x)) {
      const out = [];
      refs[refs.length] = out;
      for (let i = 0; i < x.length; i++) out[i] = dec(x[i]);
      return out;
    }
    const t = ObjectHasOwn(x, "$t") ? x.$t : undefined;
    if (t === undefined) {
      const out = {};
      refs[refs.length] = out;
      const keys = ObjectKeys(x);
      for (let i = 0; i < keys.length; i++) out[keys[i]] = dec(x[keys[i]]);
      return out;
    }
    switch (t) {
      case "num": return Number(x.v);
      case "undef": return undefined;
      case "bigint": return BigInt(x.v);
      case "ref": return refs[x.v];
      case "cap": if (capFactory) return capFactory(x.v); throw new DataCloneError("unexpected capability in value");
    }
    const slot = refs.length;
    refs[slot] = null;
    let out;
    switch (t) {
      case "date": out = new Date(x.v === null ? NaN : x.v); break;
      case "regexp": out = new RegExp(x.src, x.flags); break;
      case "map": {
        out = new Map(); refs[slot] = out;
        for (let i = 0; i < x.v.length; i++) _MapPrototypeSet(out, dec(x.v[i][0]), dec(x.v[i][1]));
        return out;
      }
      case "set": {
        out = new Set(); refs[slot] = out;
        for (let i = 0; i < x.v.length; i++) _SetPrototypeAdd(out, dec(x.v[i]));
        return out;
      }
      case "ab": out = TypedArrayPrototypeGetBuffer(Uint8ArrayFromBase64(x.v)); break;
      case "view": {
        const bytes = Uint8ArrayFromBase64(x.v);
        const k = ArrayPrototypeIndexOf(_typedNames, x.k);
        const C = k >= 0 ? _typed[k] : Uint8Array;
        const buf = TypedArrayPrototypeGetBuffer(bytes);
        out = C === DataView ? new DataView(buf) : new C(buf, 0, TypedArrayPrototypeGetByteLength(bytes) / (C.BYTES_PER_ELEMENT || 1));
        break;
      }
      case "error": {
        const C = _errorClass(x.name);
        out = new C(x.message);
        if (out.name !== x.name) { try { out.name = x.name; } catch {} }
        if (x.stack) out.stack = x.stack;
        break;
      }
      case "boxed": out = Object(dec(x.v)); break;
      case "blob": out = new (_global("Blob"))([Uint8ArrayFromBase64(x.v)], { __proto__: null, type: x.type }); break;
      case "obj": {
        out = {}; refs[slot] = out;
        const keys = ObjectKeys(x.v);
        for (let i = 0; i < keys.length; i++) out[keys[i]] = dec(x.v[keys[i]]);
        return out;
      }
      default: throw new DataCloneError("unknown value tag " + JSONStringify(t));
    }
    refs[slot] = out;
    return out;
  }
  return dec(root);
}

function structuredClone(value, options) {
  if (arguments.length === 0) throw new TypeError("structuredClone requires a value");
  return _decodeValue(_encodeValue(value));
}

defineGlobal("structuredClone", structuredClone);
defineGlobal("DataCloneError", DataCloneError);
