// hostile: Object.keys, entries, defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze and assign replaced by functions that throw, and Function.prototype.call, apply and bind, and Reflect.apply
// request: GET /path?q=1
// expect: status=200 body="/path 1 {\"a\":1}" header:X-A="1" header:Content-Type="text/x"
const boom = (name) => function () { throw new Error(name + " was called") };
for (const m of ["keys", "entries", "values", "defineProperty", "defineProperties", "getOwnPropertyDescriptor", "getOwnPropertyNames", "getPrototypeOf", "setPrototypeOf", "freeze", "assign", "create", "fromEntries", "hasOwn"]) Object[m] = boom("Object." + m);
Function.prototype.call = boom("call");
Function.prototype.apply = boom("apply");
Function.prototype.bind = boom("bind");
Reflect.apply = boom("Reflect.apply");
export default { async fetch(req) {
  const u = new URL(req.url);
  await new Promise((r) => setTimeout(r, 1, "x"));
  console.log("a", { b: 1 });
  return new Response(u.pathname + " " + u.searchParams.get("q") + " " + JSON.stringify({ a: 1 }), { headers: { "x-a": "1", "content-type": "text/x" } });
} };
