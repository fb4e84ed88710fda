// Blob, File and FormData (the File API and XHR standards, as Workers expose
// them), and the multipart/form-data and urlencoded codecs that Request and
// Response bodies use (_encodeMultipart, _parseFormData).

const _blobBytes = new WeakMap(); // Blob -> Uint8Array (never handed out; callers get copies)

function _normBlobType(t) {
  if (t === undefined) return "";
  t = String(t);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return "";
  }
  return t.toLowerCase();
}

function _blobPartBytes(part, endings) {
  if (part instanceof Blob) return _blobBytes.get(part);
  if (part instanceof ArrayBuffer || ArrayBuffer.isView(part)) return toBytes(part).slice();
  let s = String(part);
  if (endings === "native") s = s.replace(/\r\n|\r|\n/g, "\n");
  return _utf8.encode(s);
}

function _blobFromBytes(bytes, type) {
  const b = new Blob([], { type });
  _blobBytes.set(b, bytes);
  return b;
}

class Blob {
  #type = "";
  constructor(parts, options) {
    const o = options == null ? {} : options;
    if (typeof o !== "object" && typeof o !== "function") throw new TypeError("Blob options must be an object");
    const endings = o.endings === undefined ? "transparent" : String(o.endings);
    if (endings !== "transparent" && endings !== "native") throw new TypeError(`Blob options.endings must be "transparent" or "native"; got ${JSON.stringify(endings)}`);
    const chunks = [];
    if (parts !== undefined) {
      if (parts === null || typeof parts !== "object" || typeof parts[Symbol.iterator] !== "function") {
        throw new TypeError("The Blob constructor requires its first argument to be an iterable (an array of strings, BufferSources or Blobs)");
      }
      for (const p of parts) chunks.push(_blobPartBytes(p, endings));
    }
    _blobBytes.set(this, chunks.length === 1 ? chunks[0] : concatBytes(chunks));
    this.#type = _normBlobType(o.type);
  }
  // _bytes returns a copy of the Blob's bytes (for Request/Response bodies).
  _bytes() { return _brand(_blobBytes, this, "Blob").slice(); }
  get size() { return _brand(_blobBytes, this, "Blob").byteLength; }
  get type() { _brand(_blobBytes, this, "Blob"); return this.#type; }
  slice(start, end, contentType) {
    const bytes = _brand(_blobBytes, this, "Blob");
    const n = bytes.byteLength;
    const rel = (x, dflt) => {
      if (x === undefined) return dflt;
      x = Math.trunc(Number(x)) || 0;
      return x < 0 ? Math.max(n + x, 0) : Math.min(x, n);
    };
    const from = rel(start, 0), to = rel(end, n);
    return _blobFromBytes(bytes.subarray(from, Math.max(from, to)), _normBlobType(contentType));
  }
  async text() { return _utf8.decode(_brand(_blobBytes, this, "Blob")); }
  async arrayBuffer() { return this._bytes().buffer; }
  async bytes() { return this._bytes(); }
  stream() {
    let bytes = _brand(_blobBytes, this, "Blob");
    const CHUNK = 65536;
    let off = 0;
    return new ReadableStream({
      type: "bytes",
      pull(c) {
        if (off >= bytes.byteLength) { c.close(); return; }
        const end = Math.min(off + CHUNK, bytes.byteLength);
        c.enqueue(bytes.slice(off, end));
        off = end;
      },
      cancel() { bytes = new Uint8Array(0); },
    });
  }
  get [Symbol.toStringTag]() { return "Blob"; }
}

class File extends Blob {
  #name; #lastModified;
  constructor(bits, name, options) {
    if (arguments.length < 2) throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    super(bits, options);
    this.#name = String(name);
    const lm = options == null ? undefined : options.lastModified;
    this.#lastModified = lm === undefined ? Date.now() : Math.trunc(Number(lm)) || 0;
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get webkitRelativePath() { return ""; }
  get [Symbol.toStringTag]() { return "File"; }
}

// ---- FormData ----

function _formValue(value, filename, nargs) {
  if (value instanceof Blob) {
    if (filename !== undefined) {
      return new File([value], String(filename), { type: value.type, lastModified: value instanceof File ? value.lastModified : undefined });
    }
    if (value instanceof File) return value;
    return new File([value], "blob", { type: value.type });
  }
  if (nargs > 2) throw new TypeError("FormData: a filename can only be given when the value is a Blob or File.");
  return String(value);
}

class FormData {
  #list = [];
  constructor(form) {
    if (form !== undefined) throw new TypeError("FormData: constructing from a form element is not supported; call new FormData() with no arguments.");
  }
  #args(n, name, got) { if (got < n) throw new TypeError(`FormData.${name}: ${n} argument${n > 1 ? "s" : ""} required, but only ${got} present.`); }
  append(name, value, filename) {
    this.#args(2, "append", arguments.length);
    this.#list.push([String(name), _formValue(value, filename, arguments.length)]);
  }
  set(name, value, filename) {
    this.#args(2, "set", arguments.length);
    const n = String(name), v = _formValue(value, filename, arguments.length);
    const i = this.#list.findIndex(([k]) => k === n);
    if (i < 0) { this.#list.push([n, v]); return; }
    this.#list[i] = [n, v];
    this.#list = this.#list.filter(([k], j) => k !== n || j === i);
  }
  get(name) {
    this.#args(1, "get", arguments.length);
    const n = String(name);
    const e = this.#list.find(([k]) => k === n);
    return e ? e[1] : null;
  }
  getAll(name) {
    this.#args(1, "getAll", arguments.length);
    const n = String(name);
    return this.#list.filter(([k]) => k === n).map(([, v]) => v);
  }
  has(name) {
    this.#args(1, "has", arguments.length);
    const n = String(name);
    return this.#list.some(([k]) => k === n);
  }
  delete(name) {
    this.#args(1, "delete", arguments.length);
    const n = String(name);
    this.#list = this.#list.filter(([k]) => k !== n);
  }
  forEach(cb, thisArg) {
    if (typeof cb !== "function") throw new TypeError("FormData.forEach: the callback must be a function");
    for (const [k, v] of this) cb.call(thisArg, v, k, this);
  }
  *entries() { for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]]; }
  *keys() { for (const [k] of this.entries()) yield k; }
  *values() { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "FormData"; }
}

// ---- multipart/form-data ----

function _escapeMultipartName(s) {
  return s.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
}

// _encodeMultipart serialises a FormData as a multipart/form-data body.
function _encodeMultipart(fd) {
  let boundary = "----WarrenFormBoundary";
  for (let i = 0; i < 16; i++) boundary += "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[Math.floor(Math.random() * 62)];
  const chunks = [];
  const crlf = (s) => s.replace(/\r\n|\r|\n/g, "\r\n");
  for (const [name, value] of fd) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${_escapeMultipartName(crlf(name))}"`;
    if (typeof value === "string") {
      chunks.push(_utf8.encode(head + "\r\n\r\n" + crlf(value) + "\r\n"));
    } else {
      head += `; filename="${_escapeMultipartName(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
      chunks.push(_utf8.encode(head), _blobBytes.get(value), _utf8.encode("\r\n"));
    }
  }
  chunks.push(_utf8.encode(`--${boundary}--\r\n`));
  return { bytes: concatBytes(chunks), type: "multipart/form-data; boundary=" + boundary };
}

// _mimeParams parses "essence; a=b; c=\"d\"" into {essence, params}.
function _mimeParams(header) {
  const s = String(header);
  const semi = s.indexOf(";");
  const essence = (semi < 0 ? s : s.slice(0, semi)).trim().toLowerCase();
  const params = new Map();
  if (semi < 0) return { essence, params };
  let i = semi + 1;
  while (i < s.length) {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ";")) i++;
    let j = i;
    while (j < s.length && s[j] !== "=" && s[j] !== ";") j++;
    const key = s.slice(i, j).trim().toLowerCase();
    i = j;
    if (s[i] !== "=") { i++; continue; }
    i++;
    let value = "";
    if (s[i] === "\"") {
      i++;
      while (i < s.length && s[i] !== "\"") {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i++];
      }
      i++; // closing quote
      while (i < s.length && s[i] !== ";") i++;
    } else {
      j = i;
      while (j < s.length && s[j] !== ";") j++;
      value = s.slice(i, j).trim();
      i = j;
    }
    if (key && !params.has(key)) params.set(key, value);
  }
  return { essence, params };
}

function _indexOfBytes(hay, needle, from) {
  const first = needle[0], m = needle.length, last = hay.length - m;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    let k = 1;
    while (k < m && hay[i + k] === needle[k]) k++;
    if (k === m) return i;
  }
  return -1;
}

function _parseMultipart(bytes, boundary) {
  const bad = (what) => new TypeError("Failed to parse the multipart/form-data body: " + what);
  if (!boundary) throw new TypeError("Failed to parse the body as FormData: the multipart/form-data Content-Type has no boundary parameter.");
  if (boundary.length > 200) throw bad("the boundary is longer than 200 characters.");
  const delim = _utf8.encode("--" + boundary);
  const crlfDelim = _utf8.encode("\r\n--" + boundary);
  const headEnd = _utf8.encode("\r\n\r\n");
  const fd = new FormData();
  // The first delimiter may follow a preamble.
  let pos;
  if (_indexOfBytes(bytes.subarray(0, delim.length), delim, 0) === 0) pos = delim.length;
  else {
    const i = _indexOfBytes(bytes, crlfDelim, 0);
    if (i < 0) throw bad(`the boundary ${JSON.stringify(boundary)} does not occur in the body.`);
    pos = i + crlfDelim.length;
  }
  for (;;) {
    // After a delimiter: "--" ends the body; otherwise optional padding, CRLF, headers.
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return fd;
    while (bytes[pos] === 0x20 || bytes[pos] === 0x09) pos++;
    if (bytes[pos] !== 0x0d || bytes[pos + 1] !== 0x0a) {
      throw bad(pos >= bytes.length ? "the body ends without the closing boundary (--" + boundary + "--)." : "a boundary line is not followed by CRLF.");
    }
    pos += 2;
    let headers, bodyStart;
    if (bytes[pos] === 0x0d && bytes[pos + 1] === 0x0a) { headers = ""; bodyStart = pos + 2; }
    else {
      const he = _indexOfBytes(bytes, headEnd, pos);
      if (he < 0) throw bad("a part's headers are not terminated by an empty line.");
      headers = _utf8.decode(bytes.subarray(pos, he));
      bodyStart = he + 4;
    }
    const bodyEnd = _indexOfBytes(bytes, crlfDelim, bodyStart);
    if (bodyEnd < 0) throw bad("the body ends without the closing boundary (--" + boundary + "--).");
    let disposition = null, ctype = null;
    for (const line of headers.split("\r\n")) {
      if (line === "") continue;
      const c = line.indexOf(":");
      if (c <= 0) throw bad(`malformed part header ${JSON.stringify(line)}.`);
      const hname = line.slice(0, c).trim().toLowerCase(), hval = line.slice(c + 1).trim();
      if (hname === "content-disposition") disposition = hval;
      else if (hname === "content-type") ctype = hval;
    }
    if (disposition === null) throw bad("a part has no Content-Disposition header.");
    const d = _mimeParams(disposition);
    if (d.essence !== "form-data") throw bad(`a part's Content-Disposition is ${JSON.stringify(d.essence)}, not form-data.`);
    if (!d.params.has("name")) throw bad("a part's Content-Disposition has no name parameter.");
    const name = d.params.get("name");
    let filename = d.params.has("filename") ? d.params.get("filename") : null;
    const star = d.params.get("filename*");
    if (star !== undefined) {
      const m = /^utf-8'[^']*'(.*)$/i.exec(star);
      if (m) { try { filename = decodeURIComponent(m[1]); } catch {} }
    }
    const content = bytes.subarray(bodyStart, bodyEnd);
    if (filename !== null) {
      fd.append(name, new File([content], filename, { type: ctype || "" }));
    } else {
      fd.append(name, _utf8.decode(content));
    }
    pos = bodyEnd + crlfDelim.length;
  }
}

// _parseFormData turns a body into FormData according to its Content-Type.
function _parseFormData(bytes, contentType) {
  const { essence, params } = _mimeParams(contentType || "");
  if (essence === "multipart/form-data") return _parseMultipart(bytes, params.get("boundary"));
  if (essence === "application/x-www-form-urlencoded") {
    const fd = new FormData();
    for (const [k, v] of new URLSearchParams(_utf8.decode(bytes))) fd.append(k, v);
    return fd;
  }
  throw new TypeError(`Unrecognized Content-Type header value ${JSON.stringify(String(contentType || ""))}: FormData can only parse multipart/form-data and application/x-www-form-urlencoded bodies.`);
}

defineGlobal("Blob", Blob);
defineGlobal("File", File);
defineGlobal("FormData", FormData);

_shared.encodeMultipart = _encodeMultipart;
_shared.parseFormData = _parseFormData;
