// hostile: a constructor that loops forever (blockConcurrencyWhile around a busy loop)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"CPU time"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.blockConcurrencyWhile(async () => { for (;;) {} }) }
  fetch() { return new Response("never") }
}
