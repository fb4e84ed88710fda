// hostile: an app that fetches itself (recursion through the server)
// deploy: {"egress": ["*:*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://127.0.0.1:__PORT__/apps/fetch-self/"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
