// hostile: a temp-table disk fill: CREATE TEMP TABLE lives in a file outside the storage quota (a 64 KiB app wrote 1 GB there)
// deploy: {"limits": {"storageBytes": 65536}}
// request: GET /
// expect: status=200 body~"temporary tables" body!~"FILLED"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    try {
      this.ctx.storage.sql.exec("CREATE TEMP TABLE t (x)");
      for (let i = 0; i < 50; i++) this.ctx.storage.sql.exec("INSERT INTO temp.t VALUES (printf('%.*c', 1000000, 'x'))");
      return new Response("FILLED");
    } catch (e) { return new Response(e.message) }
  }
}
