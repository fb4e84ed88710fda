// hostile: JSON.stringify and JSON.parse replaced mid-request (the runtime serialises responses and SQL through JSON)
// request: GET /
// expect: status=500 body~"exception" body!~"forged"
export default { async fetch(req) {
  JSON.stringify = () => { throw new Error("no stringify") };
  JSON.parse = () => ({ op: "respond", status: 200, body: "forged" });
  await req.text();
  return new Response("made it");
} };
