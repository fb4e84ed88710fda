// hostile: Symbol.hasInstance defined on Response, Request, Headers, ReadableStream, Blob, Uint8Array, ArrayBuffer, Map, Date and the cloudflare:workers classes, answering false (instanceof lies); the runtime tells its own objects by brand checks and built-ins without their Symbol.hasInstance, so responses, bodies, entrypoints, RPC, storage and structured clone still work
// request: POST / body="payload"
// expect: status=200 body="payload|ab|bytes|blob|stream|h=1|ep hi|rpc hi|map 1|date 0" header:X-H="1"
import { DurableObject, WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
for (const C of [Response, Request, Headers, ReadableStream, Blob, Uint8Array, ArrayBuffer, Map, Date, DurableObject, WorkerEntrypoint, RpcTarget]) {
  Object.defineProperty(C, Symbol.hasInstance, { value: () => false });
}
const enc = new TextEncoder();
export class App extends DurableObject {
  async fetch(req) {
    const out = [];
    out.push(await new Request("https://example.com/", req).text());
    const ab = new ArrayBuffer(2), u = new Uint8Array(ab);
    u[0] = 0x61; u[1] = 0x62;
    out.push(await new Response(ab).text());
    out.push(await new Response(enc.encode("bytes")).text());
    out.push(await new Response(new Blob(["blob"])).text());
    out.push(await new Response(new ReadableStream({ start(c) { c.enqueue(enc.encode("stream")); c.close(); } })).text());
    const h = new Headers(new Headers({ "x-h": "1" }));
    out.push("h=" + h.get("x-h"));
    out.push(await (await this.ctx.exports.Ep.fetch("http://ep/")).text());
    out.push(await this.ctx.exports.Ep.greet("hi"));
    this.ctx.storage.kv.put("m", new Map([["a", 1]]));
    const m = this.ctx.storage.kv.get("m");
    out.push(Object.getPrototypeOf(m) === Map.prototype ? "map " + m.get("a") : "not a Map");
    const d = structuredClone(new Date(0));
    out.push(Object.getPrototypeOf(d) === Date.prototype ? "date " + d.getTime() : "not a Date");
    return new Response(out.join("|"), { headers: h });
  }
}
export class Ep extends WorkerEntrypoint {
  fetch() { return new Response("ep hi"); }
  greet(x) { return "rpc " + x; }
}
