// hostile: a 3 MB value bound to a statement and put into KV
// request: GET /sql
// expect: status=200 body~"REFUSED" body~"2097152"
// request: GET /kv
// expect: status=200 body~"REFUSED"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const big = new Uint8Array(3000000);
    try {
      if (new URL(req.url).pathname === "/kv") this.ctx.storage.kv.put("big", "x".repeat(3000000));
      else { this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS b (x BLOB)"); this.ctx.storage.sql.exec("INSERT INTO b VALUES (?)", big.buffer); }
      return new Response("STORED");
    } catch (e) { return new Response("REFUSED " + e.message) }
  }
}
