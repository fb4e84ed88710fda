// hostile: JSON.stringify and JSON.parse replaced mid-request; the runtime keeps its own (request.json() and Response.json() are the built-in ones, as the standard says), so the app's tampering cannot forge or break its response
// request: GET /
// expect: status=200 body="made it" body!~"forged"
// request: POST /json body="{\"a\":[1,2]}"
// expect: status=200 body="{\"got\":[1,2]}" header:Content-Type="application/json"
export default { async fetch(req) {
  JSON.stringify = () => { throw new Error("no stringify") };
  JSON.parse = () => ({ op: "respond", status: 200, body: "forged" });
  if (new URL(req.url).pathname === "/json") {
    const v = await req.json();
    return Response.json({ got: v.a });
  }
  await req.text();
  return new Response("made it");
} };
