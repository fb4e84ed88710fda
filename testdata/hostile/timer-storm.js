// hostile: zero-delay timers that each set two more
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status=503 body~"limit"
export default { fetch() { const f = () => { setTimeout(f, 0); setTimeout(f, 0) }; f(); return new Promise(() => {}) } };
