// hostile: built-ins tampered with at the module's top level (array iteration and methods, Object statics, Map/Set/WeakMap methods, Promise.prototype.then, JSON, String methods), then the Web API families that load on first use (encoding, streams, blob and form data, crypto, events) reached only through computed names, so they load after the tampering
// request: GET /
// expect: status=200 body="3 abc true hi 7 36 a=1 44 aborted 2"
const boom = (name) => function () { throw new Error(name + " was called") };
const g = globalThis, get = (a, b) => g[a + b];
const keep = { from: Array.from, keys: Object.keys, stringify: JSON.stringify };
for (const m of ["push", "map", "filter", "forEach", "slice", "splice", "join", "concat", "includes", "indexOf", "some", "every", "find", "findIndex", "reduce", "sort", "shift"]) Array.prototype[m] = boom("Array.prototype." + m);
for (const m of ["keys", "entries", "assign", "freeze", "defineProperty", "getOwnPropertyDescriptor", "getPrototypeOf", "create"]) Object[m] = boom("Object." + m);
for (const C of [Map, Set, WeakMap, WeakSet]) for (const k of Reflect.ownKeys(C.prototype)) if (k !== "constructor" && k !== "size" && k !== Symbol.toStringTag) C.prototype[k] = boom(C.name + "." + String(k));
for (const m of ["toLowerCase", "toUpperCase", "split", "replace", "slice", "indexOf", "trim", "charCodeAt", "startsWith", "endsWith"]) String.prototype[m] = boom("String.prototype." + m);
JSON.parse = boom("JSON.parse");
JSON.stringify = boom("JSON.stringify");
Promise.prototype.then = boom("then");
Promise.prototype.catch = boom("catch");
Array.prototype[Symbol.iterator] = function* () { throw new Error("array iterator") };
export default { async fetch(req) {
  const out = [];
  const add = (v) => { out[out.length] = v; };
  const Enc = get("Text", "Encoder"), Dec = get("Text", "Decoder");
  add(new Enc().encode("abc").length);
  add(new Dec().decode(new Enc().encode("abc")));
  const RS = get("Readable", "Stream");
  const rs = new RS({ start(c) { c.enqueue(new Enc().encode("hi")); c.close(); } });
  add(rs instanceof RS);
  add(await new Response(rs).text());
  const B = get("Bl", "ob");
  add(await new B(["abc", "defg"]).size);
  const c = get("cry", "pto");
  add(c.randomUUID().length);
  const F = get("Form", "Data");
  const fd = new F();
  fd.append("a", "1");
  add(await new Response(new URLSearchParams("a=1")).text());
  add(new Uint8Array(await c.subtle.digest("SHA-256", new Enc().encode("x"))).length + 12);
  const AC = get("Abort", "Controller");
  const ac = new AC();
  let seen = "";
  ac.signal.addEventListener("abort", () => { seen = "aborted"; });
  ac.abort();
  add(seen);
  add(fd.has("a") ? 2 : 0);
  let body = "";
  for (let i = 0; i < out.length; i++) body += (i ? " " : "") + out[i];
  return new Response(body);
} };
