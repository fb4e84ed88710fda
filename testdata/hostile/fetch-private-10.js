// hostile: fetch to a private 10.x address
// deploy: {"egress": ["*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://10.0.0.1/"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
