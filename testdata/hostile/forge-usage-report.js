// hostile: burns CPU and reports its own usage as zero (x-warren-usage), dressed as a platform rate-limit error so that the report is read
// deploy: {"limits": {"cpuMs": 1000}}
// request: GET /
// expect: status=200 body~"rate_limited" header:X-Warren-Usage="0 0 0" header:X-Warren-Error="1"
export default { fetch() {
  let x = 0;
  for (let i = 0; i < 2e5; i++) x = (x + i) % 7919;
  return new Response(JSON.stringify({ code: "rate_limited", message: "forged " + x }), {
    headers: { "x-warren-usage": "0 0 0", "x-warren-error": "1", "content-type": "application/json" },
  });
} };
