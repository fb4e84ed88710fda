// hostile: a 40 MiB response body (past the 32 MiB response limit)
// deploy: {"limits": {"memoryMB": 256}}
// request: GET /
// expect: status=413 body~"response body"
export default { fetch() { return new Response("x".repeat(40 << 20)) } };
