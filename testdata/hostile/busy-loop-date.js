// hostile: a busy wait on Date.now() (the clock does not advance CPU accounting tricks)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"CPU time"
export default { fetch() { const end = Date.now() + 60000; while (Date.now() < end) {} return new Response("done") } };
