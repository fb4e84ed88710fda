// hostile: a microtask flood (each promise reaction queues another)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"CPU time"
export default { fetch() { const loop = () => Promise.resolve().then(loop); loop(); return new Promise(() => {}); } };
