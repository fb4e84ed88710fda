// TextEncoder, TextDecoder (UTF-8 only, as in Workers), atob and btoa.


function _isAscii(s) { return !_test(_nonAscii, s); }

class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input = "") {
    const s = String(input);
    return _isAscii(s) ? _utf8.encode(s) : _utf8.encode(_usv(s));
  }
  encodeInto(source, destination) {
    if (!_isUint8Array(destination)) throw new TypeError("TextEncoder.encodeInto: destination must be a Uint8Array");
    const s = String(source);
    const cap = TypedArrayPrototypeGetLength(destination);
    let read = 0, written = 0;
    // Encode code point by code point, stopping before one that does not fit.
    for (let i = 0; i < s.length; i++) {
      let c = StringPrototypeCharCodeAt(s, i);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = StringPrototypeCharCodeAt(s, i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); units = 2; }
        else c = 0xfffd;
      } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) {
        if (written + 1 > cap) break;
        destination[written++] = c;
      } else if (c < 0x800) {
        if (written + 2 > cap) break;
        destination[written++] = 0xc0 | (c >> 6);
        destination[written++] = 0x80 | (c & 0x3f);
      } else if (c < 0x10000) {
        if (written + 3 > cap) break;
        destination[written++] = 0xe0 | (c >> 12);
        destination[written++] = 0x80 | ((c >> 6) & 0x3f);
        destination[written++] = 0x80 | (c & 0x3f);
      } else {
        if (written + 4 > cap) break;
        destination[written++] = 0xf0 | (c >> 18);
        destination[written++] = 0x80 | ((c >> 12) & 0x3f);
        destination[written++] = 0x80 | ((c >> 6) & 0x3f);
        destination[written++] = 0x80 | (c & 0x3f);
      }
      read += units;
      i += units - 1;
    }
    return { read, written };
  }
  get [SymbolToStringTag]() { return "TextEncoder"; }
}

const _utf8Labels = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];

// _latin1 turns bytes (all < 0x80, or meant as Latin-1) into a string.
function _latin1(u8) {
  let s = "";
  const n = TypedArrayPrototypeGetLength(u8);
  for (let i = 0; i < n; i += 8192) {
    const chunk = _subBytes(u8, i, i + 8192);
    // apply reads the arguments' length through the typed arrays' getter,
    // which the app may have replaced: the chunk (a view the prelude just
    // made) gets its own.
    ObjectDefineProperty(chunk, "length", { __proto__: null, value: MathMin(8192, n - i) });
    s += _apply(StringFromCharCode, null, chunk);
  }
  return s;
}

function _allAscii(u8) {
  const n = TypedArrayPrototypeGetLength(u8);
  for (let i = 0; i < n; i++) if (u8[i] > 0x7f) return false;
  return true;
}

// _incompleteTail returns how many bytes at the end of u8 start a UTF-8
// sequence that more bytes could still complete.
function _incompleteTail(u8) {
  const n = TypedArrayPrototypeGetLength(u8);
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = u8[n - back];
    if (b >= 0x80 && b <= 0xbf) continue; // continuation: keep looking for the lead
    let need = 0, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) { need = 2; if (b === 0xe0) lo = 0xa0; else if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; if (b === 0xf0) lo = 0x90; else if (b === 0xf4) hi = 0x8f; }
    else return 0;
    if (back > need) return 0; // the sequence is complete (or over-long)
    for (let k = 1; k < back; k++) {
      const x = u8[n - back + k];
      if (x < lo || x > hi) return 0; // already invalid: decode it now
      lo = 0x80; hi = 0xbf;
    }
    return back;
  }
  return 0;
}

class TextDecoder {
  #fatal; #ignoreBOM; #pending = null; #bomSeen = false;
  constructor(label = "utf-8", options = {}) {
    const l = StringPrototypeToLowerCase(StringPrototypeTrim(String(label)));
    if (!ArrayPrototypeIncludes(_utf8Labels, l)) throw new RangeError(`TextDecoder: the "${label}" encoding is not supported; only "utf-8" is.`);
    if (options !== undefined && options !== null && typeof options !== "object") throw new TypeError("TextDecoder: options must be an object");
    options = options || {};
    this.#fatal = !!options.fatal;
    this.#ignoreBOM = !!options.ignoreBOM;
  }
  get encoding() { return "utf-8"; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input, options = {}) {
    const stream = !!(options && options.stream);
    let u8;
    if (input === undefined || input === null) u8 = new Uint8Array(0);
    else if (isBufferSource(input)) u8 = toBytes(input);
    else throw new TypeError("TextDecoder.decode: input must be an ArrayBuffer or ArrayBufferView");
    if (this.#pending) {
      u8 = concatBytes([this.#pending, u8]);
      this.#pending = null;
    }
    if (stream) {
      const keep = _incompleteTail(u8);
      if (keep) {
        const n = TypedArrayPrototypeGetLength(u8);
        this.#pending = _sliceBytes(u8, n - keep);
        u8 = _subBytes(u8, 0, n - keep);
      }
    }
    let s;
    if (_allAscii(u8)) s = _latin1(u8);
    else if (this.#fatal) {
      s = callOp("utf8.decodeOrNull", Uint8ArrayPrototypeToBase64(u8));
      if (s === null) {
        this.#pending = null; this.#bomSeen = false;
        throw new TypeError("The encoded data was not valid for encoding utf-8");
      }
    } else s = callOp("utf8.decode", Uint8ArrayPrototypeToBase64(u8), false);
    if (!this.#ignoreBOM && !this.#bomSeen && s.length > 0) {
      this.#bomSeen = true;
      if (StringPrototypeCharCodeAt(s, 0) === 0xfeff) s = StringPrototypeSlice(s, 1);
    }
    if (!stream) { this.#bomSeen = false; this.#pending = null; }
    return s;
  }
  get [SymbolToStringTag]() { return "TextDecoder"; }
}

// ---- base64 (forgiving-base64, HTML Standard) ----

function btoa(data) {
  if (arguments.length === 0) throw new TypeError("btoa requires 1 argument");
  const s = String(data);
  const u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    if (c > 0xff) throw new (_global("DOMException"))("Invalid character", "InvalidCharacterError");
    u[i] = c;
  }
  return Uint8ArrayPrototypeToBase64(u);
}

const _b64Space = _re(/[\t\n\f\r ]+/g);
const _b64Bad = /[^A-Za-z0-9+/]/;

function atob(data) {
  if (arguments.length === 0) throw new TypeError("atob requires 1 argument");
  let s = StringPrototypeReplace(String(data), _b64Space, "");
  if (s.length % 4 === 0) {
    if (StringPrototypeEndsWith(s, "==")) s = StringPrototypeSlice(s, 0, -2);
    else if (StringPrototypeEndsWith(s, "=")) s = StringPrototypeSlice(s, 0, -1);
  }
  if (s.length % 4 === 1 || _test(_b64Bad, s)) {
    throw new (_global("DOMException"))("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
  }
  return _latin1(Uint8ArrayFromBase64(s));
}

defineGlobal("TextEncoder", TextEncoder);
defineGlobal("TextDecoder", TextDecoder);
defineGlobal("btoa", btoa);
defineGlobal("atob", atob);
