// Durable Objects: the object instance of an isolate that hosts one, its
// state (ctx: id, storage, blockConcurrencyWhile), the synchronous SQL and KV
// storage API, and stubs for Durable Object namespaces in env.

const _OBJECT = "\u0000object";
let _object = null;       // the DurableObject instance this isolate hosts
let _objectGate = null;   // a promise that holds new events (blockConcurrencyWhile)

// _doIdString is the id's string, or undefined for anything but a
// DurableObjectId (not through toString, which the app may replace).
let _doIdString;

class DurableObjectId {
  #id; #name;
  constructor(id, name) { this.#id = id; this.#name = name; }
  static { _doIdString = (x) => (x !== null && typeof x === "object" && #id in x ? x.#id : undefined); }
  toString() { return this.#id; }
  toJSON() { return this.#id; }
  equals(other) { return _doIdString(other) === this.#id; }
  get name() { return this.#name; }
}

// ---- SQL ----

function _sqlArg(v, i) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "number": return NumberIsSafeInteger(v) ? { $i: String(v) } : v;
    case "bigint": return { $i: BigIntPrototypeToString(v) };
    case "boolean": return { $i: v ? "1" : "0" };
    case "string": return v;
  }
  if (isBufferSource(v)) return { $b: Uint8ArrayPrototypeToBase64(toBytes(v)) };
  throw new TypeError(`SQL binding ${i + 1} has type ${typeof v}; bind null, numbers, strings, booleans, bigints or ArrayBuffers (JSON.stringify objects first)`);
}

function _sqlValue(v) {
  if (v !== null && typeof v === "object") {
    if (ObjectHasOwn(v, "$b")) return Uint8ArrayFromBase64(v.$b).buffer;
    if (ObjectHasOwn(v, "$i")) return Number(v.$i);
  }
  return v;
}

class SqlStorageCursor {
  #r; #i; // the result ([columns, rows, rows read, rows written, tagged]) and the next row
  constructor(r) {
    if (r[4]) {
      // Some values are tagged: blobs ($b) and integers past 2^53 ($i).
      const rows = r[1];
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        for (let j = 0; j < row.length; j++) row[j] = _sqlValue(row[j]);
      }
    }
    this.#r = r;
    this.#i = 0;
  }
  get columnNames() { return _copyArray(this.#r[0]); }
  get rowsRead() { return this.#r[2]; }
  get rowsWritten() { return this.#r[3]; }
  #obj(row) {
    const o = {}, cols = this.#r[0];
    for (let j = 0; j < cols.length; j++) o[cols[j]] = row[j];
    return o;
  }
  next() {
    const rows = this.#r[1];
    if (this.#i >= rows.length) return { done: true, value: undefined };
    return { done: false, value: this.#obj(rows[this.#i++]) };
  }
  [SymbolIterator]() { return this; }
  toArray() {
    const rows = this.#r[1], out = [];
    while (this.#i < rows.length) out[out.length] = this.#obj(rows[this.#i++]);
    return out;
  }
  one() {
    const rows = this.#r[1];
    const rest = rows.length - this.#i;
    if (rest !== 1) throw new Error(rest === 0 ? "Expected exactly one result from SQL query, but got no results." : "Expected exactly one result from SQL query, but got multiple results.");
    return this.#obj(rows[this.#i++]);
  }
  *raw() { const rows = this.#r[1]; while (this.#i < rows.length) yield _copyArray(rows[this.#i++]); }
}

// _sqlArgs is the bindings as the host takes them.
function _sqlArgs(b) {
  const out = [];
  for (let i = 0; i < b.length; i++) out[i] = _sqlArg(b[i], i);
  return out;
}

// _plainBindings reports whether every binding crosses to Go as itself
// (null, string, number, boolean): the common case skips the JSON form.
function _plainBindings(b) {
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (v === null) continue;
    const t = typeof v;
    if (t !== "string" && t !== "number" && t !== "boolean") return false;
  }
  return true;
}

const _sql = {
  exec(query, ...bindings) {
    if (typeof query !== "string") throw new TypeError("sql.exec(query, ...bindings): query must be a string");
    const text = _plainBindings(bindings) ? _apply(callOp, undefined, _concat(["sql.execv", query], bindings)) : callOp("sql.exec", query, JSONStringify(_sqlArgs(bindings)));
    return new SqlStorageCursor(_JSONparse(text));
  },
  get databaseSize() { return callOp("sql.size"); },
};

// ---- KV ----

function _key(k) {
  if (typeof k !== "string") k = String(k);
  return k;
}

const _kv = {
  get(key) { const t = callOp("kv.get", _key(key)); return t === null ? undefined : _decodeValue(t); },
  put(key, value) { if (value === undefined) throw new TypeError("kv.put: value must not be undefined; use delete()"); callOp("kv.put", _key(key), _encodeValue(value)); },
  delete(key) { return callOp("kv.delete", _key(key)); },
  *list(opts = {}) {
    const r = JSONParse(callOp("kv.list", JSONStringify(opts || {})));
    for (let i = 0; i < r.k.length; i++) yield [r.k[i], _decodeValue(r.v[i])];
  },
};

const _MAX_KEYS = 128;
function _keysArg(keys, what) {
  if (keys.length > _MAX_KEYS) throw new RangeError(`${what}: at most ${_MAX_KEYS} keys per call, got ${keys.length}`);
  const out = [];
  for (let i = 0; i < keys.length; i++) out[i] = _key(keys[i]);
  return out;
}

const _storage = {
  sql: _sql,
  kv: _kv,
  async get(key) {
    if (ArrayIsArray(key)) {
      const m = new Map(), keys = _keysArg(key, "get");
      for (let i = 0; i < keys.length; i++) { const v = _kv.get(keys[i]); if (v !== undefined) _MapPrototypeSet(m, keys[i], v); }
      return m;
    }
    return _kv.get(key);
  },
  async put(key, value) {
    if (key !== null && typeof key === "object" && !ArrayIsArray(key)) {
      const keys = ObjectKeys(key);
      _keysArg(keys, "put");
      const values = [];
      for (let i = 0; i < keys.length; i++) values[i] = key[keys[i]];
      for (let i = 0; i < keys.length; i++) _kv.put(keys[i], values[i]);
      return;
    }
    _kv.put(key, value);
  },
  async delete(key) {
    if (ArrayIsArray(key)) { let n = 0; const keys = _keysArg(key, "delete"); for (let i = 0; i < keys.length; i++) if (_kv.delete(keys[i])) n++; return n; }
    return _kv.delete(key);
  },
  async list(opts = {}) {
    const r = JSONParse(callOp("kv.list", JSONStringify(opts || {}))), m = new Map();
    for (let i = 0; i < r.k.length; i++) _MapPrototypeSet(m, r.k[i], _decodeValue(r.v[i]));
    return m;
  },
  async deleteAll() { callOp("storage.deleteAll"); },
  async sync() {},
  transactionSync(fn) {
    if (typeof fn !== "function") throw new TypeError("transactionSync(fn): fn must be a function");
    const sp = callOp("tx.begin");
    try { const r = fn(); callOp("tx.commit", sp); return r; }
    catch (e) { callOp("tx.rollback", sp); throw e; }
  },
  async transaction(fn) {
    const sp = callOp("tx.begin");
    try { const r = await fn({ get: _storage.get, put: _storage.put, delete: _storage.delete, list: _storage.list, rollback() { throw new Error("rollback"); } }); callOp("tx.commit", sp); return r; }
    catch (e) { callOp("tx.rollback", sp); throw e; }
  },
  async getAlarm() { return callOp("alarm.get"); },
  async setAlarm(time) {
    const ms = _is(time, Date) ? DatePrototypeGetTime(time) : Number(time);
    if (!NumberIsFinite(ms)) throw new TypeError("setAlarm(scheduledTime): scheduledTime must be a Date or a number of milliseconds since the epoch");
    callOp("alarm.set", MathMax(0, MathFloor(ms)));
  },
  async deleteAlarm() { callOp("alarm.delete"); },
};

// A facet stub: ctx.facets.get(name, callback) returns it at once; the
// callback runs only when the facet is not running.
function _facetStub(name, cb) {
  const cell = _capCell(null);
  let loading = null;
  const ensure = () => {
    if (cell.id !== null) return PromiseResolve(cell.id);
    if (!loading) {
      loading = (async () => {
        const h = callOp("facet.lookup", name);
        if (h !== null && h !== undefined) return _capHold(cell, h);
        if (typeof cb !== "function") throw new TypeError("ctx.facets.get(name, callback): callback must be a function");
        const spec = await cb();
        const wc = spec && spec.class && spec.class.__warrenClass;
        if (!wc) throw new TypeError('ctx.facets.get(name, callback): the callback must return { class: worker.getDurableObjectClass("App") }');
        const stubId = await wc.ensure();
        const id = spec.id === undefined || spec.id === null ? "" : String(spec.id);
        return _capHold(cell, callOp("facet.start", name, stubId, wc.name || "", id));
      })();
      PromisePrototypeThen(loading, undefined, () => { loading = null; });
    }
    return loading;
  };
  return new Proxy({}, {
    __proto__: null,
    get(t, prop) {
      if (typeof prop === "symbol" || prop === "then") return undefined;
      if (prop === "fetch") {
        return async (input, init) => {
          const req = new Request(input, init);
          const r = await _requestForGo(req);
          const h = await ensure();
          return _responseFromGo(await callOpAsync("cap.fetch", h, r));
        };
      }
      return async (...args) => {
        const enc = _encodeValue(args, { caps: true });
        const h = await ensure();
        return _decodeValue(await callOpAsync("cap.call", h, String(prop), enc), _capFromRef);
      };
    },
  });
}

const _facets = ObjectFreeze({
  get(name, cb) { return _facetStub(String(name), cb); },
  abort(name, reason) { callOp("facet.abort", String(name), String(reason === undefined ? "aborted" : reason)); },
  delete(name) { callOp("facet.delete", String(name)); },
});

_dispatch.object = (className, id, name) => {
  const Cls = _exports && _exports[className];
  if (typeof Cls !== "function") {
    throw new TypeError(`The Worker has no exported class "${className}"; export class ${className} extends DurableObject { ... }`);
  }
  const waits = [];
  const state = {
    id: new DurableObjectId(id, name || undefined),
    storage: _storage,
    blockConcurrencyWhile(fn) {
      const p = PromisePrototypeThen(PromiseResolve(), fn);
      const gate = PromisePrototypeThen(p, () => {}, () => {});
      _objectGate = gate;
      PromisePrototypeThen(gate, () => { if (_objectGate === gate) _objectGate = null; });
      return p;
    },
    waitUntil(p) { waits[waits.length] = PromisePrototypeThen(PromiseResolve(p), undefined, () => {}); },
    abort(reason) { callOp("object.abort", String(reason === undefined ? "aborted" : reason)); },
    props: {},
    facets: _facets,
    get exports() { return _ctxExports(); },
  };
  _object = new Cls(state, _env);
};

// _runAlarm runs the object's alarm() handler. The alarm is cleared when
// the handler succeeds, unless the handler set a new one.
async function _runAlarm(info) {
  const before = callOp("alarm.get");
  if (before === null) return "none";
  if (typeof _object.alarm !== "function") { callOp("alarm.delete"); return "no handler"; }
  await _object.alarm(info);
  if (callOp("alarm.get") === before) callOp("alarm.delete");
  return "ok";
}

// ---- namespaces in env ----

// _objectResponseFromGo is _responseFromGo that also takes a text body
// (Go sends text for valid UTF-8 with a Content-Type): the Response keeps
// the string, so passing it on needs no bytes.
function _objectResponseFromGo(json) {
  const w = _JSONparse(json);
  if (w.text == null) return _responseFromGo(json);
  const body = ArrayPrototypeIncludes(_nullBodyStatuses, w.status) ? null : w.text;
  const r = new Response(body, { status: w.status, statusText: w.statusText || "", headers: w.headers });
  _resSetUrl(r, w.url || "", w.redirected);
  return r;
}

function _objectStub(ns, id) {
  const fetchFn = async (input, init) => {
    // A Request passed alone is sent as it is (its body is consumed either way).
    const req = _isRequest(input) && init === undefined ? input : new Request(input, init);
    return _objectResponseFromGo(await callOpAsync("ns.fetch", ns.id, id, await _requestForGo(req)));
  };
  return new Proxy({}, {
    __proto__: null,
    get(t, prop) {
      if (typeof prop === "symbol" || prop === "then") return undefined;
      if (prop === "fetch") return fetchFn;
      if (prop === "id") return new DurableObjectId(id);
      if (prop === "name") return undefined;
      return async (...args) => _decodeValue(await callOpAsync("ns.call", ns.id, id, String(prop), _encodeValue(args, { caps: true })), _capFromRef);
    },
  });
}

function _namespaceStub(capId) {
  const ns = _capCell(capId);
  const idOf = (x) => {
    const s = _doIdString(x);
    if (s !== undefined) return s;
    throw new TypeError("get(id): id must come from idFromName, newUniqueId or idFromString");
  };
  return ObjectFreeze({
    get [_capSym]() { return ns.id; },
    idFromName(name) { name = String(name); return new DurableObjectId(callOp("ns.idFromName", ns.id, name), name); },
    newUniqueId() { return new DurableObjectId(callOp("ns.newUniqueId", ns.id)); },
    idFromString(s) { return new DurableObjectId(callOp("ns.idFromString", ns.id, String(s))); },
    get(id) { return _objectStub(ns, idOf(id)); },
    getByName(name) { return this.get(this.idFromName(name)); },
    jurisdiction() { return this; },
  });
}

// _dispatch.exports describes the module's exports for deploy-time checks:
// {name: kind}, kind being "class", "function", "object" or "other", then,
// space-separated, what makes it callable: "fetch" (an object whose fetch is
// a function; a class whose prototype has a fetch method, or whose source or
// an ancestor's mentions fetch: a class field), "DurableObject" or
// "WorkerEntrypoint" (a class that extends it). Reading fetch may run the
// app's getters or proxy traps: this runs in a turn, under the CPU limit,
// and whatever throws counts as no fetch.
_dispatch.exports = () => {
  const out = {};
  const keys = ObjectKeys(_exports || {});
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = _exports[k];
    let kind = "other";
    if (typeof v === "function") {
      kind = _test(_classDecl, FunctionPrototypeToString(v)) ? "class" + _classTraits(v) : "function";
    } else if (v !== null && typeof v === "object") {
      kind = "object";
      try { if (typeof v.fetch === "function") kind += " fetch"; } catch {}
    }
    out[k] = kind;
  }
  return JSONStringify(out);
};

function _classTraits(v) {
  let t = "";
  try {
    if (_extends(v, DurableObject)) t += " DurableObject";
    else if (_extends(v, WorkerEntrypoint)) t += " WorkerEntrypoint";
  } catch {}
  try {
    let fetch = typeof v.prototype.fetch === "function";
    for (let c = v, n = 0; !fetch && typeof c === "function" && c !== DurableObject && c !== WorkerEntrypoint && n < 100; c = ObjectGetPrototypeOf(c), n++) {
      fetch = _test(_mentionsFetch, FunctionPrototypeToString(c));
    }
    if (fetch) t += " fetch";
  } catch {}
  return t;
}
const _mentionsFetch = /\bfetch\b/;
const _classDecl = /^class[\s{]/;
