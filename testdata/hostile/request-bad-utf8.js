// hostile: request bodies, paths and headers with malformed UTF-8 and malformed JSON
// request: POST /text body="\xff\xfe\xc0\x80ok"
// expect: status=200 body~"ok" body~"\uFFFD"
// request: POST /json body="{\"a\": \xff"
// expect: status=400 body~"SyntaxError"
// request: POST /json body="{\"a\": [1, 2"
// expect: status=400 body~"SyntaxError"
// request: GET /%ff%fe/%c0%80 header:X-Bin="\xff\xfe"
// expect: status=200 body~"%FF%FE"
export default { async fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/text") return new Response(await req.text());
  if (p === "/json") { try { return Response.json(await req.json()) } catch (e) { return new Response(String(e), { status: 400 }) } }
  return new Response(p + " " + req.headers.get("x-bin"));
} };
