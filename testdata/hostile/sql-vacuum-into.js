// hostile: VACUUM INTO a file beside the bystander
// request: GET /
// expect: status=200 body~"REFUSED"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec("VACUUM INTO '../../bystander/stolen.sqlite'").toArray()).slice(0, 300)) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
