// hostile: the globals the runtime might use (Promise, Map, Set, Uint8Array, JSON, Object, Array, String, Error, TypeError, Response's helpers) replaced by impostors at the module's top level; the runtime keeps its own
// request: POST / body="hello"
// expect: status=200 body="hello world"
const R = Response, H = Headers;
for (const name of ["Promise", "Map", "Set", "WeakMap", "WeakSet", "Uint8Array", "ArrayBuffer", "JSON", "Object", "Array", "String", "Number", "Error", "TypeError", "RangeError", "Symbol", "Reflect", "Math", "Date", "RegExp", "Proxy"]) {
  globalThis[name] = function () { throw new Error("global " + name + " was used") };
}
export default { async fetch(req) {
  const text = await req.text();
  return new R(text + " world", { headers: new H({ "x-a": "1" }) });
} };
