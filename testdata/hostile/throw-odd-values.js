// hostile: throwing values that are not Errors (a Symbol, a Proxy, null, an object whose toString throws and whose message getter never returns); null is an ordinary exception, not the memory limit, and leaves the isolate serving
// request: GET /symbol
// expect: status=500 body~"exception"
// request: GET /proxy
// expect: status=500 body~"exception"
// request: GET /null
// expect: status=500 body~"exception" body!~"memory" requestid log~"null"
// request: GET /count
// expect: status=200 body="4"
// request: GET /tostring
// expect: status=503 body~"CPU time"
let n = 0;
export default { fetch(req) {
  n++;
  const p = new URL(req.url).pathname;
  if (p === "/symbol") throw Symbol("s");
  if (p === "/proxy") throw new Proxy({}, { get() { throw new Error("trap") } });
  if (p === "/null") throw null;
  if (p === "/count") return new Response(String(n));
  throw { toString() { throw new Error("no") }, get message() { for (;;) {} } };
} };
