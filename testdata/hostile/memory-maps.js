// hostile: memory bomb with a Map of objects
// deploy: {"limits": {"memoryMB": 32, "cpuMs": 10000}}
// request: GET /
// expect: status=503 body~"memory"
export default { fetch() { const m = new Map(); for (let i = 0; ; i++) m.set("k" + i, { i, a: new Array(100).fill(i) }); } };
