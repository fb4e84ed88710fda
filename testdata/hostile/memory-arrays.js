// hostile: memory bomb with arrays
// deploy: {"limits": {"memoryMB": 32}}
// request: GET /
// expect: status=503 body~"memory" body!~"32 MiB" requestid log~"memory limit (32 MiB)"
export default { fetch() { const a = []; for (;;) a.push(new Array(100000).fill(1.5)); } };
