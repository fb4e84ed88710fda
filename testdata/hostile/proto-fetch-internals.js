// hostile: every method and getter of Headers.prototype, Request.prototype, Response.prototype and DurableObjectId.prototype replaced by functions that throw (the app keeps the originals and calls them itself); the runtime reads its own objects through their private fields, so requests, responses, clones, redirects (followed to /bytes), loopback fetches and RPC still work
// request: POST /echo body="hello" header:X-A="1"
// expect: status=201 body="hello|hello|1|{\"a\":1}|ep got POST hello 2|hi rpc|true" header:X-B="2" header:Content-Type="text/x" header:X-Ep="3"
// request: GET /redirect
// expect: status=200 body="bytes"
// request: GET /bytes
// expect: status=200 body="bytes"
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
const orig = new Map();
for (const C of [Headers, Request, Response]) poison(C);
function poison(C) {
  for (const k of Reflect.ownKeys(C.prototype)) {
    if (k === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(C.prototype, k);
    orig.set(C.name + "." + String(k), d);
    const boom = function () { throw new Error(C.name + "." + String(k) + " was called") };
    Object.defineProperty(C.prototype, k, d.get || d.set ? { get: boom, set: boom, configurable: true } : { value: boom, writable: true, configurable: true });
  }
}
// call runs the original member k of C.prototype on self.
const call = (C, k, self, ...args) => { const d = orig.get(C.name + "." + k); return d.get ? d.get.call(self) : d.value.apply(self, args); };
let DOId = null; // DurableObjectId, not a global: poisoned on the first request
export class App extends DurableObject {
  async fetch(req) {
    if (!DOId) { DOId = Object.getPrototypeOf(this.ctx.id).constructor; poison(DOId); }
    const path = new URL(call(Request, "url", req)).pathname;
    if (path === "/redirect") return Response.redirect("__BASE__/apps/proto-fetch-internals/bytes", 301);
    if (path === "/bytes") return new Response(new TextEncoder().encode("bytes"));
    const copy = call(Request, "clone", req);
    const a = await call(Request, "text", copy);
    const b = await call(Request, "text", req);
    const x = call(Headers, "get", call(Request, "headers", req), "x-a");
    const json = await call(Response, "text", Response.json({ a: 1 }));
    const ep = this.ctx.exports.Ep;
    const epRes = await ep.fetch("http://ep/", { method: "POST", body: "hello", headers: { "x-n": "2" } });
    const epText = await call(Response, "text", epRes);
    const epHeader = call(Headers, "get", call(Response, "headers", epRes), "x-ep");
    const rpc = await ep.greet("rpc");
    const same = call(DOId, "equals", this.ctx.id, this.ctx.id);
    const h = new Headers({ "x-b": "2", "content-type": "text/x", "x-ep": epHeader });
    return new Response([a, b, x, json, epText, rpc, same].join("|"), { status: 201, headers: h });
  }
}
export class Ep extends WorkerEntrypoint {
  async fetch(req) {
    const body = await call(Request, "text", req);
    const n = call(Headers, "get", call(Request, "headers", req), "x-n");
    return new Response(`ep got ${call(Request, "method", req)} ${body} ${n}`, { headers: { "x-ep": "3" } });
  }
  greet(name) { return "hi " + name; }
}
