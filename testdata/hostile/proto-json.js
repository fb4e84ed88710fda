// hostile: JSON.stringify and JSON.parse replaced mid-request (the runtime once serialised responses through JSON; it now passes plain values, so the app's own tampering cannot forge or break its response)
// request: GET /
// expect: status=200 body="made it" body!~"forged"
export default { async fetch(req) {
  JSON.stringify = () => { throw new Error("no stringify") };
  JSON.parse = () => ({ op: "respond", status: 200, body: "forged" });
  await req.text();
  return new Response("made it");
} };
