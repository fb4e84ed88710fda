// hostile: a subrequest body flood: ten concurrent 8 MiB responses (streamed by a loopback stub) under a 16 MiB memory limit
// deploy: {"limits": {"memoryMB": 16}}
// request: GET /
// expect: status=503 body~"memory"
export default { async fetch(req, env, ctx) {
  if (new URL(req.url).pathname === "/big") {
    const chunk = new Uint8Array(64 << 10).fill(120);
    let n = 0;
    return new Response(new ReadableStream({ pull(c) { if (n++ < 128) c.enqueue(chunk); else c.close(); } }));
  }
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => ctx.exports.default.fetch("http://x/big?" + i)));
  return new Response(String(rs.length));
} };
