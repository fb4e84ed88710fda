// URL and URLSearchParams (the WHATWG URL Standard). Parsing and the setters
// run in Go (webapi/url.go: "url.parse", "url.set"); JS keeps the components.

// ---- application/x-www-form-urlencoded ----

const _formSafe = new Uint8Array(128);
const _formSafeChars = "*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
for (let i = 0; i < _formSafeChars.length; i++) _formSafe[StringPrototypeCharCodeAt(_formSafeChars, i)] = 1;
const _hexDigits = "0123456789ABCDEF";
const _formPlain = /^[*\-._0-9A-Za-z]*$/;
const _plus = _re(/\+/g);

function _formEncode(s) {
  if (_test(_formPlain, s)) return s;
  let out = "";
  const bytes = _utf8.encode(_usv(s)), len = TypedArrayPrototypeGetLength(bytes);
  for (let i = 0; i < len; i++) {
    const b = bytes[i];
    if (b < 128 && _formSafe[b]) out += StringFromCharCode(b);
    else if (b === 0x20) out += "+";
    else out += "%" + _hexDigits[b >> 4] + _hexDigits[b & 15];
  }
  return out;
}

function _hexVal(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

// _formDecode replaces + with space, percent-decodes, and decodes UTF-8.
function _formDecode(s) {
  if (StringPrototypeIndexOf(s, "+") >= 0) s = StringPrototypeReplace(s, _plus, " ");
  if (StringPrototypeIndexOf(s, "%") < 0) return s;
  const bytes = _utf8.encode(s), len = TypedArrayPrototypeGetLength(bytes);
  const out = new Uint8Array(len);
  let n = 0;
  for (let i = 0; i < len; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < len) {
      const h = _hexVal(bytes[i + 1]), l = _hexVal(bytes[i + 2]);
      if (h >= 0 && l >= 0) { out[n++] = (h << 4) | l; i += 2; continue; }
    }
    out[n++] = b;
  }
  return callOp("utf8.decode", Uint8ArrayPrototypeToBase64(_subBytes(out, 0, n)), false);
}

// _formParse parses a query into a list of [name, value].
function _formParse(s) {
  const list = [];
  if (s === "") return list;
  const parts = StringPrototypeSplit(s, "&");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === "") continue;
    const eq = StringPrototypeIndexOf(part, "=");
    const name = eq < 0 ? part : StringPrototypeSlice(part, 0, eq);
    const value = eq < 0 ? "" : StringPrototypeSlice(part, eq + 1);
    list[list.length] = [_formDecode(name), _formDecode(value)];
  }
  return list;
}

// ---- URLSearchParams ----

const _spURL = new SafeWeakMap(); // URLSearchParams -> update function of its URL
let _spReplace; // (params, query): replaces the list when the URL's query changes

class URLSearchParams {
  #list = [];
  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (typeof init === "object" || typeof init === "function") {
      if (ArrayIsArray(init)) {
        // An array of pairs is read by index, not through its iterator.
        for (let i = 0; i < init.length; i++) this.#appendPair(init[i]);
      } else if (typeof init[SymbolIterator] === "function") {
        for (const pair of init) this.#appendPair(pair);
      } else {
        const keys = ReflectOwnKeys(init);
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          if (typeof k !== "string") continue;
          const d = ObjectGetOwnPropertyDescriptor(init, k);
          if (!d || !d.enumerable) continue;
          this.#list[this.#list.length] = [_usv(k), _usv(init[k])];
        }
      }
      return;
    }
    let s = _usv(init);
    if (StringPrototypeCharCodeAt(s, 0) === 0x3f) s = StringPrototypeSlice(s, 1); // "?"
    this.#list = _formParse(s);
  }
  #appendPair(pair) {
    if (pair === null || (typeof pair !== "object" && typeof pair !== "function") || typeof pair[SymbolIterator] !== "function") {
      if (!ArrayIsArray(pair)) throw new TypeError("URLSearchParams: each pair must be an iterable [name, value]");
    }
    const p = ArrayIsArray(pair) ? pair : ArrayFrom(pair);
    if (p.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
    this.#list[this.#list.length] = [_usv(p[0]), _usv(p[1])];
  }
  #update() { const f = _spURL.get(this); if (f) f(this.#toString()); }
  static {
    _spReplace = (sp, query) => { sp.#list = _formParse(query); };
    // For bodies (not through toString, which the app may replace).
    _shared.isSearchParams = (x) => x !== null && typeof x === "object" && #list in x;
    _shared.searchParamsString = (sp) => sp.#toString();
  }
  get size() { return this.#list.length; }
  append(name, value) {
    if (arguments.length < 2) throw new TypeError("URLSearchParams.append requires 2 arguments");
    this.#list[this.#list.length] = [_usv(name), _usv(value)];
    this.#update();
  }
  delete(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.delete requires 1 argument");
    name = _usv(name);
    if (value !== undefined) value = _usv(value);
    const l = this.#list, out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] !== name || (value !== undefined && l[i][1] !== value)) out[out.length] = l[i];
    this.#list = out;
    this.#update();
  }
  get(name) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.get requires 1 argument");
    name = _usv(name);
    const l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === name) return l[i][1];
    return null;
  }
  getAll(name) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.getAll requires 1 argument");
    name = _usv(name);
    const l = this.#list, out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] === name) out[out.length] = l[i][1];
    return out;
  }
  has(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.has requires 1 argument");
    name = _usv(name);
    if (value !== undefined) value = _usv(value);
    const l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === name && (value === undefined || l[i][1] === value)) return true;
    return false;
  }
  set(name, value) {
    if (arguments.length < 2) throw new TypeError("URLSearchParams.set requires 2 arguments");
    name = _usv(name); value = _usv(value);
    const l = this.#list, out = [];
    let found = false;
    for (let i = 0; i < l.length; i++) {
      if (l[i][0] !== name) out[out.length] = l[i];
      else if (!found) { found = true; out[out.length] = [name, value]; }
    }
    if (!found) out[out.length] = [name, value];
    this.#list = out;
    this.#update();
  }
  sort() {
    // Stable sort by UTF-16 code units of the names.
    const l = this.#list, idx = [];
    for (let i = 0; i < l.length; i++) idx[i] = [l[i], i];
    ArrayPrototypeSort(idx, (a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]));
    const out = [];
    for (let i = 0; i < idx.length; i++) out[i] = idx[i][0];
    this.#list = out;
    this.#update();
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: callback must be a function");
    for (let i = 0; i < this.#list.length; i++) {
      const p = this.#list[i];
      _apply(callback, thisArg, [p[1], p[0], this]);
    }
  }
  *#iter(kind) {
    for (let i = 0; i < this.#list.length; i++) {
      const p = this.#list[i];
      yield kind === "keys" ? p[0] : kind === "values" ? p[1] : [p[0], p[1]];
    }
  }
  entries() { return this.#iter("entries"); }
  keys() { return this.#iter("keys"); }
  values() { return this.#iter("values"); }
  [SymbolIterator]() { return this.#iter("entries"); }
  #toString() {
    const l = this.#list;
    let out = "";
    for (let i = 0; i < l.length; i++) out += (i ? "&" : "") + _formEncode(l[i][0]) + "=" + _formEncode(l[i][1]);
    return out;
  }
  toString() { return this.#toString(); }
  get [SymbolToStringTag]() { return "URLSearchParams"; }
}

// ---- URL ----

function _urlParse(input, base) {
  const r = callOp("url.parse", _usv(input), base === undefined ? null : _usv(base));
  return r === null ? null : JSONParse(r);
}

function _invalidURL(url, base) {
  return new TypeError("Invalid URL: " + JSONStringify(String(url)) + (base === undefined ? "" : " with base " + JSONStringify(String(base))));
}

// urlHref is new URL(url, base).href for the rest of the prelude (which
// does not read href through URL.prototype, which the app may change).
_shared.urlHref = (url, base) => {
  const c = _urlParse(url, base);
  if (c === null) throw _invalidURL(url, base);
  return c.href;
};

class URL {
  #c; #sp = null;
  constructor(url, base = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const c = _urlParse(url, base);
    if (c === null) throw _invalidURL(url, base);
    this.#c = c;
  }
  // For the console: a URL's href, or undefined for anything but a URL.
  static { _shared.urlHrefOf = (x) => (x !== null && typeof x === "object" && #c in x ? x.#c.href : undefined); }
  static canParse(url, base = undefined) { return _urlParse(url, base) !== null; }
  static parse(url, base = undefined) {
    try { return new URL(url, base); } catch { return null; }
  }
  #set(prop, value) {
    const r = callOp("url.set", this.#c.href, prop, _usv(value));
    if (r === null) return false;
    this.#c = JSONParse(r);
    return true;
  }
  #syncParams() { if (this.#sp) _spReplace(this.#sp, StringPrototypeSlice(this.#c.search, 1)); }
  get href() { return this.#c.href; }
  set href(v) {
    if (!this.#set("href", v)) throw new TypeError("Invalid URL: " + JSONStringify(String(v)));
    this.#syncParams();
  }
  get origin() { return this.#c.origin; }
  get protocol() { return this.#c.protocol; }
  set protocol(v) { this.#set("protocol", v); }
  get username() { return this.#c.username; }
  set username(v) { this.#set("username", v); }
  get password() { return this.#c.password; }
  set password(v) { this.#set("password", v); }
  get host() { return this.#c.host; }
  set host(v) { this.#set("host", v); }
  get hostname() { return this.#c.hostname; }
  set hostname(v) { this.#set("hostname", v); }
  get port() { return this.#c.port; }
  set port(v) { this.#set("port", v); }
  get pathname() { return this.#c.pathname; }
  set pathname(v) { this.#set("pathname", v); }
  get search() { return this.#c.search; }
  set search(v) { this.#set("search", v); this.#syncParams(); }
  get hash() { return this.#c.hash; }
  set hash(v) { this.#set("hash", v); }
  get searchParams() {
    if (!this.#sp) {
      this.#sp = new URLSearchParams(this.#c.search);
      _spURL.set(this.#sp, (q) => { this.#set("query", q); });
    }
    return this.#sp;
  }
  toString() { return this.#c.href; }
  toJSON() { return this.#c.href; }
  get [SymbolToStringTag]() { return "URL"; }
}

_shared.formParse = _formParse;

defineGlobal("URL", URL);
defineGlobal("URLSearchParams", URLSearchParams);
