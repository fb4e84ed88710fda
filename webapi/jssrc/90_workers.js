// cloudflare:workers (DurableObject, WorkerEntrypoint, RpcTarget, env), the
// stubs that stand for Go capabilities in env, the Worker Loader binding, and
// the dispatch of fetch and RPC invocations into the app's exports.

class RpcTarget {}
class WorkerEntrypoint {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}
class DurableObject {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}
class WorkflowEntrypoint {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}

let _env = {};
let _exports = null;

// _is is x instanceof C without C's Symbol.hasInstance, which an app can
// define on the classes it imports from cloudflare:workers.
function _is(x, C) { return FunctionPrototypeSymbolHasInstance(C, x); }
// _extends reports whether v is a class that extends C.
function _extends(v, C) { return typeof v === "function" && _is(v.prototype, C); }

function _limitsText(opts) {
  return opts && opts.limits ? JSONStringify(opts.limits) : "";
}

// Capabilities: every stub of a Go capability holds a cell {id}, and every
// closure of the stub reaches the id through the cell; when the cell is
// collected, the stub's reference is released in Go (worker/capabilities.go),
// so the isolate's capability table follows what the app still holds.
const _capCells = new FinalizationRegistry((id) => { try { callOp("cap.release", id); } catch {} });
const _capRegister = FinalizationRegistry.prototype.register;
function _capHold(cell, id) {
  cell.id = id;
  _apply(_capRegister, _capCells, [cell, id]);
  return id;
}
function _capCell(id) {
  const cell = { __proto__: null, id: null };
  if (id !== null && id !== undefined) _capHold(cell, id);
  return cell;
}

// A stub for a service binding or Go RPC target: fetch() plus any method.
function _serviceStub(id) {
  const cell = _capCell(id);
  const fetchFn = async (input, init) => {
    const req = new Request(input, init);
    return _responseFromGo(await callOpAsync("cap.fetch", cell.id, await _requestForGo(req)));
  };
  return new Proxy({}, {
    __proto__: null,
    get(t, prop) {
      if (prop === _capSym) return cell.id;
      if (typeof prop === "symbol" || prop === "then") return undefined;
      if (prop === "fetch") return fetchFn;
      if (prop === "connect") return () => { throw new Error("connect() is not supported on this binding"); };
      return async (...args) => _decodeValue(await callOpAsync("cap.call", cell.id, String(prop), _encodeValue(args, { caps: true })), _capFromRef);
    },
    has(t, prop) { return prop === "fetch"; },
  });
}

// An entrypoint of a loaded Worker: fetch() plus RPC methods.
function _entrypointStub(ensure, name, opts) {
  const props = opts && opts.props !== undefined ? _encodeValue(opts.props, { caps: true }) : "";
  const limits = _limitsText(opts);
  const ep = name == null || name === "default" ? "" : String(name);
  const fetchFn = async (input, init) => {
    const req = new Request(input, init);
    const r = await _requestForGo(req);
    const h = await ensure();
    return _responseFromGo(await callOpAsync("stub.fetch", h, ep, props, limits, r));
  };
  return new Proxy({}, {
    __proto__: null,
    get(t, prop) {
      if (typeof prop === "symbol" || prop === "then") return undefined;
      if (prop === "fetch") return fetchFn;
      return async (...args) => {
        const enc = _encodeValue(args, { caps: true });
        const h = await ensure();
        return _decodeValue(await callOpAsync("stub.call", h, ep, props, limits, String(prop), enc), _capFromRef);
      };
    },
  });
}

function _workerStub(loader, name, getCode, preset) {
  const cell = _capCell(preset);
  let loading = null;
  const ensure = () => {
    if (cell.id !== null) return PromiseResolve(cell.id);
    if (!loading) {
      loading = (async () => {
        if (name !== null) {
          const h = callOp("loader.lookup", loader.id, name);
          if (h !== null && h !== undefined) return _capHold(cell, h);
        }
        if (typeof getCode !== "function") throw new TypeError("LOADER.get(id, getCode): getCode must be a function returning WorkerCode");
        const code = await getCode();
        if (code === null || typeof code !== "object") throw new TypeError("The Worker Loader callback must return {compatibilityDate, mainModule, modules}");
        return _capHold(cell, callOp("loader.put", loader.id, name, _encodeValue(code, { caps: true, lossy: true })));
      })();
      PromisePrototypeThen(loading, undefined, () => { loading = null; });
    }
    return loading;
  };
  return {
    getEntrypoint(ep, opts) { return _entrypointStub(ensure, ep, opts); },
    getDurableObjectClass(cls, opts) {
      return ObjectFreeze({ [_capSym]: undefined, __warrenClass: { ensure, name: cls == null ? "" : String(cls), opts } });
    },
  };
}

function _loaderStub(id) {
  const cell = _capCell(id);
  return ObjectFreeze({
    get(name, getCode) {
      if (name !== null && name !== undefined) name = String(name);
      else name = null;
      return _workerStub(cell, name, getCode);
    },
    load(code) { return _workerStub(cell, null, () => code); },
  });
}

function _capFromRef(v) {
  if (v && typeof v === "object") {
    if (v.kind === "loader") return _loaderStub(v.id);
    if (v.kind === "namespace") return _namespaceStub(v.id);
    if (v.kind === "worker") {
      return _workerStub(null, null, null, v.id);
    }
    return _serviceStub(v.id);
  }
  return _serviceStub(v);
}

// ctx.exports: loopback stubs for this Worker's own entrypoints.
// ctx.exports.Name is a stub (fetch and RPC); ctx.exports.Name({props})
// is a stub whose callee sees ctx.props = props. Both are capabilities: they
// can be passed in a loaded Worker's env or as its globalOutbound.
function _loopback(name, opts) {
  const props = opts && opts.props !== undefined ? _encodeValue(opts.props, { caps: true }) : "";
  let stub = null;
  const get = () => stub || (stub = _serviceStub(callOp("self.cap", name === "default" ? "" : name, props)));
  return new Proxy(function () {}, {
    __proto__: null,
    get(t, prop) { return get()[prop]; },
    apply(t, self, args) { return _loopback(name, args[0]); },
  });
}

let _exportsProxy = null;
function _ctxExports() {
  if (_exportsProxy) return _exportsProxy;
  _exportsProxy = new Proxy({}, {
    __proto__: null,
    get(t, prop) {
      if (typeof prop !== "string" || !_exports || !(prop in _exports)) return undefined;
      const v = _exports[prop];
      if (_extends(v, DurableObject)) {
        // A Durable Object class with storage: its namespace, when the
        // platform runs one for it.
        const id = callOp("self.namespace", prop);
        return id === null || id === undefined ? undefined : _namespaceStub(id);
      }
      const isEntrypoint = _extends(v, WorkerEntrypoint) || (v && typeof v === "object" && typeof v.fetch === "function");
      return isEntrypoint ? _loopback(prop) : undefined;
    },
    has(t, prop) { return !!_exports && prop in _exports; },
    ownKeys() { return _exports ? ObjectKeys(_exports) : []; },
    getOwnPropertyDescriptor(t, prop) { return _exports && prop in _exports ? { configurable: true, enumerable: true, value: this.get(t, prop) } : undefined; },
  });
  return _exportsProxy;
}

function _makeCtx(waits, props) {
  return {
    waitUntil(p) { waits[waits.length] = PromisePrototypeThen(PromiseResolve(p), undefined, (e) => { console.error("waitUntil promise rejected:", e); }); },
    passThroughOnException() {},
    props: props === undefined ? {} : props,
    get exports() { return _ctxExports(); },
    abort() {},
  };
}

function _resolveEntrypoint(name) {
  if (name === "\u0000object") {
    if (!_object) throw new Error("this isolate hosts no Durable Object");
    return _object;
  }
  const ns = _exports || {};
  const key = name === "" || name == null ? "default" : name;
  const v = ns[key];
  if (v === undefined) {
    const names = ObjectKeys(ns);
    throw new TypeError(`The Worker has no export named "${key}"` + (names.length ? `; its exports are: ${ArrayPrototypeJoin(names, ", ")}` : "; it exports nothing (did you forget `export default { fetch(request, env, ctx) { ... } }`?)"));
  }
  return v;
}

function _instantiate(v, ctx) {
  if (typeof v === "function") {
    if (_extends(v, WorkerEntrypoint) || v === WorkerEntrypoint) return new v(ctx, _env);
    if (_extends(v, DurableObject)) throw new TypeError(`Export "${v.name}" is a DurableObject class; reach it through a Durable Object namespace or a facet, not as an entrypoint.`);
    throw new TypeError(`Export "${v.name}" is a function; an entrypoint must be an object with a fetch() method or a class extending WorkerEntrypoint.`);
  }
  return v;
}

// _sendResponse hands res to Go: callOp("respond", inv, status, statusText,
// headers ("name\nvalue\n..."), body, kind) with kind 0 (no body), 1
// (text), 2 (base64) or 3 (streamed: chunks follow). A body held in memory
// is sent at once and it returns undefined; a streamed body is sent chunk
// by chunk and it returns a promise of the end.
// The Response is read through its private fields (_resStatus, _resB...),
// never through Response.prototype, which the app may have changed.
function _sendResponse(inv, res) {
  if (!_isResponse(res)) {
    const what = res === undefined ? "undefined (did the handler forget to return?)" : ObjectPrototypeToString(res);
    throw new TypeError(`The fetch handler must return a Response (or a Promise of one); it returned ${what}.`);
  }
  const status = _resStatus(res), statusText = _resStatusText(res), headers = _resFlatHeaders(res);
  const body = _resB.get(res);
  if (_isStreamBody(body)) return _sendStream(inv, res, body, status, statusText, headers);
  const text = _takeText(res, _resB);
  if (text !== null) { callOp("respond", inv, status, statusText, headers, text, 1); return; }
  if (body === null) { callOp("respond", inv, status, statusText, headers, null, 0); return; }
  if (_bodyUsed(res, _resB)) throw new TypeError("Body has already been used. It can only be read once; call clone() before reading to read it twice.");
  callOp("respond", inv, status, statusText, headers, b64(_bytesNow(res, _resB)), 2);
}

async function _sendStream(inv, res, stream, status, statusText, headers) {
  if (_resB.used(res)) throw new TypeError("The response body has already been read.");
  callOp("respond", inv, status, statusText, headers, null, 3);
  _resB.use(res);
  const reader = _shared.streamReader(stream);
  try {
    for (;;) {
      const { done, value } = await _shared.readerRead(reader);
      if (done) break;
      if (value === undefined || value === null) continue;
      let bytes;
      try { bytes = typeof value === "string" ? _utf8.encode(value) : toBytes(value); }
      catch { throw new TypeError("A streamed response body must produce Uint8Array chunks."); }
      if (!callOp("chunk", inv, b64(bytes))) { PromisePrototypeThen(_shared.readerCancel(reader, "client went away"), undefined, () => {}); return; }
    }
    callOp("end", inv);
  } catch (e) {
    callOp("end", inv, String((e && e.message) || e));
  }
}

_dispatch.init = (envText) => {
  // Families are registered only at start-up, before app code runs.
  delete globalThis.__warren_family_register;
  _env = _decodeValue(envText, _capFromRef) || {};
  globalThis.__warren_builtins = {
    "cloudflare:workers": { DurableObject, WorkerEntrypoint, RpcTarget, WorkflowEntrypoint, env: _env, waitUntil() {}, get exports() { return _ctxExports(); } },
    "cloudflare:sockets": { connect() { throw new Error("connect() is not supported: this Worker has no outbound TCP access"); } },
  };
};

_dispatch.start = () => {
  _exports = globalThis.__warren_exports;
  delete globalThis.__warren_exports;
  delete globalThis.__warren_builtins;
};

// _dispatch.fetch runs the entrypoint's fetch handler. Without promise
// machinery where none is needed: a handler that returns a Response is
// answered in the same call, one that returns a promise one job after it
// settles (as await would), and an exception fails the invocation.
_dispatch.fetch = (inv, entrypoint, propsText, method, url, headers, body, bodyKind) => {
  const waits = [];
  let res;
  try {
    const req = _requestFromGo(method, url, headers, bodyKind === 2 ? fromB64(body) : bodyKind === 1 ? body : null);
    if (entrypoint === "\u0000object" && _objectGate) res = _fetchGated(entrypoint, propsText, req, waits);
    else res = _callFetch(entrypoint, propsText, req, waits);
  } catch (e) { _failed(inv, waits, e); return; }
  if (_isResponse(res) && typeof res.then !== "function") _respond(inv, waits, res);
  else _when(res, (r) => _respond(inv, waits, r), (e) => _failed(inv, waits, e));
};

function _callFetch(entrypoint, propsText, req, waits) {
  const props = propsText && propsText !== "null" ? _decodeValue(propsText, _capFromRef) : undefined;
  const ctx = _makeCtx(waits, props);
  const target = _instantiate(_resolveEntrypoint(entrypoint), ctx);
  if (!target || typeof target.fetch !== "function") {
    throw new TypeError(`Entrypoint "${entrypoint || "default"}" has no fetch() handler; export default { async fetch(request, env, ctx) { return new Response("...") } }`);
  }
  return _is(target, WorkerEntrypoint) ? target.fetch(req) : target.fetch(req, _env, ctx);
}

// _fetchGated waits for blockConcurrencyWhile to let events in.
async function _fetchGated(entrypoint, propsText, req, waits) {
  while (_objectGate) await _objectGate;
  return _callFetch(entrypoint, propsText, req, waits);
}

function _respond(inv, waits, res) {
  let p;
  try { p = _sendResponse(inv, res); } catch (e) { _failed(inv, waits, e); return; }
  if (p === undefined) _finish(inv, waits);
  else _when(p, () => _finish(inv, waits), (e) => _failed(inv, waits, e));
}

function _failed(inv, waits, e) {
  try { callOp("fail", inv, errorJSON(e)); } catch {}
  _finish(inv, waits);
}

// _finish reports the invocation done once its waitUntil promises settle.
// Go refuses "done" for an invocation that already ended (after "fail").
function _finish(inv, waits) {
  _allSettled(waits, () => _done(inv));
}

// _allSettled calls done once every promise in list has settled (at once
// for none), as Promise.allSettled would without its iteration of list.
function _allSettled(list, done) {
  let n = list.length;
  if (n === 0) { done(); return; }
  const one = () => { if (--n === 0) done(); };
  for (let i = 0; i < list.length; i++) _when(list[i], one, one);
}

// _safeSetOf is a SafeSet of the items of an array.
function _safeSetOf(items) {
  const s = new SafeSet();
  for (let i = 0; i < items.length; i++) s.add(items[i]);
  return s;
}

function _done(inv) {
  try { callOp("done", inv); } catch {}
}

const _reserved = _safeSetOf(["constructor", "fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError", "then", "toString", "valueOf", "__proto__", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__"]);

_dispatch.call = (inv, entrypoint, propsText, method, argsText) => {
  const waits = [];
  const run = (async () => {
    const props = propsText ? _decodeValue(propsText, _capFromRef) : undefined;
    const ctx = _makeCtx(waits, props);
    if (entrypoint === "\u0000object") while (_objectGate) await _objectGate;
    const target = _instantiate(_resolveEntrypoint(entrypoint), ctx);
    if (!_is(target, WorkerEntrypoint) && !_is(target, RpcTarget) && !_is(target, DurableObject)) {
      throw new TypeError(`Entrypoint "${entrypoint || "default"}" does not support RPC; export a class that extends WorkerEntrypoint to make its methods callable.`);
    }
    if (method === "\u0000alarm" && entrypoint === "\u0000object") {
      const args = _decodeValue(argsText) || [];
      callOp("return", inv, _encodeValue(await _runAlarm(args[0] || { retryCount: 0, isRetry: false })));
      return;
    }
    if (_reserved.has(method) || StringPrototypeStartsWith(method, "#")) throw new TypeError(`"${method}" cannot be called over RPC.`);
    const fn = target[method];
    if (typeof fn !== "function" || ObjectPrototype[method] === fn) {
      if (fn !== undefined && typeof fn !== "function" && ObjectHasOwn(ObjectGetPrototypeOf(target), method) === false && ObjectHasOwn(target, method)) {
        throw new TypeError(`"${method}" is an instance property, not a method; only methods defined on the class can be called over RPC.`);
      }
      throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
    }
    const args = _decodeValue(argsText, _capFromRef) || [];
    const result = await _apply(fn, target, args);
    callOp("return", inv, _encodeValue(result, { caps: true }));
  })();
  PromisePrototypeThen(run,
    () => { _allSettled(waits, () => { callOp("done", inv); }); },
    (e) => { callOp("fail", inv, errorJSON(e)); _allSettled(waits, () => { callOp("done", inv); }); },
  );
};
