// hostile: a Durable Object constructor that throws on every start
// deploy: {"limits": {"cpuMs": 10000}}
// request: GET /
// expect: status=500 body~"exception" body!~"ctor boom" requestid log~"ctor boom" log~"in the constructor of Durable Object class App"
// request: GET /
// expect: status=500 body!~"ctor boom" requestid log~"ctor boom"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) { super(ctx, env); throw new Error("ctor boom") }
  fetch() { return new Response("never") }
}
