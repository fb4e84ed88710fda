// URL and URLSearchParams (the WHATWG URL Standard). Parsing and the setters
// run in Go (webapi/url.go: "url.parse", "url.set"); JS keeps the components.

// ---- application/x-www-form-urlencoded ----

const _formSafe = new Uint8Array(128);
for (const c of "*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") _formSafe[c.charCodeAt(0)] = 1;
const _hexDigits = "0123456789ABCDEF";

function _formEncode(s) {
  let out = "";
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || !_formSafe[c]) { plain = false; break; }
  }
  if (plain) return s;
  const bytes = _utf8.encode(_usv(s));
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b < 128 && _formSafe[b]) out += String.fromCharCode(b);
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
  if (s.indexOf("+") >= 0) s = s.replace(/\+/g, " ");
  if (s.indexOf("%") < 0) return s;
  const bytes = _utf8.encode(s);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length) {
      const h = _hexVal(bytes[i + 1]), l = _hexVal(bytes[i + 2]);
      if (h >= 0 && l >= 0) { out[n++] = (h << 4) | l; i += 2; continue; }
    }
    out[n++] = b;
  }
  return host("utf8.decode", out.subarray(0, n).toBase64(), false);
}

function _formParse(s) {
  const list = [];
  if (s === "") return list;
  for (const part of s.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    list.push([_formDecode(name), _formDecode(value)]);
  }
  return list;
}

// ---- URLSearchParams ----

const _spURL = new WeakMap(); // URLSearchParams -> update function of its URL
let _spReplace; // (params, query): replaces the list when the URL's query changes

class URLSearchParams {
  #list = [];
  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (typeof init === "object" || typeof init === "function") {
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          if (pair === null || (typeof pair !== "object" && typeof pair !== "function") || typeof pair[Symbol.iterator] !== "function") {
            throw new TypeError("URLSearchParams: each pair must be an iterable [name, value]");
          }
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
          this.#list.push([_usv(p[0]), _usv(p[1])]);
        }
      } else {
        for (const k of Reflect.ownKeys(init)) {
          if (typeof k !== "string") continue;
          const d = Object.getOwnPropertyDescriptor(init, k);
          if (!d || !d.enumerable) continue;
          this.#list.push([_usv(k), _usv(init[k])]);
        }
      }
      return;
    }
    let s = _usv(init);
    if (s.startsWith("?")) s = s.slice(1);
    this.#list = _formParse(s);
  }
  #update() { const f = _spURL.get(this); if (f) f(this.toString()); }
  static { _spReplace = (sp, query) => { sp.#list = _formParse(query); }; }
  get size() { return this.#list.length; }
  append(name, value) {
    if (arguments.length < 2) throw new TypeError("URLSearchParams.append requires 2 arguments");
    this.#list.push([_usv(name), _usv(value)]);
    this.#update();
  }
  delete(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.delete requires 1 argument");
    name = _usv(name);
    if (value === undefined) this.#list = this.#list.filter(([k]) => k !== name);
    else { value = _usv(value); this.#list = this.#list.filter(([k, v]) => k !== name || v !== value); }
    this.#update();
  }
  get(name) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.get requires 1 argument");
    name = _usv(name);
    const p = this.#list.find(([k]) => k === name);
    return p ? p[1] : null;
  }
  getAll(name) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.getAll requires 1 argument");
    name = _usv(name);
    return this.#list.filter(([k]) => k === name).map(([, v]) => v);
  }
  has(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError("URLSearchParams.has requires 1 argument");
    name = _usv(name);
    if (value === undefined) return this.#list.some(([k]) => k === name);
    value = _usv(value);
    return this.#list.some(([k, v]) => k === name && v === value);
  }
  set(name, value) {
    if (arguments.length < 2) throw new TypeError("URLSearchParams.set requires 2 arguments");
    name = _usv(name); value = _usv(value);
    const i = this.#list.findIndex(([k]) => k === name);
    if (i < 0) this.#list.push([name, value]);
    else {
      this.#list[i] = [name, value];
      this.#list = this.#list.filter(([k], j) => k !== name || j === i);
    }
    this.#update();
  }
  sort() {
    // Stable sort by UTF-16 code units of the names.
    const idx = this.#list.map((p, i) => [p, i]);
    idx.sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]));
    this.#list = idx.map(([p]) => p);
    this.#update();
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: callback must be a function");
    for (let i = 0; i < this.#list.length; i++) {
      const [k, v] = this.#list[i];
      callback.call(thisArg, v, k, this);
    }
  }
  *#iter(kind) {
    for (let i = 0; i < this.#list.length; i++) {
      const [k, v] = this.#list[i];
      yield kind === "keys" ? k : kind === "values" ? v : [k, v];
    }
  }
  entries() { return this.#iter("entries"); }
  keys() { return this.#iter("keys"); }
  values() { return this.#iter("values"); }
  [Symbol.iterator]() { return this.#iter("entries"); }
  toString() { return this.#list.map(([k, v]) => _formEncode(k) + "=" + _formEncode(v)).join("&"); }
  get [Symbol.toStringTag]() { return "URLSearchParams"; }
}

// ---- URL ----

function _urlParse(input, base) {
  const r = host("url.parse", _usv(input), base === undefined ? null : _usv(base));
  return r === null ? null : JSON.parse(r);
}

class URL {
  #c; #sp = null;
  constructor(url, base = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const c = _urlParse(url, base);
    if (c === null) {
      throw new TypeError("Invalid URL: " + JSON.stringify(String(url)) + (base === undefined ? "" : " with base " + JSON.stringify(String(base))));
    }
    this.#c = c;
  }
  static canParse(url, base = undefined) { return _urlParse(url, base) !== null; }
  static parse(url, base = undefined) {
    try { return new URL(url, base); } catch { return null; }
  }
  #set(prop, value) {
    const r = host("url.set", this.#c.href, prop, _usv(value));
    if (r === null) return false;
    this.#c = JSON.parse(r);
    return true;
  }
  #syncParams() { if (this.#sp) _spReplace(this.#sp, this.#c.search.slice(1)); }
  get href() { return this.#c.href; }
  set href(v) {
    if (!this.#set("href", v)) throw new TypeError("Invalid URL: " + JSON.stringify(String(v)));
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
  get [Symbol.toStringTag]() { return "URL"; }
}

defineGlobal("URL", URL);
defineGlobal("URLSearchParams", URLSearchParams);
