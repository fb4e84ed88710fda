// hostile: fetch to a *.localhost name (resolves to loopback)
// deploy: {"egress": ["*:*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://warren.localhost:__PORT__/healthz"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
