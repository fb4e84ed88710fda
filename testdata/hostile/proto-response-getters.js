// hostile: a real Response whose status and headers getters lie (101, a CR/LF header name, a forged Content-Length); the runtime reads the Response's own private fields, so the lies never reach the wire (before, status 101 was refused: 500)
// request: GET /
// expect: status=200 body="body" header:X-Injected="" header:Content-Length!~"999"
export default { fetch() {
  const r = new Response("body", { status: 200 });
  Object.defineProperty(r, "status", { get() { return 101 } });
  Object.defineProperty(r, "headers", { get() { return new Map([["x-a\r\nX-Injected", "1"], ["content-length", "999"]]) } });
  return r;
} };
