// hostile: fetch to the cloud metadata address 169.254.169.254
// deploy: {"egress": ["*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("http://169.254.169.254/latest/meta-data/"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
