// hostile: 50 MB of console output in one request
// deploy: {"limits": {"cpuMs": 2000}}
// request: GET /
// expect: status=200 body="logged"
export default { fetch() { const s = "y".repeat(10000); for (let i = 0; i < 5000; i++) console.log(s); return new Response("logged") } };
