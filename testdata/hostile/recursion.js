// hostile: unbounded recursion
// deploy: {"limits": {"cpuMs": 10000}}
// request: GET /
// expect: status=503 body~"stack depth"
// request: GET /caught
// expect: status=200 body~"stack overflow"
export default { fetch(req) {
  const f = (n) => f(n + 1) + 1;
  if (new URL(req.url).pathname === "/caught") { try { f(0) } catch (e) { return new Response(String(e)) } }
  return new Response(String(f(0)));
} };
