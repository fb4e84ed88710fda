// hostile: fetch to 2130706433 (127.0.0.1 as one decimal number)
// deploy: {"egress": ["*:*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://2130706433:__PORT__/healthz"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
