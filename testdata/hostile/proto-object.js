// hostile: setters on Object.prototype for the names the runtime's internals use, to catch the host function or another app's values
// request: GET /
// expect: status=200 body~"caught 0 host" body!~"bystander-secret"
const seen = [];
for (const k of ["host", "__host", "__op", "op", "dispatch", "__dispatch", "then", "respond", "_pairs", "body", "status", "headers", "id", "kind", "args", "db", "sql", "kv"]) {
  Object.defineProperty(Object.prototype, k, { configurable: true, set(v) { seen.push([k, v]); Object.defineProperty(this, k, { value: v, writable: true, configurable: true, enumerable: true }) } });
}
export default { async fetch(req) {
  const r = new Response("probe", { headers: { "x-a": "1" } });
  await r.text();
  await new Promise((res) => setTimeout(res, 1));
  const fns = seen.filter(([, v]) => typeof v === "function");
  let host = 0;
  for (const [, f] of fns) { try { const out = f("kv.get", "secret"); if (out !== undefined) host++; } catch {} }
  return new Response(`caught ${host} host ` + JSON.stringify(seen.map(([k, v]) => k + ":" + typeof v)).slice(0, 500));
} };
