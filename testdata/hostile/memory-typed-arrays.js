// hostile: memory bomb with typed arrays (1 MiB each, then one of 2 GiB)
// deploy: {"limits": {"memoryMB": 32}}
// request: GET /many
// expect: status=503 body~"memory"
// request: GET /one
// expect: status=503 body~"memory"
export default { fetch(req) {
  if (new URL(req.url).pathname === "/one") { const b = new Uint8Array(2 ** 31 - 1); b[5] = 1; return new Response(String(b.length)); }
  const keep = []; for (;;) keep.push(new Float64Array(131072));
} };
