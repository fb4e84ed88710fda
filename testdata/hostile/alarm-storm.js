// hostile: setAlarm in a loop (apps are facets: they cannot set alarms)
// deploy: {"limits": {"cpuMs": 10000}}
// request: GET /
// expect: status=200 body~"cannot set alarms" body~"0 set"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  async fetch() {
    let set = 0, err = "";
    for (let i = 0; i < 200; i++) { try { await this.ctx.storage.setAlarm(Date.now() + i); set++ } catch (e) { err = e.message } }
    return new Response(`${set} set; ${err}`);
  }
  alarm() { this.ctx.storage.sql.exec("SELECT 1") }
}
