// DOMException, Event, CustomEvent, EventTarget, AbortController, AbortSignal.

const _domExceptionCodes = {
  __proto__: null,
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
  InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
  InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
  URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
};
const _domExceptionConstants = {
  INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3, WRONG_DOCUMENT_ERR: 4,
  INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6, NO_MODIFICATION_ALLOWED_ERR: 7, NOT_FOUND_ERR: 8,
  NOT_SUPPORTED_ERR: 9, INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11, SYNTAX_ERR: 12,
  INVALID_MODIFICATION_ERR: 13, NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15, VALIDATION_ERR: 16,
  TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18, NETWORK_ERR: 19, ABORT_ERR: 20, URL_MISMATCH_ERR: 21,
  QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23, INVALID_NODE_TYPE_ERR: 24, DATA_CLONE_ERR: 25,
};

class DOMException extends Error {
  #name;
  constructor(message = "", options = "Error") {
    let name = "Error", cause, hasCause = false;
    if (options !== null && typeof options === "object") {
      if (options.name !== undefined) name = String(options.name);
      if ("cause" in options) { hasCause = true; cause = options.cause; }
    } else if (options !== undefined) name = String(options);
    super(String(message), hasCause ? { cause } : undefined);
    this.#name = name;
  }
  get name() { return this.#name; }
  get code() { return _domExceptionCodes[this.#name] || 0; }
  get [Symbol.toStringTag]() { return "DOMException"; }
}
// _defineConstants defines the constants of an interface, on it and on its
// prototype.
function _defineConstants(C, constants) {
  const names = ObjectKeys(constants);
  for (let i = 0; i < names.length; i++) {
    const k = names[i], d = { __proto__: null, value: constants[k], enumerable: true };
    ObjectDefineProperty(C, k, d);
    ObjectDefineProperty(C.prototype, k, d);
  }
}
_defineConstants(DOMException, _domExceptionConstants);

// ---- Event ----

const _evState = new SafeWeakMap(); // Event -> internal state

function _now() {
  try { return callOp("now"); } catch { return 0; }
}

class Event {
  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
    if (init !== undefined && init !== null && typeof init !== "object") throw new TypeError("Failed to construct 'Event': the event init must be an object");
    init = init || {};
    _evState.set(this, {
      type: String(type),
      bubbles: !!init.bubbles,
      cancelable: !!init.cancelable,
      composed: !!init.composed,
      canceled: false,
      inPassive: false,
      dispatching: false,
      stopProp: false,
      stopImmediate: false,
      target: null,
      currentTarget: null,
      phase: 0,
      trusted: false,
      timeStamp: _now(),
    });
  }
  get type() { return _evState.get(this).type; }
  get target() { return _evState.get(this).target; }
  get srcElement() { return _evState.get(this).target; }
  get currentTarget() { return _evState.get(this).currentTarget; }
  get eventPhase() { return _evState.get(this).phase; }
  get bubbles() { return _evState.get(this).bubbles; }
  get cancelable() { return _evState.get(this).cancelable; }
  get composed() { return _evState.get(this).composed; }
  get isTrusted() { return _evState.get(this).trusted; }
  get timeStamp() { return _evState.get(this).timeStamp; }
  get defaultPrevented() { return _evState.get(this).canceled; }
  get returnValue() { return !_evState.get(this).canceled; }
  set returnValue(v) { if (!v) this.preventDefault(); }
  get cancelBubble() { return _evState.get(this).stopProp; }
  set cancelBubble(v) { if (v) _evState.get(this).stopProp = true; }
  composedPath() { const s = _evState.get(this); return s.dispatching && s.currentTarget ? [s.currentTarget] : []; }
  preventDefault() { _preventDefault(this); }
  stopPropagation() { _evState.get(this).stopProp = true; }
  stopImmediatePropagation() { const s = _evState.get(this); s.stopProp = true; s.stopImmediate = true; }
  get [Symbol.toStringTag]() { return "Event"; }
}
_defineConstants(Event, { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 });

class CustomEvent extends Event {
  #detail;
  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
    super(type, init);
    this.#detail = init && init.detail !== undefined ? init.detail : null;
  }
  get detail() { return this.#detail; }
  get [Symbol.toStringTag]() { return "CustomEvent"; }
}

// _reportError reports an exception thrown by a listener without stopping
// the dispatch.
function _reportError(e) {
  try { console.error("Uncaught", e); } catch {}
}

// ---- EventTarget ----

const _etListeners = new SafeWeakMap(); // EventTarget -> Map(type -> [listener])

function _flattenOptions(options) {
  if (typeof options === "boolean") return { capture: options, once: false, passive: false, signal: undefined };
  if (options === null || typeof options !== "object") return { capture: false, once: false, passive: false, signal: undefined };
  const signal = options.signal;
  if (signal !== undefined && !_sigState.has(signal)) throw new TypeError("addEventListener: options.signal must be an AbortSignal");
  return { capture: !!options.capture, once: !!options.once, passive: !!options.passive, signal };
}

function _listenersOf(target) {
  let m = _etListeners.get(target);
  if (!m) {
    if (!FunctionPrototypeSymbolHasInstance(EventTarget, target)) throw new TypeError("Illegal invocation: not an EventTarget");
    m = new SafeMap();
    _etListeners.set(target, m);
  }
  return m;
}

// _addListener and _removeListener are addEventListener and
// removeEventListener, which the prelude calls itself (never through
// EventTarget.prototype, which the app may change).
function _addListener(target, type, callback, options) {
  const o = _flattenOptions(options);
  if (callback === null || callback === undefined) return;
  if (typeof callback !== "function" && typeof callback !== "object") throw new TypeError("addEventListener: the listener must be a function or an object with handleEvent");
  if (o.signal && _sigState.get(o.signal).aborted) return;
  type = String(type);
  const m = _listenersOf(target);
  let list = m.get(type);
  if (!list) { list = []; m.set(type, list); }
  for (let i = 0; i < list.length; i++) if (list[i].callback === callback && list[i].capture === o.capture) return;
  const l = { __proto__: null, callback, capture: o.capture, once: o.once, passive: o.passive, removed: false };
  list[list.length] = l;
  if (o.signal) _addAbortAlgorithm(o.signal, () => _removeListener(target, type, callback, o.capture));
}

function _removeListener(target, type, callback, capture) {
  type = String(type);
  const m = _listenersOf(target);
  const list = m.get(type);
  if (!list) return;
  let i = 0;
  while (i < list.length && !(list[i].callback === callback && list[i].capture === capture)) i++;
  if (i === list.length) return;
  list[i].removed = true;
  _removeAt(list, i);
}

// _removeAt removes list[i] in place (no splice, which makes its result
// through Symbol.species).
function _removeAt(list, i) {
  for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j];
  list.length = list.length - 1;
}

class EventTarget {
  constructor() { _etListeners.set(this, new SafeMap()); }
  addEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) throw new TypeError("addEventListener requires 2 arguments");
    _addListener(this, type, callback, options);
  }
  removeEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) throw new TypeError("removeEventListener requires 2 arguments");
    const capture = typeof options === "boolean" ? options : !!(options && typeof options === "object" && options.capture);
    _removeListener(this, type, callback, capture);
  }
  dispatchEvent(event) {
    if (!_evState.has(event)) throw new TypeError("dispatchEvent: the argument must be an Event");
    const s = _evState.get(event);
    if (s.dispatching) throw new DOMException("The event is already being dispatched.", "InvalidStateError");
    s.trusted = false;
    return _dispatchEvent(this, event);
  }
  get [Symbol.toStringTag]() { return "EventTarget"; }
}

function _dispatchEvent(target, event) {
  const s = _evState.get(event);
  s.dispatching = true;
  s.target = target;
  s.currentTarget = target;
  s.phase = 2; // AT_TARGET
  const m = _listenersOf(target);
  const list = m.get(s.type);
  if (list && list.length) {
    // Capture listeners run first at the target, then the others.
    const snapshot = [];
    for (let i = 0; i < list.length; i++) if (list[i].capture) snapshot[snapshot.length] = list[i];
    for (let i = 0; i < list.length; i++) if (!list[i].capture) snapshot[snapshot.length] = list[i];
    for (let j = 0; j < snapshot.length; j++) {
      const l = snapshot[j];
      if (l.removed) continue;
      if (l.once) {
        const i = ArrayPrototypeIndexOf(list, l);
        if (i >= 0) _removeAt(list, i);
        l.removed = true;
      }
      if (l.passive) s.inPassive = true;
      try {
        if (typeof l.callback === "function") _apply(l.callback, target, [event]);
        else {
          const h = l.callback.handleEvent;
          if (typeof h !== "function") throw new TypeError("The listener object has no handleEvent method");
          _apply(h, l.callback, [event]);
        }
      } catch (e) {
        _reportError(e);
      }
      s.inPassive = false;
      if (s.stopImmediate) break;
    }
  }
  s.phase = 0;
  s.currentTarget = null;
  s.dispatching = false;
  s.stopProp = false;
  s.stopImmediate = false;
  return !s.canceled;
}

// _defineEventHandler adds an "on<type>" attribute to proto: setting a
// function registers it as a listener (in the position of the first set).
function _defineEventHandler(proto, type) {
  const key = Symbol("on" + type);
  ObjectDefineProperty(proto, "on" + type, {
    __proto__: null,
    configurable: true, enumerable: true,
    get() { const h = this[key]; return h ? h.value : null; },
    set(v) {
      const value = typeof v === "function" || (v !== null && typeof v === "object") ? v : null;
      let h = this[key];
      if (value === null) {
        if (h) { _removeListener(this, type, h.listener, false); this[key] = undefined; }
        return;
      }
      if (h) { h.value = value; return; }
      h = { __proto__: null, value, listener: null };
      h.listener = function (event) {
        if (typeof h.value !== "function") return undefined;
        const r = _apply(h.value, this, [event]);
        if (r === false) _preventDefault(event);
        return r;
      };
      ObjectDefineProperty(this, key, { __proto__: null, value: h, writable: true, configurable: true });
      _addListener(this, type, h.listener, undefined);
    },
  });
}

function _preventDefault(event) { const s = _evState.get(event); if (s.cancelable && !s.inPassive) s.canceled = true; }

// ---- AbortSignal / AbortController ----

const _abortToken = Symbol("AbortSignal");
const _sigState = new SafeWeakMap(); // AbortSignal -> {aborted, reason, algorithms, dependents, sources, dependent}

function _defaultAbortReason() { return new DOMException("This operation was aborted", "AbortError"); }

function _addAbortAlgorithm(signal, fn) {
  const st = _sigState.get(signal);
  if (st.aborted) return;
  st.algorithms[st.algorithms.length] = fn;
}

// Sources hold their dependent signals strongly: a dependent signal with
// listeners must stay alive while a source can still abort it.
const _weak = (x) => x;
const _deref = (r) => r;

function _newSignal() { return new AbortSignal(_abortToken); }

function _signalAbort(signal, reason) {
  const st = _sigState.get(signal);
  if (st.aborted) return;
  st.aborted = true;
  st.reason = reason === undefined ? _defaultAbortReason() : reason;
  const toAbort = [];
  st.dependents.forEach((ref) => {
    const d = _deref(ref);
    if (!d) return;
    const ds = _sigState.get(d);
    if (!ds.aborted) { ds.aborted = true; ds.reason = st.reason; toAbort[toAbort.length] = d; }
  });
  _runAbortSteps(signal);
  for (let i = 0; i < toAbort.length; i++) _runAbortSteps(toAbort[i]);
}

function _runAbortSteps(signal) {
  const st = _sigState.get(signal);
  const algs = st.algorithms;
  st.algorithms = [];
  for (let i = 0; i < algs.length; i++) {
    try { algs[i](); } catch (e) { _reportError(e); }
  }
  const ev = new Event("abort");
  _evState.get(ev).trusted = true;
  _dispatchEvent(signal, ev);
}

class AbortSignal extends EventTarget {
  constructor(token) {
    if (token !== _abortToken) throw new TypeError("Illegal constructor");
    super();
    _sigState.set(this, { __proto__: null, aborted: false, reason: undefined, algorithms: [], dependents: new SafeSet(), sources: new SafeSet(), dependent: false });
  }
  get aborted() { return _sigState.get(this).aborted; }
  get reason() { return _sigState.get(this).reason; }
  throwIfAborted() { const st = _sigState.get(this); if (st.aborted) throw st.reason; }
  static abort(reason) {
    const s = _newSignal();
    const st = _sigState.get(s);
    st.aborted = true;
    st.reason = reason === undefined ? _defaultAbortReason() : reason;
    return s;
  }
  static timeout(ms) {
    ms = Number(ms);
    if (!NumberIsFinite(ms) || ms < 0) throw new TypeError("AbortSignal.timeout: the delay must be a non-negative finite number");
    const s = _newSignal();
    setTimeout(() => _signalAbort(s, new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms);
    return s;
  }
  static any(signals) {
    if (signals === null || typeof signals !== "object" || typeof signals[SymbolIterator] !== "function") throw new TypeError("AbortSignal.any requires an iterable of AbortSignals");
    let list;
    if (ArrayIsArray(signals)) list = signals;
    else { list = []; for (const x of signals) list[list.length] = x; }
    for (let i = 0; i < list.length; i++) if (!_sigState.has(list[i])) throw new TypeError("AbortSignal.any: every item must be an AbortSignal");
    const result = _newSignal();
    for (let i = 0; i < list.length; i++) {
      const xs = _sigState.get(list[i]);
      if (xs.aborted) {
        const rs = _sigState.get(result);
        rs.aborted = true; rs.reason = xs.reason;
        return result;
      }
    }
    const rs = _sigState.get(result);
    rs.dependent = true;
    const addSource = (src) => {
      rs.sources.add(src);
      _sigState.get(src).dependents.add(_weak(result));
    };
    for (let i = 0; i < list.length; i++) {
      const x = list[i], xs = _sigState.get(x);
      if (xs.dependent) xs.sources.forEach(addSource);
      else addSource(x);
    }
    return result;
  }
  get [Symbol.toStringTag]() { return "AbortSignal"; }
}
_defineEventHandler(AbortSignal.prototype, "abort");

class AbortController {
  #signal = _newSignal();
  get signal() { return this.#signal; }
  abort(reason) { _signalAbort(this.#signal, reason); }
  get [Symbol.toStringTag]() { return "AbortController"; }
}

// The rest of the prelude reads and aborts signals through these functions,
// never through AbortSignal.prototype or AbortController.prototype (which
// the app may change).
_shared.isSignal = (x) => _sigState.has(x);
_shared.signalAborted = (s) => _sigState.get(s).aborted;
_shared.signalReason = (s) => _sigState.get(s).reason;
_shared.newSignal = _newSignal;
_shared.signalAbort = _signalAbort;
// onAbort runs fn once when s aborts (before its abort event); it returns a
// function that cancels that.
_shared.onAbort = (s, fn) => {
  const st = _sigState.get(s);
  if (st.aborted) return _noopOff;
  st.algorithms[st.algorithms.length] = fn;
  return () => {
    const algs = st.algorithms, i = ArrayPrototypeIndexOf(algs, fn);
    if (i >= 0) _removeAt(algs, i);
  };
};
const _noopOff = () => {};

defineGlobal("DOMException", DOMException);
defineGlobal("Event", Event);
defineGlobal("CustomEvent", CustomEvent);
defineGlobal("EventTarget", EventTarget);
defineGlobal("AbortSignal", AbortSignal);
defineGlobal("AbortController", AbortController);
