// Streams (the WHATWG Streams Standard, as Workers expose it): ReadableStream,
// WritableStream, TransformStream, their readers, writers and controllers,
// the queuing strategies, TextEncoderStream/TextDecoderStream, and
// Cloudflare's IdentityTransformStream and FixedLengthStream.
//
// A compact promise-based implementation: each stream keeps its state in a
// plain object (reached through a WeakMap, so app code cannot see it), and
// the functions below follow the spec's algorithms in spirit, not line by line.

const _RS = new SafeWeakMap();   // ReadableStream -> state
const _RDR = new SafeWeakMap();  // ReadableStreamDefaultReader -> reader state
const _RSC = new SafeWeakMap();  // ReadableStream controllers -> stream state
const _WS = new SafeWeakMap();   // WritableStream -> state
const _WR = new SafeWeakMap();   // WritableStreamDefaultWriter -> writer state
const _WSC = new SafeWeakMap();  // WritableStreamDefaultController -> stream state
const _TSC = new SafeWeakMap();  // TransformStreamDefaultController -> ops
const _ctorKey = Symbol("internal");
const _noop = () => {};
// _noOptions stands for missing options: no prototype, so nothing the app
// adds to Object.prototype is read as an option.
const _noOptions = ObjectFreeze({ __proto__: null });
const _AsyncIteratorProto = ObjectGetPrototypeOf(ObjectGetPrototypeOf(async function* () {}).prototype);

function _deferred() {
  const d = { __proto__: null, settled: false };
  d.promise = new Promise((res, rej) => {
    d.resolve = (v) => { d.settled = true; res(v); };
    d.reject = (e) => { d.settled = true; rej(e); };
  });
  PromisePrototypeThen(d.promise, undefined, _noop); // rejections are reported through the API, never as unhandled
  return d;
}


function _parseStrategy(strategy, defaultHWM) {
  if (strategy == null) strategy = _noOptions;
  if (typeof strategy !== "object" && typeof strategy !== "function") throw new TypeError("The queuing strategy must be an object");
  const h = strategy.highWaterMark;
  const hwm = h === undefined ? defaultHWM : Number(h);
  if (NumberIsNaN(hwm) || hwm < 0) throw new RangeError(`highWaterMark must be a non-negative number; got ${String(h)}`);
  const size = strategy.size;
  if (size !== undefined && typeof size !== "function") throw new TypeError("The queuing strategy's size must be a function");
  return { hwm, size: size ? (c) => _apply(size, undefined, [c]) : null };
}

function _chunkSize(fn, chunk) {
  if (!fn) return 1;
  const n = Number(fn(chunk));
  if (!(n >= 0) || n === Infinity) throw new RangeError("The queuing strategy's size() must return a finite, non-negative number");
  return n;
}

function _method(obj, name, what) {
  const f = obj[name];
  if (f === undefined || f === null) return null;
  if (typeof f !== "function") throw new TypeError(`${what}.${name} must be a function`);
  return f;
}

function _call(f, thisArg, ...args) {
  if (!f) return PromiseResolve();
  try { return PromiseResolve(_apply(f, thisArg, args)); } catch (e) { return PromiseReject(e); }
}

// _takeAll empties list and returns what it held.
function _takeAll(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) out[i] = list[i];
  list.length = 0;
  return out;
}

// _whenBoth settles once a and b have fulfilled, or with the first
// rejection (Promise.all of two, without its iteration).
function _whenBoth(a, b) {
  return new Promise((resolve, reject) => {
    let n = 2;
    const one = () => { if (--n === 0) resolve(); };
    PromisePrototypeThen(PromiseResolve(a), one, reject);
    PromisePrototypeThen(PromiseResolve(b), one, reject);
  });
}

// ---------------------------------------------------------------------------
// ReadableStream internals

function _rsDesired(s) {
  return s.state === "errored" ? null : s.state === "closed" ? 0 : s.hwm - s.queueSize;
}

function _rsFinishClose(s) {
  s.state = "closed";
  const r = s.reader;
  if (r) {
    const reqs = _takeAll(r.requests);
    for (let i = 0; i < reqs.length; i++) reqs[i].close();
    r.closed.resolve();
  }
}

function _rsError(s, e) {
  if (s.state !== "readable") return;
  s.state = "errored";
  s.error = e;
  s.queue = [];
  s.queueSize = 0;
  const r = s.reader;
  if (r) {
    const reqs = _takeAll(r.requests);
    for (let i = 0; i < reqs.length; i++) reqs[i].error(e);
    r.closed.reject(e);
  }
}

function _rsShouldPull(s) {
  if (!s.started || s.state !== "readable" || s.closeRequested || !s.pull) return false;
  if (s.reader && s.reader.requests.length > 0) return true;
  return _rsDesired(s) > 0;
}

function _rsCallPull(s) {
  if (!_rsShouldPull(s)) return;
  if (s.pulling) { s.pullAgain = true; return; }
  s.pulling = true;
  PromisePrototypeThen(s.pull(), () => {
    s.pulling = false;
    if (s.pullAgain) { s.pullAgain = false; _rsCallPull(s); }
  }, (e) => _rsError(s, e));
}

function _rsEnqueue(s, chunk) {
  if (s.closeRequested) throw new TypeError("Cannot enqueue a chunk into a ReadableStream that is closed or is closing.");
  if (s.state !== "readable") throw new TypeError(`Cannot enqueue a chunk into a ReadableStream that is ${s.state}.`);
  if (s.bytes) {
    if (!ArrayBufferIsView(chunk)) throw new TypeError("The chunk enqueued into a byte stream must be an ArrayBufferView (e.g. a Uint8Array).");
    // The spec transfers the buffer; we copy it, which readers cannot tell apart.
    chunk = _copyBytes(chunk);
    if (TypedArrayPrototypeGetByteLength(chunk) === 0) throw new TypeError("The chunk enqueued into a byte stream must not be empty.");
  }
  const r = s.reader;
  if (r && r.requests.length > 0) {
    ArrayPrototypeShift(r.requests).chunk(chunk);
  } else {
    let size;
    try { size = s.bytes ? TypedArrayPrototypeGetByteLength(chunk) : _chunkSize(s.size, chunk); }
    catch (e) { _rsError(s, e); throw e; }
    s.queue[s.queue.length] = { chunk, size };
    s.queueSize += size;
  }
  _rsCallPull(s);
}

function _rsClose(s) {
  if (s.closeRequested) throw new TypeError("The ReadableStream is already closing; close() was called twice.");
  if (s.state !== "readable") throw new TypeError(`Cannot close a ReadableStream that is ${s.state}.`);
  s.closeRequested = true;
  if (s.queue.length === 0) _rsFinishClose(s);
}

// _rsRead serves one read request {chunk(v), close(), error(e)}.
function _rsRead(s, req) {
  s.disturbed = true;
  if (s.state === "closed") return req.close();
  if (s.state === "errored") return req.error(s.error);
  if (s.queue.length > 0) {
    const { chunk, size } = ArrayPrototypeShift(s.queue);
    s.queueSize = s.queue.length === 0 ? 0 : s.queueSize - size;
    if (s.closeRequested && s.queue.length === 0) _rsFinishClose(s);
    else _rsCallPull(s);
    req.chunk(chunk);
    return;
  }
  const reqs = s.reader.requests;
  reqs[reqs.length] = req;
  _rsCallPull(s);
}

function _rsCancel(s, reason) {
  s.disturbed = true;
  if (s.state === "closed") return PromiseResolve();
  if (s.state === "errored") return PromiseReject(s.error);
  s.queue = [];
  s.queueSize = 0;
  _rsFinishClose(s);
  const cancel = s.cancel;
  s.pull = s.cancel = null;
  return PromisePrototypeThen((cancel ? cancel(reason) : PromiseResolve()), _noop);
}

function _rsReadPromise(s) {
  return new Promise((resolve, reject) => _rsRead(s, {
    chunk: (value) => resolve({ value, done: false }),
    close: () => resolve({ value: undefined, done: true }),
    error: reject,
  }));
}

class ReadableStreamDefaultController {
  constructor(key, s) {
    if (key !== _ctorKey) throw new TypeError("Illegal constructor");
    _RSC.set(this, s);
  }
  get desiredSize() { return _rsDesired(_brand(_RSC, this, "ReadableStreamDefaultController")); }
  enqueue(chunk) { _rsEnqueue(_brand(_RSC, this, "ReadableStreamDefaultController"), chunk); }
  close() { _rsClose(_brand(_RSC, this, "ReadableStreamDefaultController")); }
  error(e) { _rsError(_brand(_RSC, this, "ReadableStreamDefaultController"), e); }
  get [Symbol.toStringTag]() { return "ReadableStreamDefaultController"; }
}

class ReadableByteStreamController extends ReadableStreamDefaultController {
  get byobRequest() { return null; }
  get [Symbol.toStringTag]() { return "ReadableByteStreamController"; }
}

class ReadableStream {
  constructor(source, strategy) {
    const src = source == null ? {} : source;
    if (typeof src !== "object" && typeof src !== "function") throw new TypeError("The underlying source must be an object");
    const s = {
      __proto__: null,
      state: "readable", error: undefined, reader: null, disturbed: false,
      queue: [], queueSize: 0, closeRequested: false,
      started: false, pulling: false, pullAgain: false, bytes: false,
      pull: null, cancel: null, hwm: 1, size: null,
    };
    if (src.type !== undefined) {
      if (String(src.type) !== "bytes") throw new RangeError(`Invalid ReadableStream type ${JSONStringify(String(src.type))}; the only supported type is "bytes".`);
      s.bytes = true;
    }
    const st = _parseStrategy(strategy, s.bytes ? 0 : 1);
    if (s.bytes && st.size) throw new RangeError("A byte stream (type: \"bytes\") cannot have a queuing strategy with a size() function.");
    s.hwm = st.hwm;
    s.size = st.size;
    const start = _method(src, "start", "underlyingSource");
    const pull = _method(src, "pull", "underlyingSource");
    const cancel = _method(src, "cancel", "underlyingSource");
    const controller = s.bytes ? new ReadableByteStreamController(_ctorKey, s) : new ReadableStreamDefaultController(_ctorKey, s);
    if (pull) s.pull = () => _call(pull, src, controller);
    if (cancel) s.cancel = (r) => _call(cancel, src, r);
    _RS.set(this, s);
    const started = start ? _apply(start, src, [controller]) : undefined;
    PromisePrototypeThen(PromiseResolve(started), () => { s.started = true; _rsCallPull(s); }, (e) => _rsError(s, e));
  }

  static from(iterable) {
    if (iterable == null) throw new TypeError("ReadableStream.from() requires an iterable or async iterable");
    let it;
    let sync = false;
    const am = iterable[SymbolAsyncIterator];
    if (am != null) {
      if (typeof am !== "function") throw new TypeError("[Symbol.asyncIterator] is not a function");
      it = _apply(am, iterable, []);
    } else {
      const m = iterable[SymbolIterator];
      if (typeof m !== "function") throw new TypeError("ReadableStream.from() requires an iterable or async iterable");
      it = _apply(m, iterable, []);
      sync = true;
    }
    if (it === null || typeof it !== "object") throw new TypeError("The iterator method must return an object");
    const next = it.next;
    return new ReadableStream({
      __proto__: null,
      async pull(c) {
        const r = await _apply(next, it, []);
        if (r === null || typeof r !== "object") throw new TypeError("The iterator's next() must return an object");
        if (r.done) _rsClose(_RSC.get(c));
        else _rsEnqueue(_RSC.get(c), sync ? await r.value : r.value);
      },
      async cancel(reason) {
        const ret = it.return;
        if (ret == null) return;
        const r = await _apply(ret, it, [reason]);
        if (r === null || typeof r !== "object") throw new TypeError("The iterator's return() must return an object");
      },
    }, { __proto__: null, highWaterMark: 0 });
  }

  get locked() { return _brand(_RS, this, "ReadableStream").reader !== null; }

  cancel(reason) {
    let s;
    try { s = _brand(_RS, this, "ReadableStream"); } catch (e) { return PromiseReject(e); }
    if (s.reader) return PromiseReject(new TypeError("Cannot cancel a ReadableStream that is locked to a reader; cancel through the reader instead."));
    return _rsCancel(s, reason);
  }

  getReader(options) {
    _brand(_RS, this, "ReadableStream");
    const mode = options == null ? undefined : options.mode;
    if (mode !== undefined) {
      if (String(mode) === "byob") throw new TypeError("BYOB readers (getReader({mode: \"byob\"})) are not supported; use getReader() and read Uint8Array chunks.");
      throw new TypeError(`Invalid reader mode ${JSONStringify(String(mode))}; the only valid mode is "byob".`);
    }
    return new ReadableStreamDefaultReader(this);
  }

  tee() { return _rsTee(_brand(_RS, this, "ReadableStream")); }

  pipeTo(dest, options) {
    let s;
    try { s = _brand(_RS, this, "ReadableStream"); } catch (e) { return PromiseReject(e); }
    return _rsPipeTo(s, dest, options);
  }

  pipeThrough(transform, options) {
    const s = _brand(_RS, this, "ReadableStream");
    if (transform == null || typeof transform !== "object") throw new TypeError("pipeThrough requires a {writable, readable} pair such as a TransformStream");
    const writable = transform.writable, readable = transform.readable;
    if (!_WS.has(writable)) throw new TypeError("pipeThrough: transform.writable must be a WritableStream");
    if (!_RS.has(readable)) throw new TypeError("pipeThrough: transform.readable must be a ReadableStream");
    if (s.reader) throw new TypeError("Cannot pipe a ReadableStream that is locked to a reader.");
    if (_WS.get(writable).writer) throw new TypeError("Cannot pipe to a WritableStream that is locked to a writer.");
    PromisePrototypeThen(_rsPipeTo(s, writable, options), undefined, _noop);
    return readable;
  }

  values(options) {
    const preventCancel = !!(options != null && options.preventCancel);
    const r = _rsAcquireReader(_brand(_RS, this, "ReadableStream"));
    let finished = false;
    let ongoing = PromiseResolve();
    const it = ObjectCreate(_AsyncIteratorProto);
    const step = () => {
      if (finished) return PromiseResolve({ value: undefined, done: true });
      return PromisePrototypeThen(_readerRead(r), (res) => {
        if (res.done) { finished = true; _readerRelease(r); }
        return res;
      }, (e) => { finished = true; _readerRelease(r); throw e; });
    };
    let busy = 0; // next() calls not yet settled
    it.next = () => {
      busy++;
      const done = () => { busy--; };
      ongoing = PromisePrototypeThen(ongoing, step, step);
      PromisePrototypeThen(ongoing, done, done);
      return ongoing;
    };
    it.return = (value) => {
      const ret = () => {
        if (finished) return { value, done: true };
        finished = true;
        if (!preventCancel) {
          const p = _readerCancel(r, value);
          _readerRelease(r);
          return PromisePrototypeThen(p, () => ({ value, done: true }));
        }
        _readerRelease(r);
        return { value, done: true };
      };
      // Run at once when idle: some engines do not await return() on break.
      if (busy === 0) {
        try { ongoing = PromiseResolve(ret()); } catch (e) { ongoing = PromiseReject(e); }
        return ongoing;
      }
      return (ongoing = PromisePrototypeThen(ongoing, ret, ret));
    };
    return it;
  }

  get [Symbol.toStringTag]() { return "ReadableStream"; }
}
// As Web IDL says, the async iterator is values itself (not a method that
// calls this.values(), which the app may replace).
ObjectDefineProperty(ReadableStream.prototype, SymbolAsyncIterator, { __proto__: null, value: ReadableStream.prototype.values, writable: true, configurable: true });

// _rsTee tees the stream of state s: [branch1, branch2].
function _rsTee(s) {
  const r = _rsAcquireReader(s);
  let reading = false, readAgain = false;
  let canceled1 = false, canceled2 = false, reason1, reason2;
  const cancelD = _deferred();
  let s1, s2; // the branches' states
  const pull = () => {
    if (reading) { readAgain = true; return PromiseResolve(); }
    reading = true;
    PromisePrototypeThen(_rsReadPromise(s), ({ value, done }) => {
      reading = false;
      if (done) {
        if (!canceled1) try { _rsClose(s1); } catch {}
        if (!canceled2) try { _rsClose(s2); } catch {}
        if (!canceled1 || !canceled2) cancelD.resolve();
        return;
      }
      const v2 = s.bytes && !canceled1 ? _sliceBytes(value) : value;
      if (!canceled1) try { _rsEnqueue(s1, value); } catch {}
      if (!canceled2) try { _rsEnqueue(s2, v2); } catch {}
      if (readAgain) { readAgain = false; pull(); }
    }, () => { reading = false; });
    return PromiseResolve();
  };
  const cancelBoth = () => cancelD.resolve(_rsCancel(s, [reason1, reason2]));
  PromisePrototypeThen(r.closed.promise, undefined, (e) => {
    _rsError(s1, e);
    _rsError(s2, e);
    if (!canceled1 || !canceled2) cancelD.resolve();
  });
  const type = s.bytes ? "bytes" : undefined;
  const b1 = new ReadableStream({
    __proto__: null, type, pull,
    cancel(reason) { canceled1 = true; reason1 = reason; if (canceled2) cancelBoth(); return cancelD.promise; },
  });
  const b2 = new ReadableStream({
    __proto__: null, type, pull,
    cancel(reason) { canceled2 = true; reason2 = reason; if (canceled1) cancelBoth(); return cancelD.promise; },
  });
  s1 = _RS.get(b1);
  s2 = _RS.get(b2);
  return [b1, b2];
}

// _rsPipeTo pipes the stream of state s to dest (pipeTo after the check of
// its receiver).
function _rsPipeTo(s, dest, options) {
  let ws, preventClose, preventAbort, preventCancel, signal;
  try {
    ws = _WS.get(dest);
    if (!ws) throw new TypeError("pipeTo: the destination must be a WritableStream");
    const o = options == null ? _noOptions : options;
    preventClose = !!o.preventClose;
    preventAbort = !!o.preventAbort;
    preventCancel = !!o.preventCancel;
    signal = o.signal;
    if (signal !== undefined && !_isSignal(signal) && (signal === null || typeof signal !== "object" || !("aborted" in signal) || typeof signal.addEventListener !== "function")) {
      throw new TypeError("pipeTo: options.signal must be an AbortSignal");
    }
    if (s.reader) throw new TypeError("Cannot pipe a ReadableStream that is locked to a reader.");
    if (ws.writer) throw new TypeError("Cannot pipe to a WritableStream that is locked to a writer.");
  } catch (e) { return PromiseReject(e); }
  const r = _rsAcquireReader(s), w = _wsAcquireWriter(ws);
  return new Promise((resolve, reject) => {
    let shuttingDown = false;
    let lastWrite = PromiseResolve();
    let off = null; // stops listening to the signal
    const finish = (isErr, v) => {
      if (off !== null) off();
      _writerRelease(w);
      _readerRelease(r);
      if (isErr) reject(v); else resolve();
    };
    const shutdown = (action, err, isErr) => {
      if (shuttingDown) return;
      shuttingDown = true;
      const wait = ws.state === "writable" && !ws.closeQueued ? PromisePrototypeThen(lastWrite, undefined, _noop) : PromiseResolve();
      PromisePrototypeThen(PromisePrototypeThen(wait, () => (action ? action() : undefined)), () => finish(isErr, err), (e) => finish(true, e));
    };
    const onAbort = () => {
      const reason = _signalReason(signal);
      shutdown(() => _whenBoth(
        !preventAbort && ws.state === "writable" ? _wsAbort(ws, reason) : undefined,
        !preventCancel && s.state === "readable" ? _rsCancel(s, reason) : undefined,
      ), reason, true);
    };
    PromisePrototypeThen(r.closed.promise, _noop, (e) => {
      if (s.state !== "errored") return; // released, not errored
      shutdown(preventAbort ? null : () => _wsAbort(ws, e), e, true);
    });
    PromisePrototypeThen(w.closed.promise, () => {
      const e = new TypeError("The destination WritableStream closed before the pipe finished.");
      shutdown(preventCancel ? null : () => _rsCancel(s, e), e, true);
    }, (e) => {
      if (ws.state !== "errored" && ws.state !== "erroring") return;
      shutdown(preventCancel ? null : () => _rsCancel(s, e), e, true);
    });
    if (ws.state === "erroring") {
      const e = ws.error;
      shutdown(preventCancel ? null : () => _rsCancel(s, e), e, true);
    }
    if (signal) {
      if (_signalAborted(signal)) onAbort();
      else off = _onAbort(signal, onAbort);
    }
    PromisePrototypeThen((async () => {
      while (!shuttingDown) {
        await w.ready.promise;
        if (shuttingDown) return;
        const { value, done } = await _rsReadPromise(s);
        if (done) {
          if (s.state === "closed") shutdown(preventClose ? null : () => _wsCloseFromWriter(ws), undefined, false);
          return;
        }
        lastWrite = _wsWrite(ws, value);
        PromisePrototypeThen(lastWrite, undefined, _noop);
      }
    })(), undefined, _noop);
  });
}

// A reader's state: {stream (a stream's state, null once released),
// requests, closed}. The reader functions below are the
// ReadableStreamDefaultReader methods, which the runtime calls directly.
function _rsAcquireReader(s) {
  if (s.reader) throw new TypeError("This ReadableStream is currently locked to a reader; release the lock (reader.releaseLock()) first.");
  const r = { __proto__: null, stream: s, requests: [], closed: _deferred() };
  if (s.state === "closed") r.closed.resolve();
  else if (s.state === "errored") r.closed.reject(s.error);
  s.reader = r;
  return r;
}

function _readerRead(r) {
  if (!r.stream) return PromiseReject(new TypeError("This reader has been released; it can no longer read."));
  return _rsReadPromise(r.stream);
}

function _readerRelease(r) {
  if (!r.stream) return;
  const e = new TypeError("The reader was released.");
  const reqs = _takeAll(r.requests);
  for (let i = 0; i < reqs.length; i++) reqs[i].error(e);
  if (r.closed.settled) r.closed = _deferred();
  r.closed.reject(e);
  r.stream.reader = null;
  r.stream = null;
}

function _readerCancel(r, reason) {
  if (!r.stream) return PromiseReject(new TypeError("This reader has been released; it can no longer cancel the stream."));
  return _rsCancel(r.stream, reason);
}

class ReadableStreamDefaultReader {
  constructor(stream) {
    _RDR.set(this, _rsAcquireReader(_brand(_RS, stream, "ReadableStream")));
  }
  get closed() { return _brand(_RDR, this, "ReadableStreamDefaultReader").closed.promise; }
  read() {
    let r;
    try { r = _brand(_RDR, this, "ReadableStreamDefaultReader"); } catch (e) { return PromiseReject(e); }
    return _readerRead(r);
  }
  releaseLock() { _readerRelease(_brand(_RDR, this, "ReadableStreamDefaultReader")); }
  cancel(reason) {
    let r;
    try { r = _brand(_RDR, this, "ReadableStreamDefaultReader"); } catch (e) { return PromiseReject(e); }
    return _readerCancel(r, reason);
  }
  get [Symbol.toStringTag]() { return "ReadableStreamDefaultReader"; }
}

// ---------------------------------------------------------------------------
// WritableStream internals

function _wsDesired(s) {
  if (s.state === "errored" || s.state === "erroring") return null;
  if (s.state === "closed") return 0;
  return s.hwm - s.queueSize;
}

function _wReplaceRejected(w, key, e) {
  if (w[key].settled) w[key] = _deferred();
  w[key].reject(e);
}

function _wsUpdateBackpressure(s) {
  if (s.state !== "writable" || s.closeQueued) return;
  const bp = _wsDesired(s) <= 0;
  if (bp === s.backpressure) return;
  s.backpressure = bp;
  const w = s.writer;
  if (!w) return;
  if (bp) { if (w.ready.settled) w.ready = _deferred(); }
  else w.ready.resolve();
}

function _wsStartErroring(s, e) {
  if (s.state !== "writable") return;
  s.state = "erroring";
  s.error = e;
  if (s.writer) _wReplaceRejected(s.writer, "ready", e);
  if (s.started && !s.inFlight) _wsFinishErroring(s);
}

function _wsFinishErroring(s) {
  s.state = "errored";
  const e = s.error;
  const queued = _takeAll(s.queue);
  for (let i = 0; i < queued.length; i++) queued[i].d.reject(e);
  s.queueSize = 0;
  if (s.closeRequest) { s.closeRequest.reject(e); s.closeRequest = null; }
  if (s.writer) s.writer.closed.reject(e);
  const ab = s.abortRequest;
  s.abortRequest = null;
  if (!ab) return;
  PromisePrototypeThen(_call(s.abortFn, undefined, ab.reason), () => ab.d.resolve(), (err) => ab.d.reject(err));
}

function _wsAdvance(s) {
  if (!s.started || s.inFlight) return;
  if (s.state === "erroring") { _wsFinishErroring(s); return; }
  if (s.state !== "writable") return;
  if (s.queue.length > 0) {
    const item = ArrayPrototypeShift(s.queue);
    s.inFlight = true;
    PromisePrototypeThen(_call(s.writeFn, undefined, item.chunk), () => {
      s.inFlight = false;
      s.queueSize = s.queue.length === 0 ? 0 : s.queueSize - item.size;
      item.d.resolve();
      _wsUpdateBackpressure(s);
      _wsAdvance(s);
    }, (e) => {
      s.inFlight = false;
      s.queueSize = s.queue.length === 0 ? 0 : s.queueSize - item.size;
      item.d.reject(e);
      if (s.state === "writable") _wsStartErroring(s, e);
      else if (s.state === "erroring") _wsFinishErroring(s);
    });
  } else if (s.closeQueued && !s.closeStarted) {
    s.closeStarted = true;
    s.inFlight = true;
    PromisePrototypeThen(_call(s.closeFn, undefined), () => {
      s.inFlight = false;
      if (s.abortRequest) { s.abortRequest.d.resolve(); s.abortRequest = null; }
      s.state = "closed";
      s.error = undefined;
      if (s.closeRequest) { s.closeRequest.resolve(); s.closeRequest = null; }
      if (s.writer) s.writer.closed.resolve();
    }, (e) => {
      s.inFlight = false;
      if (s.closeRequest) { s.closeRequest.reject(e); s.closeRequest = null; }
      if (s.abortRequest) { s.abortRequest.d.reject(e); s.abortRequest = null; }
      if (s.state === "writable") _wsStartErroring(s, e);
      else _wsFinishErroring(s);
    });
  }
}

function _wsWrite(s, chunk) {
  if (s.state === "errored" || s.state === "erroring") return PromiseReject(s.error);
  if (s.closeQueued || s.state === "closed") return PromiseReject(new TypeError("Cannot write to a WritableStream that is closed or closing."));
  let size;
  try { size = _chunkSize(s.size, chunk); }
  catch (e) { _wsStartErroring(s, e); return PromiseReject(e); }
  const d = _deferred();
  s.queue[s.queue.length] = { chunk, size, d };
  s.queueSize += size;
  _wsUpdateBackpressure(s);
  _wsAdvance(s);
  return d.promise;
}

function _wsClose(s) {
  if (s.state === "closed" || s.state === "errored") return PromiseReject(new TypeError(`Cannot close a WritableStream that is ${s.state}.`));
  if (s.closeQueued) return PromiseReject(new TypeError("The WritableStream is already closing; close() was called twice."));
  s.closeQueued = true;
  s.closeRequest = _deferred();
  const p = s.closeRequest.promise;
  if (s.writer && s.backpressure && s.state === "writable") s.writer.ready.resolve();
  _wsAdvance(s);
  return p;
}

function _wsCloseFromWriter(s) {
  if (s.state === "closed") return PromiseResolve();
  if (s.state === "errored") return PromiseReject(s.error);
  return _wsClose(s);
}

function _wsAbort(s, reason) {
  if (s.state === "closed" || s.state === "errored") return PromiseResolve();
  s.abortReason = reason;
  if (s.abortSignal) _shared.signalAbort(s.abortSignal, reason);
  if (s.abortRequest) return s.abortRequest.d.promise;
  if (s.state === "erroring") return PromiseResolve();
  const d = _deferred();
  s.abortRequest = { d, reason };
  _wsStartErroring(s, reason);
  return d.promise;
}

class WritableStreamDefaultController {
  constructor(key, s) {
    if (key !== _ctorKey) throw new TypeError("Illegal constructor");
    _WSC.set(this, s);
  }
  error(e) {
    const s = _brand(_WSC, this, "WritableStreamDefaultController");
    _wsStartErroring(s, e);
  }
  get signal() {
    const s = _brand(_WSC, this, "WritableStreamDefaultController");
    if (!s.abortSignal) {
      s.abortSignal = _newAbortSignal();
      if ("abortReason" in s) _shared.signalAbort(s.abortSignal, s.abortReason);
    }
    return s.abortSignal;
  }
  get [Symbol.toStringTag]() { return "WritableStreamDefaultController"; }
}

class WritableStream {
  constructor(sink, strategy) {
    const snk = sink == null ? {} : sink;
    if (typeof snk !== "object" && typeof snk !== "function") throw new TypeError("The underlying sink must be an object");
    if (snk.type !== undefined) throw new RangeError("Invalid WritableStream type; no types are defined for writable streams.");
    const st = _parseStrategy(strategy, 1);
    const start = _method(snk, "start", "underlyingSink");
    const write = _method(snk, "write", "underlyingSink");
    const close = _method(snk, "close", "underlyingSink");
    const abort = _method(snk, "abort", "underlyingSink");
    const s = {
      __proto__: null,
      state: "writable", error: undefined, writer: null, queue: [], queueSize: 0,
      hwm: st.hwm, size: st.size, started: false, inFlight: false, backpressure: false,
      closeQueued: false, closeStarted: false, closeRequest: null, abortRequest: null, abortSignal: null,
    };
    const controller = new WritableStreamDefaultController(_ctorKey, s);
    s.writeFn = write && ((c) => _apply(write, snk, [c, controller]));
    s.closeFn = close && (() => _apply(close, snk, []));
    s.abortFn = abort && ((r) => _apply(abort, snk, [r]));
    _WS.set(this, s);
    _wsUpdateBackpressure(s);
    const started = start ? _apply(start, snk, [controller]) : undefined;
    PromisePrototypeThen(PromiseResolve(started), () => {
      s.started = true;
      _wsAdvance(s);
    }, (e) => {
      s.started = true;
      if (s.state === "writable") _wsStartErroring(s, e);
      else _wsAdvance(s);
    });
  }
  get locked() { return _brand(_WS, this, "WritableStream").writer !== null; }
  abort(reason) {
    let s;
    try { s = _brand(_WS, this, "WritableStream"); } catch (e) { return PromiseReject(e); }
    if (s.writer) return PromiseReject(new TypeError("Cannot abort a WritableStream that is locked to a writer; abort through the writer instead."));
    return _wsAbort(s, reason);
  }
  close() {
    let s;
    try { s = _brand(_WS, this, "WritableStream"); } catch (e) { return PromiseReject(e); }
    if (s.writer) return PromiseReject(new TypeError("Cannot close a WritableStream that is locked to a writer; close through the writer instead."));
    return _wsClose(s);
  }
  getWriter() { return new WritableStreamDefaultWriter(this); }
  get [Symbol.toStringTag]() { return "WritableStream"; }
}

// A writer's state: {stream (a stream's state, null once released), ready,
// closed}.
function _wsAcquireWriter(s) {
  if (s.writer) throw new TypeError("This WritableStream is currently locked to a writer; release the lock (writer.releaseLock()) first.");
  const w = { __proto__: null, stream: s, ready: _deferred(), closed: _deferred() };
  if (s.state === "writable") { if (s.closeQueued || !s.backpressure) w.ready.resolve(); }
  else if (s.state === "erroring") w.ready.reject(s.error);
  else if (s.state === "closed") { w.ready.resolve(); w.closed.resolve(); }
  else { w.ready.reject(s.error); w.closed.reject(s.error); }
  s.writer = w;
  return w;
}

function _writerRelease(w) {
  if (!w.stream) return;
  const e = new TypeError("The writer was released.");
  _wReplaceRejected(w, "ready", e);
  _wReplaceRejected(w, "closed", e);
  w.stream.writer = null;
  w.stream = null;
}

class WritableStreamDefaultWriter {
  constructor(stream) {
    _WR.set(this, _wsAcquireWriter(_brand(_WS, stream, "WritableStream")));
  }
  get closed() { return _brand(_WR, this, "WritableStreamDefaultWriter").closed.promise; }
  get ready() { return _brand(_WR, this, "WritableStreamDefaultWriter").ready.promise; }
  get desiredSize() {
    const w = _brand(_WR, this, "WritableStreamDefaultWriter");
    if (!w.stream) throw new TypeError("This writer has been released.");
    return _wsDesired(w.stream);
  }
  #live(what) {
    const w = _brand(_WR, this, "WritableStreamDefaultWriter");
    if (!w.stream) throw new TypeError(`This writer has been released; it can no longer ${what}.`);
    return w.stream;
  }
  write(chunk) {
    try { return _wsWrite(this.#live("write"), chunk); } catch (e) { return PromiseReject(e); }
  }
  close() {
    try { return _wsClose(this.#live("close the stream")); } catch (e) { return PromiseReject(e); }
  }
  abort(reason) {
    try { return _wsAbort(this.#live("abort the stream"), reason); } catch (e) { return PromiseReject(e); }
  }
  releaseLock() { _writerRelease(_brand(_WR, this, "WritableStreamDefaultWriter")); }
  get [Symbol.toStringTag]() { return "WritableStreamDefaultWriter"; }
}

// ---------------------------------------------------------------------------
// TransformStream

class TransformStreamDefaultController {
  constructor(key, ops) {
    if (key !== _ctorKey) throw new TypeError("Illegal constructor");
    _TSC.set(this, ops);
  }
  get desiredSize() { return _brand(_TSC, this, "TransformStreamDefaultController").desiredSize(); }
  enqueue(chunk) { _brand(_TSC, this, "TransformStreamDefaultController").enqueue(chunk); }
  error(e) { _brand(_TSC, this, "TransformStreamDefaultController").error(e); }
  terminate() { _brand(_TSC, this, "TransformStreamDefaultController").terminate(); }
  get [Symbol.toStringTag]() { return "TransformStreamDefaultController"; }
}

// The prelude's own access to a TransformStream's sides.
let _tsReadable, _tsWritable;

class TransformStream {
  #readable;
  #writable;
  constructor(transformer, writableStrategy, readableStrategy) {
    const t = transformer == null ? {} : transformer;
    if (typeof t !== "object" && typeof t !== "function") throw new TypeError("The transformer must be an object");
    if (t.readableType !== undefined) throw new RangeError("Invalid readableType; none is supported.");
    if (t.writableType !== undefined) throw new RangeError("Invalid writableType; none is supported.");
    const ws0 = _parseStrategy(writableStrategy, 1), rs0 = _parseStrategy(readableStrategy, 0);
    const start = _method(t, "start", "transformer");
    const transform = _method(t, "transform", "transformer");
    const flush = _method(t, "flush", "transformer");
    const cancel = _method(t, "cancel", "transformer");
    let rc, wc, rs, ws;
    let backpressure = false;
    let bpChange = _deferred();
    const setBackpressure = (v) => {
      if (backpressure === v) return;
      bpChange.resolve();
      bpChange = _deferred();
      backpressure = v;
    };
    const errorWritable = (e) => {
      _wsStartErroring(ws, e);
      if (backpressure) setBackpressure(false);
    };
    const ops = {
      __proto__: null,
      desiredSize: () => _rsDesired(rs),
      enqueue(chunk) {
        if (rs.state !== "readable" || rs.closeRequested) throw new TypeError("Cannot enqueue into a TransformStream whose readable side is closed or errored.");
        try { _rsEnqueue(rs, chunk); }
        catch (e) { errorWritable(e); throw rs.state === "errored" ? rs.error : e; }
        const hasBP = !(rs.reader && rs.reader.requests.length > 0) && !(_rsDesired(rs) > 0);
        if (hasBP) setBackpressure(true);
      },
      error(e) { _rsError(rs, e); errorWritable(e); },
      terminate() {
        if (rs.state === "readable" && !rs.closeRequested) _rsClose(rs);
        errorWritable(new TypeError("The TransformStream was terminated."));
      },
    };
    const controller = new TransformStreamDefaultController(_ctorKey, ops);
    const doTransform = (chunk) => {
      const p = transform ? _call(transform, t, chunk, controller) : _call(ops.enqueue, ops, chunk);
      return PromisePrototypeThen(p, _noop, (e) => { ops.error(e); throw e; });
    };
    const startD = _deferred();
    this.#writable = new WritableStream({
      __proto__: null,
      start(c) { wc = c; return startD.promise; },
      write(chunk) {
        if (backpressure) {
          return PromisePrototypeThen(bpChange.promise, () => {
            if (ws.state === "erroring") throw ws.error;
            return doTransform(chunk);
          });
        }
        return doTransform(chunk);
      },
      close() {
        return PromisePrototypeThen(_call(flush, t, controller), () => {
          if (rs.state === "errored") throw rs.error;
          if (rs.state === "readable" && !rs.closeRequested) _rsClose(rs);
        }, (e) => { _rsError(rs, e); throw e; });
      },
      abort(reason) {
        const p = _call(cancel, t, reason);
        _rsError(rs, reason);
        return p;
      },
    }, { __proto__: null, highWaterMark: ws0.hwm, size: ws0.size || undefined });
    this.#readable = new ReadableStream({
      __proto__: null,
      start(c) { rc = c; return startD.promise; },
      pull() { setBackpressure(false); return bpChange.promise; },
      cancel(reason) {
        const p = _call(cancel, t, reason);
        errorWritable(reason);
        return p;
      },
    }, { __proto__: null, highWaterMark: rs0.hwm, size: rs0.size || undefined });
    rs = _RS.get(this.#readable);
    ws = _WS.get(this.#writable);
    setBackpressure(true);
    startD.resolve(start ? _apply(start, t, [controller]) : undefined);
  }
  static {
    _tsReadable = (t) => t.#readable;
    _tsWritable = (t) => t.#writable;
  }
  get readable() { return this.#readable; }
  get writable() { return this.#writable; }
  get [Symbol.toStringTag]() { return "TransformStream"; }
}

// _tsEnqueue is controller.enqueue(chunk) for the transformers of the
// prelude's own TransformStreams (not through the prototype).
function _tsEnqueue(c, chunk) { _TSC.get(c).enqueue(chunk); }

// Cloudflare's IdentityTransformStream: a byte pass-through.
class IdentityTransformStream extends TransformStream {
  constructor(options) {
    super({
      __proto__: null,
      transform(chunk, c) {
        if (!isBufferSource(chunk)) {
          throw new TypeError("This TransformStream is being used as a byte stream, but received " + (typeof chunk === "string" ? "a string" : "an object of non-ArrayBuffer/ArrayBufferView type") + " on its writable side.");
        }
        const bytes = _copyBytes(chunk);
        if (TypedArrayPrototypeGetByteLength(bytes) > 0) _tsEnqueue(c, bytes);
      },
    });
  }
  get [Symbol.toStringTag]() { return "IdentityTransformStream"; }
}

// FixedLengthStream: an IdentityTransformStream that must carry exactly
// expectedLength bytes.
class FixedLengthStream extends TransformStream {
  constructor(expectedLength) {
    const n = Number(expectedLength);
    if (!NumberIsInteger(n) || n < 0) throw new TypeError("FixedLengthStream requires a non-negative integer length");
    let seen = 0;
    super({
      __proto__: null,
      transform(chunk, c) {
        if (!isBufferSource(chunk)) throw new TypeError("This TransformStream is being used as a byte stream, but received a non-byte chunk on its writable side.");
        const bytes = _copyBytes(chunk), len = TypedArrayPrototypeGetByteLength(bytes);
        seen += len;
        if (seen > n) throw new TypeError(`FixedLengthStream: more than the expected ${n} bytes were written.`);
        if (len > 0) _tsEnqueue(c, bytes);
      },
      flush() {
        if (seen < n) throw new TypeError(`FixedLengthStream: only ${seen} of the expected ${n} bytes were written.`);
      },
    });
  }
  get [Symbol.toStringTag]() { return "FixedLengthStream"; }
}

// ---------------------------------------------------------------------------
// Queuing strategies

function _strategyHWM(init, name) {
  if (init == null || typeof init !== "object" || init.highWaterMark === undefined) {
    throw new TypeError(`${name} requires an object with a highWaterMark, e.g. new ${name}({ highWaterMark: 16 })`);
  }
  return Number(init.highWaterMark);
}
const _byteLengthSize = function size(chunk) { return chunk.byteLength; };
const _countSize = function size() { return 1; };

class ByteLengthQueuingStrategy {
  #hwm;
  constructor(init) { this.#hwm = _strategyHWM(init, "ByteLengthQueuingStrategy"); }
  get highWaterMark() { return this.#hwm; }
  get size() { return _byteLengthSize; }
  get [Symbol.toStringTag]() { return "ByteLengthQueuingStrategy"; }
}

class CountQueuingStrategy {
  #hwm;
  constructor(init) { this.#hwm = _strategyHWM(init, "CountQueuingStrategy"); }
  get highWaterMark() { return this.#hwm; }
  get size() { return _countSize; }
  get [Symbol.toStringTag]() { return "CountQueuingStrategy"; }
}

// ---------------------------------------------------------------------------
// Text streams (UTF-8 only)

class TextEncoderStream {
  #ts;
  constructor() {
    let pending = ""; // a high surrogate waiting for its pair
    this.#ts = new TransformStream({
      __proto__: null,
      transform(chunk, c) {
        let str = pending + String(chunk);
        pending = "";
        const last = StringPrototypeCharCodeAt(str, str.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) { pending = str[str.length - 1]; str = StringPrototypeSlice(str, 0, -1); }
        if (str.length > 0) _tsEnqueue(c, _utf8.encode(str));
      },
      flush(c) {
        if (pending) {
          // U+FFFD (not new Uint8Array([...]), which iterates the array).
          const r = new Uint8Array(3);
          r[0] = 0xef; r[1] = 0xbf; r[2] = 0xbd;
          _tsEnqueue(c, r);
        }
      },
    });
  }
  get encoding() { return "utf-8"; }
  get readable() { return _tsReadable(this.#ts); }
  get writable() { return _tsWritable(this.#ts); }
  get [Symbol.toStringTag]() { return "TextEncoderStream"; }
}

// _utf8Incomplete returns how many bytes at the end of u8 begin a UTF-8
// sequence that the next chunk may complete.
function _utf8Incomplete(u8) {
  const n = TypedArrayPrototypeGetLength(u8);
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = u8[i];
    if ((b & 0xc0) === 0x80) continue;          // continuation byte
    if (b < 0xc2 || b > 0xf4) return 0;          // ASCII or invalid lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - i < need ? n - i : 0;
  }
  return 0;
}

class TextDecoderStream {
  #ts; #fatal; #ignoreBOM;
  constructor(label = "utf-8", options) {
    const l = StringPrototypeToLowerCase(StringPrototypeTrim(String(label)));
    if (l !== "utf-8" && l !== "utf8" && l !== "unicode-1-1-utf-8") {
      throw new RangeError(`TextDecoderStream: unsupported encoding ${JSONStringify(String(label))}; only utf-8 is supported.`);
    }
    const o = options == null ? _noOptions : options;
    const fatal = this.#fatal = !!o.fatal;
    const ignoreBOM = this.#ignoreBOM = !!o.ignoreBOM;
    let pending = new Uint8Array(0);
    let bomSeen = ignoreBOM;
    const decode = (u8) => {
      if (!fatal) return _utf8.decode(u8, false);
      try { return _utf8.decode(u8, true); }
      catch { throw new TypeError("The encoded data was not valid utf-8"); }
    };
    this.#ts = new TransformStream({
      __proto__: null,
      transform(chunk, c) {
        if (!isBufferSource(chunk)) throw new TypeError("TextDecoderStream accepts only ArrayBuffer or ArrayBufferView chunks.");
        let bytes = toBytes(chunk);
        if (TypedArrayPrototypeGetLength(pending)) bytes = concatBytes([pending, bytes]);
        let n = TypedArrayPrototypeGetLength(bytes);
        if (!bomSeen) {
          if (n < 3 && (n < 1 || bytes[0] === 0xef) && (n < 2 || bytes[1] === 0xbb)) { pending = _sliceBytes(bytes); return; }
          bomSeen = true;
          if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) { bytes = _subBytes(bytes, 3); n -= 3; }
        }
        const keep = _utf8Incomplete(bytes);
        pending = _sliceBytes(bytes, n - keep);
        const text = decode(_subBytes(bytes, 0, n - keep));
        if (text.length > 0) _tsEnqueue(c, text);
      },
      flush(c) {
        const n = TypedArrayPrototypeGetLength(pending);
        if (n === 0) return;
        if (!bomSeen && n < 3) { const t = decode(pending); if (t) _tsEnqueue(c, t); return; }
        if (fatal) throw new TypeError("The encoded data was not valid utf-8: it ends in the middle of a character.");
        _tsEnqueue(c, "\uFFFD");
      },
    });
  }
  get encoding() { return "utf-8"; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  get readable() { return _tsReadable(this.#ts); }
  get writable() { return _tsWritable(this.#ts); }
  get [Symbol.toStringTag]() { return "TextDecoderStream"; }
}

defineGlobal("ReadableStream", ReadableStream);
defineGlobal("ReadableStreamDefaultReader", ReadableStreamDefaultReader);
defineGlobal("ReadableStreamDefaultController", ReadableStreamDefaultController);
defineGlobal("ReadableByteStreamController", ReadableByteStreamController);
defineGlobal("WritableStream", WritableStream);
defineGlobal("WritableStreamDefaultWriter", WritableStreamDefaultWriter);
defineGlobal("WritableStreamDefaultController", WritableStreamDefaultController);
defineGlobal("TransformStream", TransformStream);
defineGlobal("TransformStreamDefaultController", TransformStreamDefaultController);
defineGlobal("IdentityTransformStream", IdentityTransformStream);
defineGlobal("FixedLengthStream", FixedLengthStream);
defineGlobal("ByteLengthQueuingStrategy", ByteLengthQueuingStrategy);
defineGlobal("CountQueuingStrategy", CountQueuingStrategy);
defineGlobal("TextEncoderStream", TextEncoderStream);
defineGlobal("TextDecoderStream", TextDecoderStream);

// For bodies: a stream that has been read from (or cancelled) is disturbed,
// and a Request or Response whose body stream is disturbed counts as used.
_shared.isDisturbed = (stream) => { const st = _RS.get(stream); return !!(st && st.disturbed); };

// The rest of the prelude uses streams through these functions, never
// through the classes' prototypes (which the app may change). A reader
// here is a reader's state (_rsAcquireReader), not a reader object.
_shared.isStream = (x) => _RS.has(x);
_shared.streamLocked = (stream) => _RS.get(stream).reader !== null;
_shared.streamReader = (stream) => _rsAcquireReader(_RS.get(stream));
_shared.readerRead = _readerRead;
_shared.readerCancel = _readerCancel;
_shared.tee = (stream) => _rsTee(_RS.get(stream));
// streamOfBytes is a stream of one chunk, bytes (none when it is empty).
_shared.streamOfBytes = (bytes) => new ReadableStream({
  __proto__: null,
  pull(c) {
    const s = _RSC.get(c);
    if (bytes && TypedArrayPrototypeGetByteLength(bytes)) _rsEnqueue(s, bytes);
    bytes = null;
    _rsClose(s);
  },
});
// controllerEnqueue and controllerClose are a ReadableStreamDefaultController's
// enqueue(chunk) and close(), for the sources of the prelude's own streams.
_shared.controllerEnqueue = (c, chunk) => _rsEnqueue(_RSC.get(c), chunk);
_shared.controllerClose = (c) => _rsClose(_RSC.get(c));
