// hostile: fetch to 0.0.0.0 (reaches loopback on Linux)
// deploy: {"egress": ["*:*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://0.0.0.0:__PORT__/healthz"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
