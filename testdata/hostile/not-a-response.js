// hostile: fetch returns things that are not a Response (a number, a thenable that never settles, an object posing as one)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /number
// expect: status=500 body!~"Response" requestid log~"Response"
// request: GET /fake
// expect: status=500 body!~"Response" requestid log~"Response"
export default { fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/number") return 42;
  return { status: 200, headers: {}, body: "fake", __proto__: Response.prototype };
} };
