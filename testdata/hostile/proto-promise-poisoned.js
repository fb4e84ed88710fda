// hostile: Promise.prototype.then, catch and finally, Promise.resolve, Promise.all and Promise.allSettled replaced by functions that throw (async handlers, waitUntil, timers and body reads must still work)
// request: POST / body="payload"
// expect: status=200 body="still here: payload"
// request: GET /again
// expect: status=200 body="still here: "
const boom = (name) => function () { throw new Error(name + " was called") };
Promise.prototype.then = boom("then");
Promise.prototype.catch = boom("catch");
Promise.prototype.finally = boom("finally");
Promise.resolve = boom("Promise.resolve");
Promise.reject = boom("Promise.reject");
Promise.all = boom("Promise.all");
Promise.allSettled = boom("Promise.allSettled");
export default { async fetch(req, env, ctx) {
  ctx.waitUntil(new Promise((r) => setTimeout(r, 1)));
  await new Promise((r) => setTimeout(r, 1));
  const body = await req.text();
  return new Response("still here: " + body);
} };
