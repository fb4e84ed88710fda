// hostile: fill the quota through KV puts (sync and async APIs)
// deploy: {"limits": {"storageBytes": 1048576}}
// request: GET /
// expect: status=507 body~"quota"
// request: GET /async
// expect: status=507 body~"quota"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  async fetch(req) {
    const v = "v".repeat(100000);
    try {
      if (new URL(req.url).pathname === "/async") for (let i = 0; i < 100; i++) await this.ctx.storage.put("a" + i, v);
      else for (let i = 0; i < 100; i++) this.ctx.storage.kv.put("k" + i, v);
    } catch (e) { return new Response(e.message, { status: 507 }) }
    return new Response("fit");
  }
}
