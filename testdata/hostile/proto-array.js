// hostile: Array.prototype methods wrapped to record every array the runtime touches, then the array iterator poisoned mid-request
// request: GET /
// expect: status!=200 body!~"bystander-secret"
const grabbed = [];
for (const m of ["push", "map", "join", "forEach", "slice", "indexOf", "filter"]) {
  const orig = Array.prototype[m];
  Array.prototype[m] = function (...a) { if (grabbed.length < 1000) orig.call(grabbed, this); return orig.apply(this, a) };
}
export default { async fetch(req) {
  Array.prototype[Symbol.iterator] = function* () { yield "poisoned" };
  const h = new Headers({ "x-a": "1", "x-b": "2" });
  return new Response("ok", { headers: h });
} };
