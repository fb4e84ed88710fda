// hostile: a real Response whose status and headers getters lie (101, a CR/LF header name, a forged Content-Length)
// request: GET /
// expect: status=500 body~"exception" header:X-Injected=""
export default { fetch() {
  const r = new Response("body", { status: 200 });
  Object.defineProperty(r, "status", { get() { return 101 } });
  Object.defineProperty(r, "headers", { get() { return new Map([["x-a\r\nX-Injected", "1"], ["content-length", "999"]]) } });
  return r;
} };
