// hostile: ATTACH the bystander's database, the supervisor's, and a URI with mode=rw
// request: GET /?q=ATTACH%20DATABASE%20'../../bystander/facets/x/facet.sqlite'%20AS%20v
// expect: status=200 body~"REFUSED" body~"not allowed"
// request: GET /?q=ATTACH%20'file:../../../supervisor.sqlite?mode=rw'%20AS%20s
// expect: status=200 body~"REFUSED"
// request: GET /?q=SELECT%20*%20FROM%20pragma_database_list
// expect: status=200 body!~"supervisor" body!~"bystander"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const q = new URL(req.url).searchParams.get("q");
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec(q).toArray())) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
