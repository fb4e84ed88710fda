// hostile: one row of 100 columns of 4 MB each (SQLite's length and column limits): 400 MB a row, checked against the 32 MiB result cap only after the driver had copied it
// request: GET /
// expect: status=200 body~"REFUSED" body~"more than 33554432 bytes"
// request: GET /?n=3
// expect: status=200 body~"OK 3"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const n = Number(new URL(req.url).searchParams.get("n") || 100);
    const cols = Array.from({ length: n }, (_, i) => `printf('%.*c', 4000000, 'x') AS c${i}`).join(", ");
    try {
      const rows = this.ctx.storage.sql.exec(`SELECT ${cols}`).toArray();
      return new Response("OK " + Object.keys(rows[0]).length);
    } catch (e) { return new Response("REFUSED " + e.message) }
  }
}
