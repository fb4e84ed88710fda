// hostile: facet names that are long (300 chars), "../", NUL, empty, and delete()/deleteAll() aimed at them
// request: GET /
// expect: status=200 body~"long!a facet name must be 1 to 256" body~"dots!" body~"delEmpty!" body!~":ok:"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  async fetch() {
    const out = [];
    const t = async (k, f) => { try { out.push(k + ":ok:" + await f()) } catch (e) { out.push(k + "!" + e.message) } };
    const use = async (name, cls) => { const f = this.ctx.facets.get(name, () => ({ class: cls })); return await (await f.fetch("http://x/")).text() };
    await t("long", () => use("x".repeat(300), null));
    await t("dots", () => use("../../../bystander", this.ctx.exports?.App));
    await t("nul", () => use("a\u0000b", {}));
    await t("delDots", async () => { await this.ctx.facets.delete("../../../bystander"); throw new Error("deleted nothing outside") });
    await t("delSlash", async () => { await this.ctx.facets.delete("/"); throw new Error("deleted nothing outside") });
    await t("delEmpty", () => this.ctx.facets.delete(""));
    await t("deleteAll", async () => { await this.ctx.storage.deleteAll(); throw new Error("own data only") });
    return new Response(out.join("\n"));
  }
}
