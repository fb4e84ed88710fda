// hostile: fetch to the admin API from an app without egress (the default)
// deploy: {"egress": []}
// request: GET /
// expect: status=200 body~"REFUSED" body!~"REACHED"
export default { async fetch() {
  try { const r = await fetch("__BASE__/api/v1/apps"); return new Response("REACHED " + r.status + " " + (await r.text()).slice(0, 200)) }
  catch (e) { return new Response("REFUSED " + e.message) }
} };
