// hostile: memory bomb with strings doubling
// deploy: {"limits": {"memoryMB": 32}}
// request: GET /
// expect: status=503 body~"memory"
export default { fetch() { let s = "x"; const keep = []; for (;;) { s = s + s + String(keep.length); keep.push(s); } } };
