// hostile: a 10 MB string made in SQL (over the 4 MiB SQLite length limit)
// request: GET /
// expect: status=200 body~"REFUSED" body~"too big"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec("SELECT length(printf('%.*c', 10000000, 'x'))").toArray()).slice(0, 300)) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
