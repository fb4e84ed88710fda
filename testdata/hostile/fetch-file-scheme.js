// hostile: fetch of a file: URL
// deploy: {"egress": ["*"]}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("file:///etc/passwd"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
