// hostile: a regular expression of 200,000 nested groups (native recursion in the compiler)
// request: GET /
// expect: status=200 body~"Error"
export default { fetch() {
  const n = 200000;
  try { new RegExp("(".repeat(n) + "a" + ")".repeat(n)); return new Response("compiled") } catch (e) { return new Response(String(e).slice(0, 200)) }
} };
