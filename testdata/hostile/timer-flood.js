// hostile: a timer flood, 100,000 pending timers
// request: GET /
// expect: status=503 body~"timers"
export default { fetch() { for (let i = 0; i < 100000; i++) setTimeout(() => {}, 1e9); return new Response("set") } };
