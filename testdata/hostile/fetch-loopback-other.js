// hostile: fetch to 127.1.2.3 (the rest of 127/8)
// deploy: {"egress": ["*:*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://127.1.2.3:__PORT__/healthz"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
