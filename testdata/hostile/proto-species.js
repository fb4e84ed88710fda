// hostile: Symbol.species and the prototype's constructor of Array, the typed arrays and ArrayBuffer made getters that throw (read by slice, map, splice, subarray and ArrayBuffer slice to make their result); the runtime makes its arrays and bytes without them: bodies, headers, byte streams and their clones, TextDecoder, Blob.slice, SQL cursors and bindings, storage.get of keys and importKey still work
// request: POST / body="payload"
// expect: status=200 body="payload|payload|b|1,2|bytes|bytebytebyte|é|bc|a,b|1,2|3|1|ok|32" header:X-Dup="b"
import { DurableObject } from "cloudflare:workers";
const thrower = (what) => ({ get() { throw new Error(what + " was read") }, configurable: true });
const TypedArray = Object.getPrototypeOf(Uint8Array);
for (const [C, name] of [[Array, "Array"], [TypedArray, "TypedArray"], [ArrayBuffer, "ArrayBuffer"]]) {
  Object.defineProperty(C, Symbol.species, thrower(name + "[Symbol.species]"));
}
for (const [C, name] of [[Array, "Array"], [Uint8Array, "Uint8Array"], [ArrayBuffer, "ArrayBuffer"]]) {
  Object.defineProperty(C.prototype, "constructor", thrower(name + ".prototype.constructor"));
}
const enc = new TextEncoder(), dec = new TextDecoder();
export class App extends DurableObject {
  async fetch(req) {
    const out = [];
    const copy = req.clone();
    out.push(dec.decode(await req.arrayBuffer()));
    out.push(dec.decode(await copy.bytes()));
    const h = new Headers();
    h.append("x-dup", "a");
    h.append("x-other", "1");
    h.append("x-dup", "c");
    h.set("x-dup", "b");
    out.push(h.get("x-dup"));
    const h2 = new Headers(h);
    h2.append("x-other", "2");
    out.push(h2.get("x-other").replace(" ", ""));
    out.push(await new Response(enc.encode("bytes")).text());
    const bs = new ReadableStream({ type: "bytes", start(c) { c.enqueue(enc.encode("byte")); c.close(); } });
    const r = new Response(bs), r2 = r.clone();
    out.push((await r.text()) + (await r2.text()) + (await new Response(enc.encode("byte")).text()));
    const e = enc.encode("é");
    const d = new TextDecoder();
    out.push(d.decode(new Uint8Array(e.buffer, 0, 1), { stream: true }) + d.decode(new Uint8Array(e.buffer, 1)));
    out.push(await new Blob(["abcdef"]).slice(1, 3).text());
    const sql = this.ctx.storage.sql;
    out.push(sql.exec("SELECT 1 AS a, 2 AS b").columnNames.join());
    out.push(sql.exec("SELECT 1 AS a, 2 AS b").raw().next().value.join());
    out.push(sql.exec("SELECT length(?) AS n", enc.encode("abc")).one().n);
    this.ctx.storage.kv.put("k", 1);
    out.push((await this.ctx.storage.get(["k"])).get("k"));
    const key = await crypto.subtle.importKey("raw", enc.encode("secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    out.push(key.usages.length === 1 ? "ok" : "usages");
    out.push((await crypto.subtle.sign("HMAC", key, enc.encode("x"))).byteLength);
    return new Response(out.join("|"), { headers: h });
  }
}
