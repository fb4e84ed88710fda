// hostile: reads and writes of the runtime's own _cf_ tables (KV, alarm)
// request: GET /
// expect: status=200 body~"REFUSED"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec("SELECT * FROM _cf_KV").toArray()).slice(0, 300)) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
