// Headers, Request, Response and fetch (the Fetch standard, as Workers use it).

const _validHeaderName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const _headerTrim = _re(/^[\t\n\r ]+|[\t\n\r ]+$/g);
const _badHeaderValue = /[\0\r\n]/;
function _normValue(v) {
  v = typeof v === "string" ? v : String(v);
  const n = v.length;
  // Fast path: no surrounding whitespace to trim (most values).
  if (n > 0 && (StringPrototypeCharCodeAt(v, 0) <= 32 || StringPrototypeCharCodeAt(v, n - 1) <= 32)) v = StringPrototypeReplace(v, _headerTrim, "");
  if (_test(_badHeaderValue, v)) throw new TypeError("Invalid header value: " + JSONStringify(v));
  return v;
}
// Names seen before skip validation; the cache is bounded.
const _names = new SafeMap();
function _normName(n) {
  if (typeof n !== "string") n = String(n);
  const c = _names.get(n);
  if (c !== undefined) return c;
  if (!_test(_validHeaderName, n)) throw new TypeError("Invalid header name: " + JSONStringify(n));
  const l = StringPrototypeToLowerCase(n);
  if (_names.size < 512) _names.set(n, l);
  return l;
}

// _immutable holds the Headers that may not change (those of Response.error()).
const _immutable = new SafeWeakSet();

// The prelude's own operations on Headers, which do not go through
// Headers.prototype (the app may replace its methods): set in the class's
// static block.
let _headersHas, _headersGet, _headersSet, _headersEntries, _headersTrusted;

class Headers {
  // name (lowercase), value, name, value, ...; or, until first use, the
  // same list joined with "\n" as Go sends a request's headers (names
  // already lowercase, values checked).
  #list;
  constructor(init) {
    this.#list = [];
    if (init == null) return;
    if (init instanceof Headers) { this.#list = ArrayPrototypeSlice(init.#l()); return; }
    if (typeof init !== "object") throw new TypeError("Headers init must be an object, an array of pairs, or Headers");
    if (ArrayIsArray(init)) {
      // An array of pairs is read by index, not through its iterator.
      for (let i = 0; i < init.length; i++) this.#appendPair(init[i]);
      return;
    }
    if (typeof init[SymbolIterator] === "function") {
      for (const pair of init) this.#appendPair(pair);
      return;
    }
    const keys = ObjectKeys(init);
    for (let i = 0; i < keys.length; i++) this.#append(keys[i], init[keys[i]]);
  }
  #appendPair(pair) {
    const p = ArrayIsArray(pair) ? pair : ArrayFrom(pair);
    if (p.length !== 2) throw new TypeError("Each header pair must have exactly two items");
    this.#append(p[0], p[1]);
  }
  #append(name, value) {
    this.#check();
    const n = _normName(name), v = _normValue(value), l = this.#l();
    l[l.length] = n;
    l[l.length] = v;
  }
  #has(n) {
    const l = this.#l();
    for (let i = 0; i < l.length; i += 2) if (l[i] === n) return true;
    return false;
  }
  #get(n) {
    const l = this.#l();
    let r = null;
    for (let i = 0; i < l.length; i += 2) if (l[i] === n) r = r === null ? l[i + 1] : r + ", " + l[i + 1];
    return r;
  }
  #set(name, value) {
    this.#check();
    const n = _normName(name), v = _normValue(value), l = this.#l();
    let found = -1;
    for (let i = 0; i < l.length; i += 2) if (l[i] === n) { found = i; break; }
    if (found < 0) { l[l.length] = n; l[l.length] = v; return; }
    l[found + 1] = v;
    for (let i = l.length - 2; i > found; i -= 2) if (l[i] === n) ArrayPrototypeSplice(l, i, 2);
  }
  // #entries is the sorted list of [name, value] (values of one name
  // combined, set-cookie values apart), in one pass over the list.
  #entries() {
    const l = this.#l(), values = new SafeMap(), names = [], cookies = [];
    for (let i = 0; i < l.length; i += 2) {
      const n = l[i], v = l[i + 1];
      if (n === "set-cookie") {
        if (cookies.length === 0) names[names.length] = n;
        cookies[cookies.length] = v;
        continue;
      }
      const prev = values.get(n);
      if (prev === undefined) { names[names.length] = n; values.set(n, v); }
      else values.set(n, prev + ", " + v);
    }
    ArrayPrototypeSort(names);
    const out = [];
    for (let j = 0; j < names.length; j++) {
      const n = names[j];
      if (n === "set-cookie") { for (let k = 0; k < cookies.length; k++) out[out.length] = [n, cookies[k]]; }
      else out[out.length] = [n, values.get(n)];
    }
    return out;
  }
  static {
    _headersHas = (h, name) => h.#has(_normName(name));
    _headersGet = (h, name) => h.#get(_normName(name));
    _headersSet = (h, name, value) => h.#set(name, value);
    _headersEntries = (h) => h.#entries();
  }
  _setGuard(g) { if (g === "immutable") _immutable.add(this); return this; }
  // _headersTrusted builds Headers from a list Go (or the runtime) already
  // validated: flat (name, value, ...) or "\n"-joined, names lowercase.
  static {
    _headersTrusted = (list) => {
      const h = new Headers();
      if (list) h.#list = list;
      return h;
    };
  }
  #l() {
    const l = this.#list;
    if (typeof l !== "string") return l;
    return (this.#list = l === "" ? [] : StringPrototypeSplit(l, "\n"));
  }
  #check() { if (_immutable.has(this)) throw new TypeError("Can't modify immutable headers."); }
  append(name, value) { this.#append(name, value); }
  delete(name) {
    this.#check();
    const n = _normName(name), l = this.#l(), out = [];
    for (let i = 0; i < l.length; i += 2) if (l[i] !== n) { out[out.length] = l[i]; out[out.length] = l[i + 1]; }
    this.#list = out;
  }
  get(name) { return this.#get(_normName(name)); }
  getSetCookie() { return this.#getAll("set-cookie"); }
  getAll(name) { return this.#getAll(_normName(name)); }
  #getAll(n) {
    const l = this.#l(), out = [];
    for (let i = 0; i < l.length; i += 2) if (l[i] === n) out[out.length] = l[i + 1];
    return out;
  }
  has(name) { return this.#has(_normName(name)); }
  set(name, value) { this.#set(name, value); }
  forEach(cb, thisArg) {
    const e = this.#entries();
    for (let i = 0; i < e.length; i++) _apply(cb, thisArg, [e[i][1], e[i][0], this]);
  }
  *entries() { const e = this.#entries(); for (let i = 0; i < e.length; i++) yield e[i]; }
  *keys() { const e = this.#entries(); for (let i = 0; i < e.length; i++) yield e[i][0]; }
  *values() { const e = this.#entries(); for (let i = 0; i < e.length; i++) yield e[i][1]; }
  [SymbolIterator]() { return this.entries(); }
  get [SymbolToStringTag]() { return "Headers"; }
  _pairs() { const l = this.#l(), out = []; for (let i = 0; i < l.length; i += 2) out[out.length] = [l[i], l[i + 1]]; return out; }
  // _flat is the list as the host takes it: "name\nvalue\n..." (a copy).
  _flat() { const l = this.#list; return typeof l === "string" ? l : ArrayPrototypeJoin(l, "\n"); }
}

// ---- bodies ----

// _bodyOf turns a BodyInit into what a body holds: a string (text stays a
// string until something needs its bytes: most bodies are text, and Go
// takes the string as it is), a Uint8Array or a ReadableStream. It sets
// _bodyType to the Content-Type the body implies, or null.
let _bodyType = null;
function _bodyOf(body) {
  _bodyType = null;
  if (typeof body === "string") { _bodyType = "text/plain;charset=UTF-8"; return _usv(body); }
  if (body instanceof ArrayBuffer || ArrayBufferIsView(body)) return TypedArrayPrototypeSlice(toBytes(body));
  // A lazily evaluated family that has not been loaded cannot have made
  // the body, so check __loaded first instead of touching (loading) it.
  if (__loaded.has("url") && body instanceof _global("URLSearchParams")) { _bodyType = "application/x-www-form-urlencoded;charset=UTF-8"; return _utf8.encode(body.toString()); }
  if (__loaded.has("blob_formdata") && body instanceof _global("Blob")) { _bodyType = body.type || null; return body._bytes(); }
  if (__loaded.has("blob_formdata") && body instanceof _global("FormData")) { const enc = _shared.encodeMultipart(body); _bodyType = enc.type; return enc.bytes; }
  if (__loaded.has("streams") && body instanceof _global("ReadableStream")) return body;
  _bodyType = "text/plain;charset=UTF-8";
  return _usv(body);
}

// The Body mixin of Request and Response. A body is this._body: null (no
// body), a string, a Uint8Array or a ReadableStream; this._used says it was
// read. (A mixin, not a base class: a constructor without super() costs less.)
class _Body {
  get _hasBody() { return this._body !== null; }
  get _stream() { const b = this._body; return b === null || typeof b === "string" || b instanceof Uint8Array ? null : b; }
  get bodyUsed() { return this._used || (_shared.isDisturbed !== undefined && this._stream !== null && _shared.isDisturbed(this._body)); }
  get body() {
    const b = this._body;
    if (b === null) return null;
    if (typeof b === "string" || b instanceof Uint8Array) {
      return (this._body = _streamOfBytes(typeof b === "string" ? _utf8.encode(b) : b));
    }
    return b;
  }
  // _bytesNow returns the body's bytes when they are held in memory (and
  // marks the body used), or undefined for a stream.
  _bytesNow() {
    const b = this._body;
    if (b === null) { this._used = true; return new Uint8Array(0); }
    if (typeof b === "string") { this._used = true; return _utf8.encode(b); }
    if (b instanceof Uint8Array) { this._used = true; return b; }
    return undefined;
  }
  async _consume() {
    if (this.bodyUsed) throw new TypeError("Body has already been used. It can only be read once; call clone() before reading to read it twice.");
    const now = this._bytesNow();
    if (now !== undefined) return now;
    this._used = true;
    const s = this._body;
    if (s.locked) throw new TypeError("The body's stream is locked to a reader.");
    const reader = s.getReader();
    const chunks = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks[chunks.length] = toBytes(value);
    }
    return concatBytes(chunks);
  }
  // _takeText returns the body as a string without a round trip through
  // bytes, or null when it is not held as a string.
  _takeText() {
    if (typeof this._body !== "string" || this._used) return null;
    this._used = true;
    return this._body;
  }
  async arrayBuffer() { const b = await this._consume(); return b.buffer.byteLength === b.byteLength && b.byteOffset === 0 ? b.buffer : TypedArrayPrototypeSlice(b).buffer; }
  async bytes() { return TypedArrayPrototypeSlice(await this._consume()); }
  async text() {
    const t = this._takeText();
    return t !== null ? t : _utf8.decode(await this._consume());
  }
  async json() { return JSONParse(await this.text()); }
  async blob() { const b = await this._consume(); return new (_global("Blob"))([b], { type: _contentType(this) }); }
  async formData() {
    const type = _contentType(this);
    const bytes = await this._consume();
    __load("blob_formdata");
    return _shared.parseFormData(bytes, type);
  }
  _cloneBody(target) {
    if (this._used) throw new TypeError("Body has already been used; it cannot be cloned.");
    const b = this._body;
    if (b !== null && typeof b !== "string" && !(b instanceof Uint8Array)) {
      const branches = b.tee();
      this._body = branches[0];
      target._body = branches[1];
    } else target._body = b;
  }
}

// _contentType is the Content-Type of a Request or Response, or "".
function _contentType(r) {
  const h = r.headers;
  return (h instanceof Headers && _headersGet(h, "content-type")) || "";
}

function _mixBody(C) {
  const names = ObjectGetOwnPropertyNames(_Body.prototype);
  for (let i = 0; i < names.length; i++) {
    const k = names[i];
    if (k !== "constructor") ObjectDefineProperty(C.prototype, k, ObjectGetOwnPropertyDescriptor(_Body.prototype, k));
  }
}

function _streamOfBytes(bytes) {
  return new (_global("ReadableStream"))({
    pull(c) { if (bytes && bytes.byteLength) c.enqueue(bytes); bytes = null; c.close(); },
  });
}

const _methods = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
function _normMethod(m) {
  m = String(m);
  if (m === "GET" || m === "POST") return m;
  if (!_test(_validHeaderName, m)) throw new TypeError("Invalid HTTP method: " + JSONStringify(m));
  const u = StringPrototypeToUpperCase(m);
  return ArrayPrototypeIncludes(_methods, u) ? u : m;
}

// _parseURL is new URL(url, base).href with the prelude's own URL.
function _parseURL(url, base) { return new (_global("URL"))(url, base).href; }

// _fromGo is set while the runtime builds a Request from what Go already
// parsed and checked: [method, url, headers ("\n"-joined), body].
let _fromGo = null;

class Request {
  #method; #url; #headers; #signal; #redirect; #cf;
  constructor(input, init) {
    const g = _fromGo;
    if (g !== null) {
      _fromGo = null;
      this.#method = g[0];
      this.#url = g[1];
      this.#headers = g[2]; // a string until first use
      this.#redirect = "follow";
      this._body = g[3];
      this._used = false;
      return;
    }
    this._body = null;
    this._used = false;
    if (init === null || typeof init !== "object") init = {};
    let src = null;
    if (input instanceof Request) { src = input; }
    else { input = String(input); }
    this.#url = src ? src.url : _parseURL(input);
    this.#method = init.method !== undefined ? _normMethod(init.method) : (src ? src.method : "GET");
    this.#headers = new Headers(init.headers !== undefined ? init.headers : (src ? src.headers : undefined));
    this.#redirect = init.redirect || (src ? src.redirect : "follow");
    this.#signal = init.signal || (src ? src._signalIfAny() : null) || null;
    this.#cf = init.cf || (src ? src.cf : undefined);
    let body = init.body;
    if (body !== undefined && body !== null && (this.#method === "GET" || this.#method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    if (body !== undefined) {
      this._body = body == null ? null : _bodyOf(body);
      if (_bodyType !== null && !_headersHas(this.#headers, "content-type")) _headersSet(this.#headers, "content-type", _bodyType);
    } else if (src) {
      if (src.bodyUsed) throw new TypeError("Cannot construct a Request with a Request whose body has already been used.");
      src._cloneBody(this);
      src._used = src._hasBody; // the body moves to the new request
    }
  }
  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() {
    const h = this.#headers;
    return typeof h === "string" ? (this.#headers = _headersTrusted(h)) : h;
  }
  // _flatHeaders is the header list for the host without making Headers.
  _flatHeaders() { const h = this.#headers; return typeof h === "string" ? h : h._flat(); }
  // The signal is made on first use: most requests never look at it.
  get signal() { if (!this.#signal) this.#signal = new (_global("AbortController"))().signal; return this.#signal; }
  _signalIfAny() { return this.#signal; }
  get redirect() { return this.#redirect; }
  get cf() { return this.#cf; }
  get keepalive() { return false; }
  get integrity() { return ""; }
  get cache() { return undefined; }
  clone() {
    const r = new Request(this.#url, { method: this.#method, headers: this.headers, redirect: this.#redirect, signal: this.#signal || undefined, cf: this.#cf });
    this._cloneBody(r);
    return r;
  }
  get [SymbolToStringTag]() { return "Request"; }
}
_mixBody(Request);

const _redirectStatuses = [301, 302, 303, 307, 308];
const _nullBodyStatuses = [101, 204, 205, 304];
const _textPlain = "text/plain;charset=UTF-8";

class Response {
  // #headers is a Headers, or until first use the Content-Type the body
  // implies (a string) or null: most responses never touch their headers.
  // #more holds what few responses have: {type, url, redirected, webSocket}.
  #status; #statusText; #headers; #more;
  constructor(body = null, init = undefined) {
    this._used = false;
    this.#more = null;
    if (init === undefined || init === null || typeof init !== "object") {
      this.#status = 200;
      this.#statusText = "";
      if (body === null || body === undefined) { this._body = null; this.#headers = null; return; }
      if (typeof body === "string") { this._body = _usv(body); this.#headers = _textPlain; return; }
      this._body = _bodyOf(body);
      this.#headers = _bodyType;
      return;
    }
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!NumberIsInteger(status) || ((status < 200 || status > 599) && !(status === 101 && init.webSocket))) {
      throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive; got ${init.status}.`);
    }
    this.#status = status;
    this.#statusText = init.statusText === undefined ? "" : String(init.statusText);
    const hi = init.headers;
    const headers = hi === undefined || hi === null ? null : new Headers(hi);
    if (init.webSocket) this.#more = { type: "default", url: "", redirected: false, webSocket: init.webSocket };
    if (body != null && ArrayPrototypeIncludes(_nullBodyStatuses, status)) throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
    this._body = body == null ? null : _bodyOf(body);
    const type = body == null ? null : _bodyType;
    if (headers === null) this.#headers = type;
    else {
      if (type !== null && !_headersHas(headers, "content-type")) _headersSet(headers, "content-type", type);
      this.#headers = headers;
    }
  }
  static json(data, init = {}) {
    const text = JSONStringify(data);
    if (text === undefined) throw new TypeError("Response.json: value is not JSON-serializable");
    const headers = new Headers(init.headers);
    if (!_headersHas(headers, "content-type")) _headersSet(headers, "content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    if (!ArrayPrototypeIncludes(_redirectStatuses, status)) throw new RangeError("Invalid status code for redirect: " + status);
    const r = new Response(null, { status, headers: { location: _parseURL(url) } });
    return r;
  }
  static error() { const r = new Response(null, { status: 200 }); r._makeError(); return r; }
  #m() { return this.#more || (this.#more = { type: "default", url: "", redirected: false, webSocket: null }); }
  _makeError() { this.#m().type = "error"; this.#status = 0; this.headers._setGuard("immutable"); }
  _setUrl(u, redirected) { if (!u && !redirected && this.#more === null) return; const m = this.#m(); m.url = u; m.redirected = !!redirected; }
  get status() { return this.#status; }
  get statusText() { return this.#statusText; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get headers() {
    const h = this.#headers;
    if (h !== null && typeof h === "object") return h;
    return (this.#headers = _headersTrusted(h === null ? null : ["content-type", h]));
  }
  // _flatHeaders is the header list for the host without making Headers.
  _flatHeaders() {
    const h = this.#headers;
    if (h === null) return "";
    if (typeof h === "string") return "content-type\n" + h;
    return h._flat();
  }
  get type() { return this.#more === null ? "default" : this.#more.type; }
  get url() { return this.#more === null ? "" : this.#more.url; }
  get redirected() { return this.#more === null ? false : this.#more.redirected; }
  get webSocket() { return this.#more === null ? null : this.#more.webSocket; }
  clone() {
    if (this.webSocket) throw new TypeError("A Response with a webSocket cannot be cloned.");
    const r = new Response(null, { status: this.#status === 0 ? 200 : this.#status, statusText: this.#statusText, headers: this.headers });
    if (this.type === "error") r._makeError();
    r._setUrl(this.url, this.redirected);
    this._cloneBody(r);
    return r;
  }
  get [SymbolToStringTag]() { return "Response"; }
}
_mixBody(Response);

// _requestToWire serialises a Request for Go: {method,url,headers,body(b64)}.
async function _requestToWire(req) {
  let body = null;
  if (req._hasBody) body = b64(await req._consume());
  return JSONStringify({ method: req.method, url: req.url, headers: req.headers._pairs(), body, redirect: req.redirect });
}

function _responseFromWire(json) {
  const w = JSONParse(json);
  const body = w.body == null || ArrayPrototypeIncludes(_nullBodyStatuses, w.status) ? null : fromB64(w.body);
  const r = new Response(body, { status: w.status, statusText: w.statusText || "", headers: w.headers });
  r._setUrl(w.url || "", w.redirected);
  return r;
}

// _requestFromGo builds the Request a fetch event delivers from what Go
// sends: its headers stay one string until the handler reads them.
function _requestFromGo(method, url, headers, body) {
  _fromGo = [method, url, headers, method === "GET" || method === "HEAD" ? null : body];
  try { return new Request(); } finally { _fromGo = null; }
}

async function fetch(input, init) {
  const req = new Request(input, init);
  const signal = req._signalIfAny();
  if (signal && signal.aborted) throw signal.reason;
  const wire = await _requestToWire(req);
  const p = hostAsync("fetch", wire);
  let res;
  if (signal) {
    res = await new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      PromisePrototypeThen(p, (v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
        (e) => { signal.removeEventListener("abort", onAbort); reject(e); });
    });
  } else res = await p;
  return _responseFromWire(res);
}

defineGlobal("Headers", Headers);
defineGlobal("Request", Request);
defineGlobal("Response", Response);
defineGlobal("fetch", fetch);
