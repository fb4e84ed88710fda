// Warren's structured-clone wire format. Values cross isolates, RPC and
// storage as JSON text: plain JSON values stay as they are; everything else is
// an object with a "$t" tag (see docs/ARCHITECTURE.md, "Value format").
// Objects and arrays are numbered in visiting order so that shared and
// circular references survive ({"$t":"ref","v":n}).

const _capSym = Symbol("warren.capability");

class DataCloneError extends Error {
  constructor(msg) { super(msg); this.name = "DataCloneError"; }
}

const _typedNames = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "DataView"];

function _encodeValue(value, opts) {
  const seen = new Map();
  let next = 0;
  const allowCaps = !!(opts && opts.caps);
  function enc(v, depth) {
    if (depth > 1000) throw new DataCloneError("value is nested too deeply to clone (more than 1000 levels)");
    switch (typeof v) {
      case "string": case "boolean": return v;
      case "number":
        if (Number.isFinite(v)) return Object.is(v, -0) ? { $t: "num", v: "-0" } : v;
        return { $t: "num", v: String(v) };
      case "undefined": return { $t: "undef" };
      case "bigint": return { $t: "bigint", v: v.toString() };
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
    if (Array.isArray(v)) {
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = enc(v[i], depth + 1);
      return out;
    }
    // An invalid Date's time value is NaN, which JSON writes as null.
    if (v instanceof Date) return { $t: "date", v: v.getTime() };
    if (v instanceof RegExp) return { $t: "regexp", src: v.source, flags: v.flags };
    if (v instanceof Map) return { $t: "map", v: [...v].map(([k, x]) => [enc(k, depth + 1), enc(x, depth + 1)]) };
    if (v instanceof Set) return { $t: "set", v: [...v].map((x) => enc(x, depth + 1)) };
    if (v instanceof ArrayBuffer) return { $t: "ab", v: new Uint8Array(v).toBase64() };
    if (ArrayBuffer.isView(v)) {
      const name = _typedNames.find((n) => globalThis[n] && v instanceof globalThis[n]) || "Uint8Array";
      return { $t: "view", k: name, v: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).toBase64() };
    }
    if (v instanceof Error) {
      return { $t: "error", name: String(v.name), message: String(v.message), stack: String(v.stack || "") };
    }
    if (v instanceof Boolean || v instanceof Number || v instanceof String) return { $t: "boxed", v: enc(v.valueOf(), depth + 1) };
    // An unloaded family cannot have made v: check before touching (loading) it.
    if (__loaded.has("blob_formdata") && v instanceof Blob) return { $t: "blob", type: v.type, v: v._bytes().toBase64() };
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto && proto.constructor && proto.constructor.name) || "object";
      if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || (typeof WeakRef === "function" && v instanceof WeakRef)) {
        throw new DataCloneError(`${name} could not be cloned`);
      }
      if (!(opts && opts.lossy)) throw new DataCloneError(`an instance of class ${name} could not be cloned; only plain objects, arrays and built-in value types can be (make ${name} extend RpcTarget to pass it by reference over RPC, or send a plain object)`);
    }
    const out = {};
    for (const k of Object.keys(v)) out[k] = enc(v[k], depth + 1);
    if ("$t" in out) return { $t: "obj", v: out };
    return out;
  }
  return JSON.stringify(enc(value, 0));
}

function _decodeValue(text, capFactory) {
  if (text === undefined || text === null || text === "") return undefined;
  const root = JSON.parse(text);
  const refs = [];
  function dec(x) {
    if (x === null || typeof x !== "object") return x;
    if (Array.isArray(x)) {
      const out = [];
      refs.push(out);
      for (const e of x) out.push(dec(e));
      return out;
    }
    const t = x.$t;
    if (t === undefined) {
      const out = {};
      refs.push(out);
      for (const k of Object.keys(x)) out[k] = dec(x[k]);
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
    refs.push(null);
    let out;
    switch (t) {
      case "date": out = new Date(x.v === null ? NaN : x.v); break;
      case "regexp": out = new RegExp(x.src, x.flags); break;
      case "map": out = new Map(); refs[slot] = out; for (const [k, v] of x.v) out.set(dec(k), dec(v)); return out;
      case "set": out = new Set(); refs[slot] = out; for (const v of x.v) out.add(dec(v)); return out;
      case "ab": out = Uint8Array.fromBase64(x.v).buffer; break;
      case "view": {
        const bytes = Uint8Array.fromBase64(x.v);
        const C = _typedNames.includes(x.k) ? globalThis[x.k] : Uint8Array;
        out = C === DataView ? new DataView(bytes.buffer) : new C(bytes.buffer, 0, bytes.byteLength / (C.BYTES_PER_ELEMENT || 1));
        break;
      }
      case "error": {
        const C = globalThis[x.name];
        out = typeof C === "function" && (C === Error || C.prototype instanceof Error) ? new C(x.message) : new Error(x.message);
        if (out.name !== x.name) { try { out.name = x.name; } catch {} }
        if (x.stack) out.stack = x.stack;
        break;
      }
      case "boxed": out = Object(dec(x.v)); break;
      case "blob": out = new Blob([Uint8Array.fromBase64(x.v)], { type: x.type }); break;
      case "obj": { out = {}; refs[slot] = out; for (const k of Object.keys(x.v)) out[k] = dec(x.v[k]); return out; }
      default: throw new DataCloneError("unknown value tag " + JSON.stringify(t));
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
