// The supervisor of the workerd side of the benchmarks: Cloudflare's
// supervisor sample (an AppRunner Durable Object per app that loads the app's
// code with the Worker Loader and runs its App class as a facet) with the
// same HTTP surface as Warren's built-in supervisor:
//   PUT /api/v1/apps/{id}   body: the app's module (stored in the AppRunner)
//   /apps/{id}/...          forwarded to the app's facet
import { DurableObject } from "cloudflare:workers";

export class AppRunner extends DurableObject {
  async fetch(request) {
    const facet = this.ctx.facets.get("app", async () => {
      const worker = this.#load();
      return { class: worker.getDurableObjectClass("App") };
    });
    return await facet.fetch(request);
  }

  deploy(code) {
    this.ctx.storage.kv.put("codeId", crypto.randomUUID());
    this.ctx.storage.kv.put("code", code);
    this.ctx.facets.abort("app", new Error("new version deployed"));
  }

  #load() {
    const codeId = this.ctx.storage.kv.get("codeId");
    return this.env.LOADER.get(codeId, async () => ({
      compatibilityDate: "2026-04-01",
      mainModule: "app.js",
      modules: { "app.js": this.ctx.storage.kv.get("code") },
      globalOutbound: null,
    }));
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    let m = url.pathname.match(/^\/api\/v1\/apps\/([a-z0-9-]+)$/);
    if (m && req.method === "PUT") {
      await env.RUNNER.getByName(m[1]).deploy(await req.text());
      return Response.json({ app: m[1] }, { status: 201 });
    }
    m = url.pathname.match(/^\/apps\/([a-z0-9-]+)(\/.*)?$/);
    if (m) {
      const u = new URL(m[2] || "/", url);
      return env.RUNNER.getByName(m[1]).fetch(new Request(u, req));
    }
    return new Response("not found", { status: 404 });
  },
};
