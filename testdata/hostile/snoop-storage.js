// hostile: look for the bystander's data through every storage API (SQL schema, pragmas, KV list, async list, ctx.id)
// request: GET /
// expect: status=200 body!~"bystander-secret" body!~"secrets" body~"kv:[]"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  async fetch() {
    const s = this.ctx.storage, out = [];
    const tryit = (k, f) => { try { out.push(k + ":" + JSON.stringify(f())) } catch (e) { out.push(k + "!" + e.message) } };
    tryit("master", () => s.sql.exec("SELECT name, sql FROM sqlite_master").toArray());
    tryit("dblist", () => s.sql.exec("PRAGMA database_list").toArray());
    tryit("kv", () => [...s.kv.list()]);
    tryit("secret", () => s.kv.get("secret"));
    const l = await s.list(); out.push("list:" + JSON.stringify([...l]));
    out.push("id:" + String(this.ctx.id));
    tryit("dbsize", () => s.sql.databaseSize);
    return new Response(out.join("\n"));
  }
}
