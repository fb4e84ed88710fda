// hostile: Atomics.wait on a SharedArrayBuffer (would block the isolate's thread where the CPU timer cannot interrupt it)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status!=200
// request: GET /ok
// expect: status=200 body="ok"
export default { fetch(req) {
  if (new URL(req.url).pathname === "/ok") return new Response("ok");
  const ia = new Int32Array(new SharedArrayBuffer(16));
  const r = Atomics.wait(ia, 0, 0, 20000);
  return new Response(r);
} };
