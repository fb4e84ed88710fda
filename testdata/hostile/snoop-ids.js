// hostile: reach the bystander through ids and namespaces (ctx.exports, idFromName("bystander"), env bindings, facets of the same name)
// request: GET /
// expect: status=200 body!~"bystander-secret"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  async fetch() {
    const out = [];
    const t = async (k, f) => { try { out.push(k + ":" + String(await f()).slice(0, 200)) } catch (e) { out.push(k + "!" + e.message) } };
    await t("env", () => JSON.stringify(Object.keys(this.env ?? {})));
    await t("exports", () => JSON.stringify(Object.keys(this.ctx.exports ?? {})));
    await t("byName", async () => { const ns = this.ctx.exports.App; const stub = ns.get(ns.idFromName("bystander")); return await (await stub.fetch("http://x/secret")).text() });
    await t("facet", async () => { const f = this.ctx.facets.get("app", () => ({ class: this.ctx.exports.App })); return await (await f.fetch("http://x/secret")).text() });
    await t("facetByLoader", async () => typeof this.env?.LOADER);
    return new Response(out.join("\n"));
  }
}
