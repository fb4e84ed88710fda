// hostile: fill the database past its 1 MiB quota, in a loop of writes; the rows before the failure stay consistent
// deploy: {"limits": {"storageBytes": 1048576}}
// request: GET /fill
// expect: status=507 body~"quota" body~"1048576"
// request: GET /count
// expect: status=200 body="consistent"
// request: GET /fill
// expect: status=507 body~"quota"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS t (i INTEGER PRIMARY KEY, b BLOB)");
    if (new URL(req.url).pathname === "/count") {
      const n = sql.exec("SELECT count(*) AS n, COALESCE(max(i), 0) AS m FROM t").one();
      return new Response(n.n === n.m ? "consistent" : `rows ${n.n} max ${n.m}`);
    }
    try { for (let i = 0; i < 1000; i++) sql.exec("INSERT INTO t (b) VALUES (randomblob(50000))"); }
    catch (e) { return new Response(e.message, { status: 507 }) }
    return new Response("fit");
  }
}
