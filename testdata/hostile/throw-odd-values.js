// hostile: throwing values that are not Errors (a Symbol, a Proxy, null, an object whose toString throws and whose message getter never returns)
// request: GET /symbol
// expect: status=500 body~"exception"
// request: GET /proxy
// expect: status=500 body~"exception"
// request: GET /null
// expect: status!=200
// request: GET /tostring
// expect: status=503 body~"CPU time"
export default { fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/symbol") throw Symbol("s");
  if (p === "/proxy") throw new Proxy({}, { get() { throw new Error("trap") } });
  if (p === "/null") throw null;
  throw { toString() { throw new Error("no") }, get message() { for (;;) {} } };
} };
