// hostile: PRAGMA writable_schema, then a rewrite of sqlite_master
// request: GET /
// expect: status=200 body~"REFUSED"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec("PRAGMA writable_schema = 1").toArray()).slice(0, 300)) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
