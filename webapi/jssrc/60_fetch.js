// Headers, Request, Response and fetch (the Fetch standard, as Workers use it).

const _validHeaderName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function _normValue(v) {
  v = typeof v === "string" ? v : String(v);
  const n = v.length;
  // Fast path: no surrounding whitespace to trim (most values).
  if (n > 0 && (v.charCodeAt(0) <= 32 || v.charCodeAt(n - 1) <= 32)) v = v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(v)) throw new TypeError("Invalid header value: " + JSON.stringify(v));
  return v;
}
// Names seen before skip validation; the cache is bounded.
const _names = new Map();
function _normName(n) {
  if (typeof n !== "string") n = String(n);
  const c = _names.get(n);
  if (c !== undefined) return c;
  if (!_validHeaderName.test(n)) throw new TypeError("Invalid header name: " + JSON.stringify(n));
  const l = n.toLowerCase();
  if (_names.size < 512) _names.set(n, l);
  return l;
}

class Headers {
  #list = []; // [name(lowercase), value]
  #guard = "none";
  constructor(init) {
    if (init == null) return;
    if (init instanceof Headers) { for (const [k, v] of init) this.append(k, v); return; }
    if (typeof init !== "object") throw new TypeError("Headers init must be an object, an array of pairs, or Headers");
    if (typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const p = Array.from(pair);
        if (p.length !== 2) throw new TypeError("Each header pair must have exactly two items");
        this.append(p[0], p[1]);
      }
      return;
    }
    for (const k of Object.keys(init)) this.append(k, init[k]);
  }
  _setGuard(g) { this.#guard = g; return this; }
  // _trusted builds Headers from pairs that Go already validated.
  static _trusted(pairs) {
    const h = new Headers();
    if (pairs) for (let i = 0; i < pairs.length; i++) h.#list.push([pairs[i][0].toLowerCase(), pairs[i][1]]);
    return h;
  }
  #check() { if (this.#guard === "immutable") throw new TypeError("Can't modify immutable headers."); }
  append(name, value) {
    this.#check();
    const n = _normName(name), v = _normValue(value);
    this.#list.push([n, v]);
  }
  delete(name) {
    this.#check();
    const n = _normName(name), l = this.#list, out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] !== n) out.push(l[i]);
    this.#list = out;
  }
  get(name) {
    const n = _normName(name), l = this.#list;
    let r = null;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) r = r === null ? l[i][1] : r + ", " + l[i][1];
    return r;
  }
  getSetCookie() { return this.getAll("set-cookie"); }
  getAll(name) {
    const n = _normName(name), l = this.#list, out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) out.push(l[i][1]);
    return out;
  }
  has(name) {
    const n = _normName(name), l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) return true;
    return false;
  }
  set(name, value) {
    this.#check();
    const n = _normName(name), v = _normValue(value), l = this.#list;
    let found = -1;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) { found = i; break; }
    if (found < 0) { l.push([n, v]); return; }
    l[found] = [n, v];
    for (let i = l.length - 1; i > found; i--) if (l[i][0] === n) l.splice(i, 1);
  }
  forEach(cb, thisArg) { for (const [k, v] of this) cb.call(thisArg, v, k, this); }
  *entries() {
    const names = [...new Set(this.#list.map(([k]) => k))].sort();
    for (const n of names) {
      if (n === "set-cookie") { for (const v of this.getSetCookie()) yield [n, v]; }
      else yield [n, this.get(n)];
    }
  }
  *keys() { for (const [k] of this.entries()) yield k; }
  *values() { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "Headers"; }
  _pairs() { return this.#list.map(([k, v]) => [k, v]); }
}

// ---- bodies ----

// _extractBody turns a BodyInit into {bytes|text|stream, type}. A string
// body stays a string until something needs its bytes: most bodies are
// text, and Go takes the string as it is.
function _extractBody(body) {
  if (body == null) return { bytes: null, stream: null, type: null };
  if (typeof body === "string") return { text: _usv(body), bytes: null, type: "text/plain;charset=UTF-8" };
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { bytes: toBytes(body).slice(), type: null };
  // A lazily evaluated family that has not been loaded cannot have made
  // the body, so check __loaded first instead of touching (loading) it.
  if (__loaded.has("url") && body instanceof URLSearchParams) return { bytes: _utf8.encode(body.toString()), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  if (__loaded.has("blob_formdata") && body instanceof Blob) return { bytes: body._bytes(), type: body.type || null };
  if (__loaded.has("blob_formdata") && body instanceof FormData) { const enc = _shared.encodeMultipart(body); return { bytes: enc.bytes, type: enc.type }; }
  if (__loaded.has("streams") && body instanceof ReadableStream) return { bytes: null, stream: body, type: null };
  return { text: _usv(body), bytes: null, type: "text/plain;charset=UTF-8" };
}

class _Body {
  _bytes = null;      // Uint8Array, or null
  _text = null;       // the body as a string, until its bytes are needed
  _stream = null;     // ReadableStream, when the body is streamed
  _used = false;
  _hasBody = false;
  _initBody(body, headers) {
    const x = _extractBody(body);
    this._bytes = x.bytes;
    this._text = x.text === undefined ? null : x.text;
    this._stream = x.stream || null;
    this._hasBody = body != null;
    if (x.type && !headers.has("content-type")) headers.set("content-type", x.type);
  }
  get bodyUsed() { return this._used || (this._stream !== null && _shared.isDisturbed !== undefined && _shared.isDisturbed(this._stream)); }
  get body() {
    if (!this._hasBody) return null;
    if (!this._stream) {
      const bytes = this._text !== null ? _utf8.encode(this._text) : this._bytes;
      this._bytes = null;
      this._text = null;
      this._stream = _streamOfBytes(bytes);
    }
    return this._stream;
  }
  async _consume() {
    if (this.bodyUsed) throw new TypeError("Body has already been used. It can only be read once; call clone() before reading to read it twice.");
    this._used = true;
    if (!this._hasBody) return new Uint8Array(0);
    if (this._stream) {
      if (this._stream.locked) throw new TypeError("The body's stream is locked to a reader.");
      const reader = this._stream.getReader();
      const chunks = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(toBytes(value));
      }
      return concatBytes(chunks);
    }
    if (this._text !== null) return _utf8.encode(this._text);
    return this._bytes || new Uint8Array(0);
  }
  // _takeText returns the body as a string without a round trip through
  // bytes, or null when it is not held as a string.
  _takeText() {
    if (this._text === null || this._used || this._stream) return null;
    this._used = true;
    return this._text;
  }
  async arrayBuffer() { const b = await this._consume(); return b.buffer.byteLength === b.byteLength && b.byteOffset === 0 ? b.buffer : b.slice().buffer; }
  async bytes() { return (await this._consume()).slice(); }
  async text() {
    const t = this._takeText();
    return t !== null ? t : _utf8.decode(await this._consume());
  }
  async json() { return JSON.parse(await this.text()); }
  async blob() { const b = await this._consume(); return new Blob([b], { type: this.headers.get("content-type") || "" }); }
  async formData() {
    const type = this.headers.get("content-type") || "";
    const bytes = await this._consume();
    __load("blob_formdata");
    return _shared.parseFormData(bytes, type);
  }
  _cloneBody(target) {
    if (this._used) throw new TypeError("Body has already been used; it cannot be cloned.");
    target._hasBody = this._hasBody;
    if (this._stream) {
      const [a, b] = this._stream.tee();
      this._stream = a;
      target._stream = b;
    } else {
      target._bytes = this._bytes;
      target._text = this._text;
    }
  }
}

function _streamOfBytes(bytes) {
  return new ReadableStream({
    pull(c) { if (bytes && bytes.byteLength) c.enqueue(bytes); bytes = null; c.close(); },
  });
}

const _methods = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
function _normMethod(m) {
  m = String(m);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) throw new TypeError("Invalid HTTP method: " + JSON.stringify(m));
  const u = m.toUpperCase();
  return _methods.includes(u) ? u : m;
}

// _trustedURL is set while the runtime builds a Request from a URL that Go
// already parsed and serialised, to skip parsing it again.
let _trustedURL = false;

class Request extends _Body {
  #method; #url; #headers; #signal; #redirect; #cf;
  constructor(input, init = {}) {
    super();
    if (init === null || typeof init !== "object") init = {};
    let src = null;
    if (input instanceof Request) { src = input; }
    else { input = String(input); }
    const trusted = _trustedURL;
    const url = src ? src.url : (trusted ? input : new URL(input).href);
    _trustedURL = false;
    this.#url = url;
    this.#method = init.method !== undefined ? _normMethod(init.method) : (src ? src.method : "GET");
    // A request the runtime builds from Go's wire form adopts its headers.
    this.#headers = trusted && init.headers instanceof Headers ? init.headers : new Headers(init.headers !== undefined ? init.headers : (src ? src.headers : undefined));
    this.#redirect = init.redirect || (src ? src.redirect : "follow");
    this.#signal = init.signal || (src ? src._signalIfAny() : null) || null;
    this.#cf = init.cf || (src ? src.cf : undefined);
    let body = init.body;
    if (body !== undefined && body !== null && (this.#method === "GET" || this.#method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    if (body !== undefined) this._initBody(body, this.#headers);
    else if (src) {
      if (src.bodyUsed) throw new TypeError("Cannot construct a Request with a Request whose body has already been used.");
      src._cloneBody(this);
      src._used = src._hasBody; // the body moves to the new request
    }
  }
  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() { return this.#headers; }
  // The signal is made on first use: most requests never look at it.
  get signal() { if (!this.#signal) this.#signal = new AbortController().signal; return this.#signal; }
  _signalIfAny() { return this.#signal; }
  get redirect() { return this.#redirect; }
  get cf() { return this.#cf; }
  get keepalive() { return false; }
  get integrity() { return ""; }
  get cache() { return undefined; }
  clone() {
    const r = new Request(this.#url, { method: this.#method, headers: this.#headers, redirect: this.#redirect, signal: this.#signal || undefined, cf: this.#cf });
    this._cloneBody(r);
    return r;
  }
  get [Symbol.toStringTag]() { return "Request"; }
}

const _redirectStatuses = [301, 302, 303, 307, 308];
const _nullBodyStatuses = [101, 204, 205, 304];

class Response extends _Body {
  #status; #statusText; #headers; #type = "default"; #url = ""; #webSocket = null; #redirected = false;
  constructor(body = null, init = {}) {
    super();
    if (init === null || typeof init !== "object") init = {};
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || ((status < 200 || status > 599) && !(status === 101 && init.webSocket))) {
      throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive; got ${init.status}.`);
    }
    this.#status = status;
    this.#statusText = init.statusText === undefined ? "" : String(init.statusText);
    this.#headers = new Headers(init.headers);
    this.#webSocket = init.webSocket || null;
    if (body != null && _nullBodyStatuses.includes(status)) throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
    this._initBody(body, this.#headers);
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Response.json: value is not JSON-serializable");
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    if (!_redirectStatuses.includes(status)) throw new RangeError("Invalid status code for redirect: " + status);
    const r = new Response(null, { status, headers: { location: new URL(url).href } });
    return r;
  }
  static error() { const r = new Response(null, { status: 200 }); r._makeError(); return r; }
  _makeError() { this.#type = "error"; this.#status = 0; this.#headers._setGuard("immutable"); }
  _setUrl(u, redirected) { this.#url = u; this.#redirected = !!redirected; }
  get status() { return this.#status; }
  get statusText() { return this.#statusText; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get headers() { return this.#headers; }
  get type() { return this.#type; }
  get url() { return this.#url; }
  get redirected() { return this.#redirected; }
  get webSocket() { return this.#webSocket; }
  clone() {
    if (this.#webSocket) throw new TypeError("A Response with a webSocket cannot be cloned.");
    const r = new Response(null, { status: this.#status === 0 ? 200 : this.#status, statusText: this.#statusText, headers: this.#headers });
    if (this.#type === "error") r._makeError();
    r._setUrl(this.#url, this.#redirected);
    this._cloneBody(r);
    return r;
  }
  get [Symbol.toStringTag]() { return "Response"; }
}

// _requestToWire serialises a Request for Go: {method,url,headers,body(b64)}.
async function _requestToWire(req) {
  let body = null;
  if (req._hasBody) body = b64(await req._consume());
  return JSON.stringify({ method: req.method, url: req.url, headers: req.headers._pairs(), body, redirect: req.redirect });
}

function _responseFromWire(json) {
  const w = JSON.parse(json);
  const body = w.body == null || _nullBodyStatuses.includes(w.status) ? null : fromB64(w.body);
  const r = new Response(body, { status: w.status, statusText: w.statusText || "", headers: w.headers });
  r._setUrl(w.url || "", w.redirected);
  return r;
}

function _requestFromWire(w) {
  _trustedURL = true;
  let req;
  try { req = new Request(w.url, { method: w.method, headers: Headers._trusted(w.headers) }); } finally { _trustedURL = false; }
  if (w.method !== "GET" && w.method !== "HEAD") {
    if (w.text != null) { req._text = w.text; req._hasBody = true; }
    else if (w.body != null) { req._bytes = fromB64(w.body); req._hasBody = true; }
  }
  return req;
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
      p.then((v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
             (e) => { signal.removeEventListener("abort", onAbort); reject(e); });
    });
  } else res = await p;
  return _responseFromWire(res);
}

defineGlobal("Headers", Headers);
defineGlobal("Request", Request);
defineGlobal("Response", Response);
defineGlobal("fetch", fetch);
