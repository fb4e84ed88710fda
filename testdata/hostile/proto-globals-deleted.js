// hostile: the globals the runtime might use (Promise, Uint8Array, Error, Symbol, String) deleted or frozen away
// request: GET /
// expect: status=500 body~"exception"
// request: GET /
// expect: status=500 body~"exception"
export default { fetch() {
  Object.freeze(Object.prototype);
  delete globalThis.Uint8Array; globalThis.Promise = undefined; globalThis.Error = 1; globalThis.String = null; globalThis.Symbol = 0;
  throw "left without globals";
} };
