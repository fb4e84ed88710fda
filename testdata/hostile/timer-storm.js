// hostile: zero-delay timers that each set two more
// (stopped by whichever limit comes first: the CPU limit, 503, or the
// pending-timers limit, which throws in the app: 500; which one depends on
// how fast the machine runs the storm; the client sees the code, the app's
// log the limit either way)
// deploy: {"limits": {"cpuMs": 50}}
// request: GET /
// expect: status!=200 requestid log~"limit"
export default { fetch() { const f = () => { setTimeout(f, 0); setTimeout(f, 0) }; f(); return new Promise(() => {}) } };
