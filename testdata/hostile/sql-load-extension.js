// hostile: load_extension of libc
// request: GET /
// expect: status=200 body~"REFUSED"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec("SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')").toArray()).slice(0, 300)) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
