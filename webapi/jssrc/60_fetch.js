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
let _isHeaders, _headersHas, _headersGet, _headersSet, _headersEntries, _headersTrusted, _headersCopy, _headersPairs, _headersFlat;

class Headers {
  // name (lowercase), value, name, value, ...; or, until first use, the
  // same list joined with "\n" as Go sends a request's headers (names
  // already lowercase, values checked).
  #list;
  constructor(init) {
    this.#list = [];
    if (init == null) return;
    if (_isHeaders(init)) { this.#copyFrom(init); return; }
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
  // #copyFrom takes a copy of h's list (a string, until first use, is
  // shared as it is: strings do not change).
  #copyFrom(h) {
    const l = h.#list;
    this.#list = typeof l === "string" ? l : _copyArray(l);
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
    // Later pairs of that name go: the list is compacted in place (no
    // splice, which makes its result through Symbol.species).
    let w = found + 2;
    for (let i = found + 2; i < l.length; i += 2) {
      if (l[i] === n) continue;
      if (w !== i) { l[w] = l[i]; l[w + 1] = l[i + 1]; }
      w += 2;
    }
    l.length = w;
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
    _isHeaders = (x) => x !== null && typeof x === "object" && #list in x;
    _headersHas = (h, name) => h.#has(_normName(name));
    _headersGet = (h, name) => h.#get(_normName(name));
    _headersSet = (h, name, value) => h.#set(name, value);
    _headersEntries = (h) => h.#entries();
    // _headersTrusted builds Headers from a list Go (or the runtime)
    // already validated: flat (name, value, ...) or "\n"-joined, names
    // lowercase.
    _headersTrusted = (list) => {
      const h = new Headers();
      if (list) h.#list = list;
      return h;
    };
    // _headersCopy is a mutable copy of h.
    _headersCopy = (h) => {
      const c = new Headers();
      c.#copyFrom(h);
      return c;
    };
    // _headersPairs is the list as [[name, value], ...] (for Go).
    _headersPairs = (h) => {
      const l = h.#l(), out = [];
      for (let i = 0; i < l.length; i += 2) out[out.length] = [l[i], l[i + 1]];
      return out;
    };
    // _headersFlat is the list as the host takes it: "name\nvalue\n...".
    _headersFlat = (h) => {
      const l = h.#list;
      return typeof l === "string" ? l : ArrayPrototypeJoin(l, "\n");
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
  get [SymbolToStringTag]() { return "Headers"; }
}
// As Web IDL says, the iterator is entries itself (not a method that calls
// this.entries(), which the app may replace).
ObjectDefineProperty(Headers.prototype, SymbolIterator, { __proto__: null, value: Headers.prototype.entries, writable: true, configurable: true });

// ---- bodies ----

const _textPlain = "text/plain;charset=UTF-8";

// _bodyOf turns a BodyInit into what a body holds: a string (text stays a
// string until something needs its bytes: most bodies are text, and Go
// takes the string as it is), a Uint8Array or a ReadableStream. It sets
// _bodyType to the Content-Type the body implies, or null. The body's
// class is told by brand checks, its contents read through the families'
// own functions (not the app-visible methods of Blob, URLSearchParams...).
let _bodyType = null;
function _bodyOf(body) {
  _bodyType = null;
  if (typeof body === "string") { _bodyType = _textPlain; return _usv(body); }
  if (ArrayBufferIsView(body) || _isArrayBuffer(body)) return _copyBytes(body);
  // A lazily evaluated family that has not been loaded cannot have made
  // the body, so check __loaded first instead of touching (loading) it.
  if (__loaded.has("url") && _shared.isSearchParams(body)) { _bodyType = "application/x-www-form-urlencoded;charset=UTF-8"; return _utf8.encode(_shared.searchParamsString(body)); }
  if (__loaded.has("blob_formdata")) {
    if (_shared.isBlob(body)) { _bodyType = _shared.blobType(body) || null; return _shared.blobBytes(body); }
    if (_shared.isFormData(body)) { const enc = _shared.encodeMultipart(body); _bodyType = enc.type; return enc.bytes; }
  }
  if (__loaded.has("streams") && _shared.isStream(body)) return body;
  _bodyType = _textPlain;
  return _usv(body);
}

// The Body mixin of Request and Response. Each class keeps its body in
// private fields, #body (null, a string, a Uint8Array or a ReadableStream)
// and #used (read), and gives the functions below an accessor object B:
// {get(r), set(r, v), used(r), use(r), contentType(r)}. The classes' body
// methods are one-line calls of these functions, which the runtime calls
// too (never the methods, which the app may replace).

// _isStreamBody reports whether a body is a ReadableStream.
function _isStreamBody(b) { return b !== null && typeof b === "object" && !_isUint8Array(b); }

function _bodyUsed(r, B) {
  if (B.used(r)) return true;
  const b = B.get(r);
  return _isStreamBody(b) && _shared.isDisturbed(b);
}

// _bodyStream is the body getter: a body held in memory becomes a stream.
function _bodyStream(r, B) {
  const b = B.get(r);
  if (b === null || _isStreamBody(b)) return b;
  const s = _streamOfBytes(typeof b === "string" ? _utf8.encode(b) : b);
  B.set(r, s);
  return s;
}

// _bytesNow returns the body's bytes when they are held in memory (and
// marks the body used), or undefined for a stream.
function _bytesNow(r, B) {
  const b = B.get(r);
  if (b === null) { B.use(r); return new Uint8Array(0); }
  if (typeof b === "string") { B.use(r); return _utf8.encode(b); }
  if (!_isStreamBody(b)) { B.use(r); return b; }
  return undefined;
}

// _consume reads the whole body as bytes.
async function _consume(r, B) {
  if (_bodyUsed(r, B)) throw new TypeError("Body has already been used. It can only be read once; call clone() before reading to read it twice.");
  const now = _bytesNow(r, B);
  if (now !== undefined) return now;
  B.use(r);
  const s = B.get(r);
  if (_shared.streamLocked(s)) throw new TypeError("The body's stream is locked to a reader.");
  const reader = _shared.streamReader(s);
  const chunks = [];
  for (;;) {
    const { done, value } = await _shared.readerRead(reader);
    if (done) break;
    chunks[chunks.length] = toBytes(value);
  }
  return concatBytes(chunks);
}

// _takeText returns the body as a string without a round trip through
// bytes, or null when it is not held as a string.
function _takeText(r, B) {
  const b = B.get(r);
  if (typeof b !== "string" || B.used(r)) return null;
  B.use(r);
  return b;
}

async function _bodyArrayBuffer(r, B) { return _bufferOf(await _consume(r, B)); }
async function _bodyBytes(r, B) { return _sliceBytes(await _consume(r, B)); }
async function _bodyText(r, B) {
  const t = _takeText(r, B);
  return t !== null ? t : _utf8.decode(await _consume(r, B));
}
async function _bodyJSON(r, B) { return JSONParse(await _bodyText(r, B)); }
async function _bodyBlob(r, B) {
  const type = B.contentType(r);
  const b = await _consume(r, B);
  return new (_global("Blob"))([b], { __proto__: null, type });
}
async function _bodyFormData(r, B) {
  const type = B.contentType(r);
  const bytes = await _consume(r, B);
  __load("blob_formdata");
  return _shared.parseFormData(bytes, type);
}

// _cloneBody gives dst a copy of src's body (a stream is teed).
function _cloneBody(src, dst, B) {
  if (B.used(src)) throw new TypeError("Body has already been used; it cannot be cloned.");
  const b = B.get(src);
  if (_isStreamBody(b)) {
    const branches = _shared.tee(b);
    B.set(src, branches[0]);
    B.set(dst, branches[1]);
  } else B.set(dst, b);
}

function _streamOfBytes(bytes) {
  _global("ReadableStream"); // loads the streams family
  return _shared.streamOfBytes(bytes);
}

// The prelude's own reading of an AbortSignal (not through
// AbortSignal.prototype). A signal that is not an AbortSignal (an object of
// the app's) is used through its own members.
function _isSignal(s) { return __loaded.has("events") && _shared.isSignal(s); }
function _signalAborted(s) { return _isSignal(s) ? _shared.signalAborted(s) : !!s.aborted; }
function _signalReason(s) { return _isSignal(s) ? _shared.signalReason(s) : s.reason; }
// _onAbort runs fn once when s aborts; it returns a function that cancels that.
function _onAbort(s, fn) {
  if (_isSignal(s)) return _shared.onAbort(s, fn);
  s.addEventListener("abort", fn, { once: true });
  return () => { s.removeEventListener("abort", fn); };
}
// _newSignal is a new AbortSignal (the signal of a new AbortController).
function _newAbortSignal() {
  _global("AbortController"); // loads the events family
  return _shared.newSignal();
}

const _methods = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
function _normMethod(m) {
  m = String(m);
  if (m === "GET" || m === "POST") return m;
  if (!_test(_validHeaderName, m)) throw new TypeError("Invalid HTTP method: " + JSONStringify(m));
  const u = StringPrototypeToUpperCase(m);
  return ArrayPrototypeIncludes(_methods, u) ? u : m;
}

// _parseURL is new URL(url, base).href, from the url family's parser.
function _parseURL(url, base) {
  _global("URL"); // loads the url family
  return _shared.urlHref(url, base);
}

// _noInit stands for a missing RequestInit: it has no prototype, so no
// member the app adds to Object.prototype is read as an option.
const _noInit = ObjectFreeze({ __proto__: null });

// _internalReq is set while the runtime builds a Request from parts it
// already checked: [method, url, headers (Headers, or a "\n"-joined string
// as Go sends them), body, redirect, signal, cf].
let _internalReq = null;

// The prelude's own access to a Request (set in the class's static block).
let _isRequest, _reqB, _reqMethod, _reqUrl, _reqHeaders, _reqRedirect, _reqSignal;

class Request {
  #method; #url; #headers; #signal; #redirect; #cf; #body; #used;
  constructor(input, init) {
    const g = _internalReq;
    if (g !== null) {
      _internalReq = null;
      this.#method = g[0];
      this.#url = g[1];
      this.#headers = g[2];
      this.#body = g[3];
      this.#used = false;
      this.#redirect = g[4];
      this.#signal = g[5];
      this.#cf = g[6];
      return;
    }
    this.#body = null;
    this.#used = false;
    if (init === null || typeof init !== "object") init = _noInit;
    let src = null;
    if (_isRequest(input)) { src = input; }
    else { input = String(input); }
    this.#url = src ? src.#url : _parseURL(input);
    this.#method = init.method !== undefined ? _normMethod(init.method) : (src ? src.#method : "GET");
    const hi = init.headers;
    this.#headers = hi !== undefined ? new Headers(hi) : src ? _headersCopy(src.#h()) : new Headers();
    this.#redirect = init.redirect || (src ? src.#redirect : "follow");
    this.#signal = init.signal || (src ? src.#signal : null) || null;
    this.#cf = init.cf || (src ? src.#cf : undefined);
    const body = init.body;
    if (body !== undefined && body !== null && (this.#method === "GET" || this.#method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    if (body !== undefined) {
      if (body !== null) {
        this.#body = _bodyOf(body);
        const h = this.#headers;
        if (_bodyType !== null && !_headersHas(h, "content-type")) _headersSet(h, "content-type", _bodyType);
      }
    } else if (src) {
      if (_bodyUsed(src, _reqB)) throw new TypeError("Cannot construct a Request with a Request whose body has already been used.");
      _cloneBody(src, this, _reqB);
      src.#used = src.#body !== null; // the body moves to the new request
    }
  }
  // #h is the Headers (made from Go's string on first use).
  #h() {
    const h = this.#headers;
    return typeof h === "string" ? (this.#headers = _headersTrusted(h)) : h;
  }
  static {
    _isRequest = (x) => x !== null && typeof x === "object" && #url in x;
    _reqB = {
      __proto__: null,
      get: (r) => r.#body,
      set: (r, v) => { r.#body = v; },
      used: (r) => r.#used,
      use: (r) => { r.#used = true; },
      contentType: (r) => _headersGet(r.#h(), "content-type") || "",
    };
    _reqMethod = (r) => r.#method;
    _reqUrl = (r) => r.#url;
    _reqHeaders = (r) => r.#h();
    _reqRedirect = (r) => r.#redirect;
    _reqSignal = (r) => r.#signal;
  }
  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() { return this.#h(); }
  // The signal is made on first use: most requests never look at it.
  get signal() { if (!this.#signal) this.#signal = _newAbortSignal(); return this.#signal; }
  get redirect() { return this.#redirect; }
  get cf() { return this.#cf; }
  get keepalive() { return false; }
  get integrity() { return ""; }
  get cache() { return undefined; }
  get body() { return _bodyStream(this, _reqB); }
  get bodyUsed() { return _bodyUsed(this, _reqB); }
  arrayBuffer() { return _bodyArrayBuffer(this, _reqB); }
  bytes() { return _bodyBytes(this, _reqB); }
  text() { return _bodyText(this, _reqB); }
  json() { return _bodyJSON(this, _reqB); }
  blob() { return _bodyBlob(this, _reqB); }
  formData() { return _bodyFormData(this, _reqB); }
  clone() {
    const h = this.#headers;
    _internalReq = [this.#method, this.#url, typeof h === "string" ? h : _headersCopy(h), null, this.#redirect, this.#signal, this.#cf];
    let r;
    try { r = new Request(); } finally { _internalReq = null; }
    _cloneBody(this, r, _reqB);
    return r;
  }
  get [SymbolToStringTag]() { return "Request"; }
}

const _redirectStatuses = [301, 302, 303, 307, 308];
const _nullBodyStatuses = [101, 204, 205, 304];

// The prelude's own access to a Response (set in the class's static block).
let _isResponse, _resB, _resStatus, _resStatusText, _resFlatHeaders, _resSetUrl;

class Response {
  // #headers is a Headers, or until first use the Content-Type the body
  // implies (a string) or null: most responses never touch their headers.
  // #more holds what few responses have: {type, url, redirected, webSocket}.
  #status; #statusText; #headers; #more; #body; #used;
  constructor(body = null, init = undefined) {
    this.#used = false;
    this.#more = null;
    if (init === undefined || init === null || typeof init !== "object") {
      this.#status = 200;
      this.#statusText = "";
      if (body === null || body === undefined) { this.#body = null; this.#headers = null; return; }
      if (typeof body === "string") { this.#body = _usv(body); this.#headers = _textPlain; return; }
      this.#body = _bodyOf(body);
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
    if (init.webSocket) this.#more = { __proto__: null, type: "default", url: "", redirected: false, webSocket: init.webSocket };
    if (body != null && ArrayPrototypeIncludes(_nullBodyStatuses, status)) throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
    this.#body = body == null ? null : _bodyOf(body);
    const type = body == null ? null : _bodyType;
    if (headers === null) this.#headers = type;
    else {
      if (type !== null && !_headersHas(headers, "content-type")) _headersSet(headers, "content-type", type);
      this.#headers = headers;
    }
  }
  static json(data, init = _noInit) {
    const text = JSONStringify(data);
    if (text === undefined) throw new TypeError("Response.json: value is not JSON-serializable");
    const headers = new Headers(init.headers);
    if (!_headersHas(headers, "content-type")) _headersSet(headers, "content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    if (!ArrayPrototypeIncludes(_redirectStatuses, status)) throw new RangeError("Invalid status code for redirect: " + status);
    return new Response(null, { __proto__: null, status, headers: { __proto__: null, location: _parseURL(url) } });
  }
  static error() {
    const r = new Response(null, { __proto__: null, status: 200 });
    r.#makeError();
    return r;
  }
  #m() { return this.#more || (this.#more = { __proto__: null, type: "default", url: "", redirected: false, webSocket: null }); }
  #makeError() { this.#m().type = "error"; this.#status = 0; _immutable.add(this.#h()); }
  // #h is the Headers (made on first use).
  #h() {
    const h = this.#headers;
    if (h !== null && typeof h === "object") return h;
    return (this.#headers = _headersTrusted(h === null ? null : ["content-type", h]));
  }
  static {
    _isResponse = (x) => x !== null && typeof x === "object" && #status in x;
    _resB = {
      __proto__: null,
      get: (r) => r.#body,
      set: (r, v) => { r.#body = v; },
      used: (r) => r.#used,
      use: (r) => { r.#used = true; },
      contentType: (r) => {
        const h = r.#headers;
        return h === null ? "" : typeof h === "string" ? h : _headersGet(h, "content-type") || "";
      },
    };
    _resStatus = (r) => r.#status;
    _resStatusText = (r) => r.#statusText;
    // _resFlatHeaders is the header list for the host without making Headers.
    _resFlatHeaders = (r) => {
      const h = r.#headers;
      if (h === null) return "";
      if (typeof h === "string") return "content-type\n" + h;
      return _headersFlat(h);
    };
    _resSetUrl = (r, u, redirected) => {
      if (!u && !redirected && r.#more === null) return;
      const m = r.#m();
      m.url = u;
      m.redirected = !!redirected;
    };
  }
  get status() { return this.#status; }
  get statusText() { return this.#statusText; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get headers() { return this.#h(); }
  get type() { return this.#more === null ? "default" : this.#more.type; }
  get url() { return this.#more === null ? "" : this.#more.url; }
  get redirected() { return this.#more === null ? false : this.#more.redirected; }
  get webSocket() { return this.#more === null ? null : this.#more.webSocket; }
  get body() { return _bodyStream(this, _resB); }
  get bodyUsed() { return _bodyUsed(this, _resB); }
  arrayBuffer() { return _bodyArrayBuffer(this, _resB); }
  bytes() { return _bodyBytes(this, _resB); }
  text() { return _bodyText(this, _resB); }
  json() { return _bodyJSON(this, _resB); }
  blob() { return _bodyBlob(this, _resB); }
  formData() { return _bodyFormData(this, _resB); }
  clone() {
    const m = this.#more;
    if (m !== null && m.webSocket) throw new TypeError("A Response with a webSocket cannot be cloned.");
    const r = new Response();
    r.#status = this.#status;
    r.#statusText = this.#statusText;
    const h = this.#headers;
    r.#headers = h !== null && typeof h === "object" ? _headersCopy(h) : h;
    if (m !== null) {
      r.#more = { __proto__: null, type: m.type, url: m.url, redirected: m.redirected, webSocket: null };
      if (m.type === "error") _immutable.add(r.#h());
    }
    _cloneBody(this, r, _resB);
    return r;
  }
  get [SymbolToStringTag]() { return "Response"; }
}

// _requestForGo serialises a Request for Go: {method,url,headers,body(b64)}.
async function _requestForGo(req) {
  let body = null;
  if (_reqB.get(req) !== null) body = b64(await _consume(req, _reqB));
  return JSONStringify({ method: _reqMethod(req), url: _reqUrl(req), headers: _headersPairs(_reqHeaders(req)), body, redirect: _reqRedirect(req) });
}

function _responseFromGo(json) {
  const w = JSONParse(json);
  const body = w.body == null || ArrayPrototypeIncludes(_nullBodyStatuses, w.status) ? null : fromB64(w.body);
  const r = new Response(body, { __proto__: null, status: w.status, statusText: w.statusText || "", headers: w.headers });
  _resSetUrl(r, w.url || "", w.redirected);
  return r;
}

// _requestFromGo builds the Request a fetch event delivers from what Go
// sends: its headers stay one string until the handler reads them.
function _requestFromGo(method, url, headers, body) {
  _internalReq = [method, url, headers, method === "GET" || method === "HEAD" ? null : body, "follow", undefined, undefined];
  try { return new Request(); } finally { _internalReq = null; }
}

async function fetch(input, init) {
  const req = new Request(input, init);
  const signal = _reqSignal(req);
  if (signal && _signalAborted(signal)) throw _signalReason(signal);
  const r = await _requestForGo(req);
  const p = callOpAsync("fetch", r);
  let res;
  if (signal) {
    res = await new Promise((resolve, reject) => {
      const off = _onAbort(signal, () => reject(_signalReason(signal)));
      PromisePrototypeThen(p, (v) => { off(); resolve(v); }, (e) => { off(); reject(e); });
    });
  } else res = await p;
  return _responseFromGo(res);
}

defineGlobal("Headers", Headers);
defineGlobal("Request", Request);
defineGlobal("Response", Response);
defineGlobal("fetch", fetch);
