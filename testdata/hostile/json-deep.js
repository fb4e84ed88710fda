// hostile: JSON.parse of 1,000,000 nested arrays (native recursion, not JavaScript frames)
// request: GET /
// expect: status=200 body~"SyntaxError"
export default { fetch() {
  const n = 1000000;
  try { JSON.parse("[".repeat(n) + "]".repeat(n)); return new Response("parsed") } catch (e) { return new Response(String(e).slice(0, 200)) }
} };
