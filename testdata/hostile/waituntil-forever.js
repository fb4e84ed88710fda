// hostile: ctx.waitUntil of a busy loop after the response was sent
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /spin
// expect: status=200 body="sent"
// request: GET /ok sleep=1000
// expect: status=200 body="fresh"
export default { fetch(req, env, ctx) {
  if (new URL(req.url).pathname === "/ok") return new Response("fresh");
  ctx.waitUntil(new Promise((r) => setTimeout(r, 1)).then(() => { for (;;) {} }));
  return new Response("sent");
} };
