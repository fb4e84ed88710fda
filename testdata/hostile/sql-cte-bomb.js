// hostile: a recursive CTE without end
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"CPU time"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    try { return new Response("OK " + JSON.stringify(this.ctx.storage.sql.exec("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r").toArray()).slice(0, 300)) }
    catch (e) { return new Response("REFUSED " + e.message) }
  }
}
