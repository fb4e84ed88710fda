// hostile: a busy loop in fetch
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /spin
// expect: status=503 body~"CPU time" requestid log~"cpuMs"
// request: GET /
// expect: status=200 body="fresh isolate"
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    if (new URL(req.url).pathname === "/spin") for (;;) {}
    return new Response("fresh isolate");
  }
}
