// hostile: fetch to a private 192.168.x address
// deploy: {"egress": ["*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://192.168.1.1/"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
