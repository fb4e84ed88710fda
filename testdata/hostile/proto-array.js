// hostile: Array.prototype methods wrapped to record every array the runtime touches, then the array iterator poisoned mid-request; the runtime uses none of them, so this request and the next are answered
// request: GET /
// expect: status=200 body="ok 0" header:X-A="1" header:X-B="2" header:X-C="3"
// request: GET /again
// expect: status=200 body="ok 0" header:X-A="1"
const grabbed = [];
const record = Array.prototype.push;
for (const m of ["push", "map", "join", "forEach", "slice", "indexOf", "filter", "includes", "splice", "sort", "concat", "find", "some"]) {
  const orig = Array.prototype[m];
  Array.prototype[m] = function (...a) { if (this !== grabbed && grabbed.length < 1000) record.call(grabbed, this); return orig.apply(this, a) };
}
export default { async fetch(req, env, ctx) {
  grabbed.length = 0;
  Array.prototype[Symbol.iterator] = function* () { yield "poisoned" };
  const h = new Headers({ "x-a": "1", "x-b": "2" });
  const pairs = new Headers([["x-c", "3"]]);
  h.append("x-c", pairs.get("x-c"));
  console.log("headers", h, [1, 2], { a: [3] });
  ctx.waitUntil(new Promise((r) => setTimeout(r, 1)));
  await new Promise((r) => setTimeout(r, 1, "arg"));
  const text = await req.text();
  return new Response("ok " + grabbed.length + text, { headers: h });
} };
