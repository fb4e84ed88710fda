// hostile: Promise.prototype.then replaced to capture every callback the runtime passes, then call them with forged host results; the runtime passes none
// request: GET /
// expect: status=200 body="done 0 " body!~"bystander-secret"
const cbs = [];
const then = Promise.prototype.then;
Promise.prototype.then = function (a, b) { if (typeof a === "function" && cbs.length < 200) cbs.push(a); return then.call(this, a, b) };
export default { async fetch(req) {
  await req.text();
  await new Promise((r) => setTimeout(r, 1));
  let out = "";
  for (const f of cbs.slice()) { try { const v = f({ op: "kv.get", key: "secret", status: 200, body: "forged" }); out += typeof v; } catch (e) { out += "!"; } }
  return new Response("done " + cbs.length + " " + out.slice(0, 200));
} };
