// Blob, File and FormData (the File API and XHR standards, as Workers expose
// them), and the multipart/form-data and urlencoded codecs that Request and
// Response bodies use (_encodeMultipart, _parseFormData).

const _blobBytes = new SafeWeakMap(); // Blob -> Uint8Array (never handed out; callers get copies)

const _blobTypeBad = /[^\x20-\x7e]/;
const _noBlobOptions = ObjectFreeze({ __proto__: null });
const _newlines = _re(/\r\n|\r|\n/g);

function _normBlobType(t) {
  if (t === undefined) return "";
  t = String(t);
  if (_test(_blobTypeBad, t)) return "";
  return StringPrototypeToLowerCase(t);
}

function _blobPartBytes(part, endings) {
  const b = _blobBytes.get(part);
  if (b !== undefined) return b;
  if (isBufferSource(part)) return _copyBytes(part);
  let s = String(part);
  if (endings === "native") s = StringPrototypeReplace(s, _newlines, "\n");
  return _utf8.encode(s);
}

function _blobFromBytes(bytes, type) {
  const b = new Blob([], { __proto__: null, type });
  _blobBytes.set(b, bytes);
  return b;
}

// The prelude's own access to a Blob's type and a File's name (set in the
// classes' static blocks; not through their getters, which the app may
// replace).
let _blobType, _fileName, _fileLastModified, _isFile;

class Blob {
  #type = "";
  constructor(parts, options) {
    const o = options == null ? _noBlobOptions : options;
    if (typeof o !== "object" && typeof o !== "function") throw new TypeError("Blob options must be an object");
    const endings = o.endings === undefined ? "transparent" : String(o.endings);
    if (endings !== "transparent" && endings !== "native") throw new TypeError(`Blob options.endings must be "transparent" or "native"; got ${JSONStringify(endings)}`);
    const chunks = [];
    if (parts !== undefined) {
      if (ArrayIsArray(parts)) {
        // An array is read by index, not through its iterator.
        for (let i = 0; i < parts.length; i++) chunks[i] = _blobPartBytes(parts[i], endings);
      } else {
        if (parts === null || typeof parts !== "object" || typeof parts[SymbolIterator] !== "function") {
          throw new TypeError("The Blob constructor requires its first argument to be an iterable (an array of strings, BufferSources or Blobs)");
        }
        for (const p of parts) chunks[chunks.length] = _blobPartBytes(p, endings);
      }
    }
    _blobBytes.set(this, chunks.length === 1 ? chunks[0] : concatBytes(chunks));
    this.#type = _normBlobType(o.type);
  }
  static { _blobType = (b) => b.#type; }
  get size() { return TypedArrayPrototypeGetByteLength(_brand(_blobBytes, this, "Blob")); }
  get type() { _brand(_blobBytes, this, "Blob"); return this.#type; }
  slice(start, end, contentType) {
    const bytes = _brand(_blobBytes, this, "Blob");
    const n = TypedArrayPrototypeGetByteLength(bytes);
    const rel = (x, dflt) => {
      if (x === undefined) return dflt;
      x = MathTrunc(Number(x)) || 0;
      return x < 0 ? MathMax(n + x, 0) : MathMin(x, n);
    };
    const from = rel(start, 0), to = rel(end, n);
    return _blobFromBytes(_subBytes(bytes, from, MathMax(from, to)), _normBlobType(contentType));
  }
  async text() { return _utf8.decode(_brand(_blobBytes, this, "Blob")); }
  async arrayBuffer() { return TypedArrayPrototypeGetBuffer(_sliceBytes(_brand(_blobBytes, this, "Blob"))); }
  async bytes() { return _sliceBytes(_brand(_blobBytes, this, "Blob")); }
  stream() {
    let bytes = _brand(_blobBytes, this, "Blob");
    const CHUNK = 65536;
    let off = 0;
    return new (_global("ReadableStream"))({
      __proto__: null,
      type: "bytes",
      pull(c) {
        const n = TypedArrayPrototypeGetByteLength(bytes);
        if (off >= n) { _shared.controllerClose(c); return; }
        const end = MathMin(off + CHUNK, n);
        _shared.controllerEnqueue(c, _subBytes(bytes, off, end));
        off = end;
      },
      cancel() { bytes = new Uint8Array(0); },
    });
  }
  get [SymbolToStringTag]() { return "Blob"; }
}

class File extends Blob {
  #name; #lastModified;
  constructor(bits, name, options) {
    if (arguments.length < 2) throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    super(bits, options);
    this.#name = String(name);
    const lm = options == null ? undefined : options.lastModified;
    this.#lastModified = lm === undefined ? DateNow() : MathTrunc(Number(lm)) || 0;
  }
  static {
    _isFile = (x) => x !== null && typeof x === "object" && #name in x;
    _fileName = (f) => f.#name;
    _fileLastModified = (f) => f.#lastModified;
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get webkitRelativePath() { return ""; }
  get [SymbolToStringTag]() { return "File"; }
}

// ---- FormData ----

function _formValue(value, filename, nargs) {
  if (_blobBytes.has(value)) {
    if (filename !== undefined) {
      return new File([value], String(filename), { __proto__: null, type: _blobType(value), lastModified: _isFile(value) ? _fileLastModified(value) : undefined });
    }
    if (_isFile(value)) return value;
    return new File([value], "blob", { __proto__: null, type: _blobType(value) });
  }
  if (nargs > 2) throw new TypeError("FormData: a filename can only be given when the value is a Blob or File.");
  return String(value);
}

// The prelude's own access to a FormData's entries (not through
// FormData.prototype, which the app may change).
let _formDataAppend, _formDataList;

class FormData {
  #list = [];
  constructor(form) {
    if (form !== undefined) throw new TypeError("FormData: constructing from a form element is not supported; call new FormData() with no arguments.");
  }
  static {
    _formDataAppend = (fd, name, value) => { fd.#list[fd.#list.length] = [name, value]; };
    _formDataList = (fd) => fd.#list;
    _shared.isFormData = (x) => x !== null && typeof x === "object" && #list in x;
  }
  #args(n, name, got) { if (got < n) throw new TypeError(`FormData.${name}: ${n} argument${n > 1 ? "s" : ""} required, but only ${got} present.`); }
  append(name, value, filename) {
    this.#args(2, "append", arguments.length);
    this.#list[this.#list.length] = [String(name), _formValue(value, filename, arguments.length)];
  }
  set(name, value, filename) {
    this.#args(2, "set", arguments.length);
    const n = String(name), v = _formValue(value, filename, arguments.length);
    const l = this.#list, out = [];
    let found = false;
    for (let i = 0; i < l.length; i++) {
      if (l[i][0] !== n) out[out.length] = l[i];
      else if (!found) { found = true; out[out.length] = [n, v]; }
    }
    if (!found) out[out.length] = [n, v];
    this.#list = out;
  }
  get(name) {
    this.#args(1, "get", arguments.length);
    const n = String(name), l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) return l[i][1];
    return null;
  }
  getAll(name) {
    this.#args(1, "getAll", arguments.length);
    const n = String(name), l = this.#list, out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) out[out.length] = l[i][1];
    return out;
  }
  has(name) {
    this.#args(1, "has", arguments.length);
    const n = String(name), l = this.#list;
    for (let i = 0; i < l.length; i++) if (l[i][0] === n) return true;
    return false;
  }
  delete(name) {
    this.#args(1, "delete", arguments.length);
    const n = String(name), l = this.#list, out = [];
    for (let i = 0; i < l.length; i++) if (l[i][0] !== n) out[out.length] = l[i];
    this.#list = out;
  }
  forEach(cb, thisArg) {
    if (typeof cb !== "function") throw new TypeError("FormData.forEach: the callback must be a function");
    for (let i = 0; i < this.#list.length; i++) _apply(cb, thisArg, [this.#list[i][1], this.#list[i][0], this]);
  }
  *entries() { for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]]; }
  *keys() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0]; }
  *values() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1]; }
  get [SymbolToStringTag]() { return "FormData"; }
}
// As Web IDL says, the iterator is entries itself.
ObjectDefineProperty(FormData.prototype, SymbolIterator, { __proto__: null, value: FormData.prototype.entries, writable: true, configurable: true });

// ---- multipart/form-data ----

const _lf = _re(/\n/g);
const _cr = _re(/\r/g);
const _quote = _re(/"/g);

function _escapeMultipartName(s) {
  return StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(s, _lf, "%0A"), _cr, "%0D"), _quote, "%22");
}

// _encodeMultipart serialises a FormData as a multipart/form-data body.
function _encodeMultipart(fd) {
  let boundary = "----WarrenFormBoundary";
  for (let i = 0; i < 16; i++) boundary += "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[MathFloor(MathRandom() * 62)];
  const chunks = [];
  const crlf = (s) => StringPrototypeReplace(s, _newlines, "\r\n");
  const list = _formDataList(fd);
  for (let i = 0; i < list.length; i++) {
    const name = list[i][0], value = list[i][1];
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${_escapeMultipartName(crlf(name))}"`;
    if (typeof value === "string") {
      chunks[chunks.length] = _utf8.encode(head + "\r\n\r\n" + crlf(value) + "\r\n");
    } else {
      head += `; filename="${_escapeMultipartName(_fileName(value))}"\r\nContent-Type: ${_blobType(value) || "application/octet-stream"}\r\n\r\n`;
      chunks[chunks.length] = _utf8.encode(head);
      chunks[chunks.length] = _blobBytes.get(value);
      chunks[chunks.length] = _utf8.encode("\r\n");
    }
  }
  chunks[chunks.length] = _utf8.encode(`--${boundary}--\r\n`);
  return { bytes: concatBytes(chunks), type: "multipart/form-data; boundary=" + boundary };
}

const _filenameStar = /^utf-8'[^']*'(.*)$/i;

// _mimeParams parses "essence; a=b; c=\"d\"" into {essence, params}.
function _mimeParams(header) {
  const s = String(header);
  const semi = StringPrototypeIndexOf(s, ";");
  const essence = StringPrototypeToLowerCase(StringPrototypeTrim(semi < 0 ? s : StringPrototypeSlice(s, 0, semi)));
  const params = new SafeMap();
  if (semi < 0) return { essence, params };
  let i = semi + 1;
  while (i < s.length) {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ";")) i++;
    let j = i;
    while (j < s.length && s[j] !== "=" && s[j] !== ";") j++;
    const key = StringPrototypeToLowerCase(StringPrototypeTrim(StringPrototypeSlice(s, i, j)));
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
      value = StringPrototypeTrim(StringPrototypeSlice(s, i, j));
      i = j;
    }
    if (key && !params.has(key)) params.set(key, value);
  }
  return { essence, params };
}

function _indexOfBytes(hay, needle, from) {
  const first = needle[0], m = TypedArrayPrototypeGetLength(needle), last = TypedArrayPrototypeGetLength(hay) - m;
  for (let i = TypedArrayPrototypeIndexOf(hay, first, from); i !== -1 && i <= last; i = TypedArrayPrototypeIndexOf(hay, first, i + 1)) {
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
  const delimLen = TypedArrayPrototypeGetLength(delim), crlfDelimLen = TypedArrayPrototypeGetLength(crlfDelim);
  if (_indexOfBytes(_subBytes(bytes, 0, delimLen), delim, 0) === 0) pos = delimLen;
  else {
    const i = _indexOfBytes(bytes, crlfDelim, 0);
    if (i < 0) throw bad(`the boundary ${JSONStringify(boundary)} does not occur in the body.`);
    pos = i + crlfDelimLen;
  }
  for (;;) {
    // After a delimiter: "--" ends the body; otherwise optional padding, CRLF, headers.
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return fd;
    while (bytes[pos] === 0x20 || bytes[pos] === 0x09) pos++;
    if (bytes[pos] !== 0x0d || bytes[pos + 1] !== 0x0a) {
      throw bad(pos >= TypedArrayPrototypeGetLength(bytes) ? "the body ends without the closing boundary (--" + boundary + "--)." : "a boundary line is not followed by CRLF.");
    }
    pos += 2;
    let headers, bodyStart;
    if (bytes[pos] === 0x0d && bytes[pos + 1] === 0x0a) { headers = ""; bodyStart = pos + 2; }
    else {
      const he = _indexOfBytes(bytes, headEnd, pos);
      if (he < 0) throw bad("a part's headers are not terminated by an empty line.");
      headers = _utf8.decode(_subBytes(bytes, pos, he));
      bodyStart = he + 4;
    }
    const bodyEnd = _indexOfBytes(bytes, crlfDelim, bodyStart);
    if (bodyEnd < 0) throw bad("the body ends without the closing boundary (--" + boundary + "--).");
    let disposition = null, ctype = null;
    const lines = StringPrototypeSplit(headers, "\r\n");
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k];
      if (line === "") continue;
      const c = StringPrototypeIndexOf(line, ":");
      if (c <= 0) throw bad(`malformed part header ${JSONStringify(line)}.`);
      const hname = StringPrototypeToLowerCase(StringPrototypeTrim(StringPrototypeSlice(line, 0, c))), hval = StringPrototypeTrim(StringPrototypeSlice(line, c + 1));
      if (hname === "content-disposition") disposition = hval;
      else if (hname === "content-type") ctype = hval;
    }
    if (disposition === null) throw bad("a part has no Content-Disposition header.");
    const d = _mimeParams(disposition);
    if (d.essence !== "form-data") throw bad(`a part's Content-Disposition is ${JSONStringify(d.essence)}, not form-data.`);
    if (!d.params.has("name")) throw bad("a part's Content-Disposition has no name parameter.");
    const name = d.params.get("name");
    let filename = d.params.has("filename") ? d.params.get("filename") : null;
    const star = d.params.get("filename*");
    if (star !== undefined) {
      const m = RegExpPrototypeExec(_filenameStar, star);
      if (m) { try { filename = DecodeURIComponent(m[1]); } catch {} }
    }
    const content = _subBytes(bytes, bodyStart, bodyEnd);
    if (filename !== null) {
      _formDataAppend(fd, name, new File([content], filename, { __proto__: null, type: ctype || "" }));
    } else {
      _formDataAppend(fd, name, _utf8.decode(content));
    }
    pos = bodyEnd + crlfDelimLen;
  }
}

// _parseFormData turns a body into FormData according to its Content-Type.
function _parseFormData(bytes, contentType) {
  const { essence, params } = _mimeParams(contentType || "");
  if (essence === "multipart/form-data") return _parseMultipart(bytes, params.get("boundary"));
  if (essence === "application/x-www-form-urlencoded") {
    const fd = new FormData();
    _global("URLSearchParams"); // loads the url family
    const list = _shared.formParse(_utf8.decode(bytes));
    for (let i = 0; i < list.length; i++) _formDataAppend(fd, list[i][0], list[i][1]);
    return fd;
  }
  throw new TypeError(`Unrecognized Content-Type header value ${JSONStringify(String(contentType || ""))}: FormData can only parse multipart/form-data and application/x-www-form-urlencoded bodies.`);
}

defineGlobal("Blob", Blob);
defineGlobal("File", File);
defineGlobal("FormData", FormData);

_shared.encodeMultipart = _encodeMultipart;
_shared.parseFormData = _parseFormData;
// For bodies and structured clone: a Blob's bytes (a copy) and type.
_shared.isBlob = (x) => _blobBytes.has(x);
_shared.blobBytes = (b) => _sliceBytes(_blobBytes.get(b));
_shared.blobType = (b) => _blobType(b);
