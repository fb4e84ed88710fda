// hostile: Array.prototype.push, splice, join, map and slice replaced by functions that throw, and Symbol.iterator of arrays deleted, before any request
// request: POST /echo body="a=1&b=2" header:X-Mixed-Case="v"
// expect: status=200 body="a=1&b=2 v [\"x\"] 2" header:Content-Type~"text/plain" header:Set-Cookie="a=1,b=2"
for (const m of ["push", "splice", "join", "map", "slice", "concat"]) {
  Array.prototype[m] = function () { throw new Error("Array.prototype." + m + " was called") };
}
delete Array.prototype[Symbol.iterator];
export default { async fetch(req) {
  const body = await req.text();
  const h = new Headers();
  h.append("Set-Cookie", "a=1");
  h.append("set-cookie", "b=2");
  h.set("content-type", "text/plain");
  const json = await Response.json(["x"]).text();
  const sp = new URLSearchParams(body);
  return new Response(body + " " + req.headers.get("x-mixed-case") + " " + json + " " + sp.size, { headers: h });
} };
