// hostile: a ReadableStream response that never ends
// request: GET /
// expect: status=200 bodyerr len<=33554432
export default { fetch() {
  const chunk = new Uint8Array(64 << 10).fill(120);
  return new Response(new ReadableStream({ pull(c) { c.enqueue(chunk) } }));
} };
