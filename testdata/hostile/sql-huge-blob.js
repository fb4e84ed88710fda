// hostile: blobs made in SQL: 5 MB (past SQLite's 4 MiB length limit) is refused; 3 MB fits the documented in-SQL limit
// request: GET /?n=5000000
// expect: status=200 body~"REFUSED" body~"too big"
// request: GET /?n=3000000
// expect: status=200 body="OK 3000000"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const n = Number(new URL(req.url).searchParams.get("n"));
    const sql = this.ctx.storage.sql;
    try {
      sql.exec("CREATE TABLE IF NOT EXISTS b (x BLOB)");
      sql.exec("INSERT INTO b VALUES (zeroblob(?))", n);
      return new Response("OK " + sql.exec("SELECT max(length(x)) AS l FROM b").one().l);
    } catch (e) { return new Response("REFUSED " + e.message) }
  }
}
