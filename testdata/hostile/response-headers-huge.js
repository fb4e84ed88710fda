// hostile: one response header of 1 MiB, then 1,500 headers of 200 bytes
// request: GET /one
// expect: status=413 body~"response headers"
// request: GET /many
// expect: status=413 body~"response headers"
export default { fetch(req) {
  const h = {};
  if (new URL(req.url).pathname === "/one") h["x-big"] = "a".repeat(1 << 20);
  else for (let i = 0; i < 1500; i++) h["x-h" + i] = "v".repeat(200);
  return new Response("hi", { headers: h });
} };
