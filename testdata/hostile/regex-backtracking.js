// hostile: catastrophic regex backtracking, (a+)+b on 40 a's
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"CPU time"
export default { fetch() { return new Response(String(/^(a+)+b$/.test("a".repeat(40)))) } };
