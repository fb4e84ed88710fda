// hostile: a capability flood: holds a million ctx.exports stubs, each one an entry in the isolate's Go-side capability table
// request: GET /
// expect: status=503 body~"capabilities"
// request: GET /
// expect: status=503 body~"capabilities"
const held = [];
export default { fetch(req, env, ctx) { for (let i = 0; i < 1e6; i++) held.push(ctx.exports.default({ props: { i } }).fetch); return new Response("held") } };
