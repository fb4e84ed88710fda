// hostile: every method of Map, Set, WeakMap and WeakSet prototypes replaced by functions that throw (the runtime's timers, header-name cache, pending host calls and streams use its own copies)
// request: GET /
// expect: status=200 body="ok 42" header:X-Name="v"
const boom = (name) => function () { throw new Error(name + " was called") };
for (const C of [Map, Set, WeakMap, WeakSet]) {
  for (const k of Reflect.ownKeys(C.prototype)) if (k !== "constructor" && k !== "size" && k !== Symbol.toStringTag) C.prototype[k] = boom(C.name + "." + String(k));
}
export default { async fetch(req) {
  const t = setTimeout(() => {}, 10000);
  clearTimeout(t);
  await new Promise((r) => setTimeout(r, 1));
  const h = new Headers({ "X-Name": "v" });
  const s = new Response("42").body;
  const text = await new Response(s).text();
  return new Response("ok " + text, { headers: h });
} };
