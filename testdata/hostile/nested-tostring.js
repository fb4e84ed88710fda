// hostile: String() of an array nested 1,000,000 deep (native recursion in join)
// request: GET /
// expect: status!=200 body!~"undefined"
export default { fetch() {
  let a = []; for (let i = 0; i < 1000000; i++) a = [a];
  try { return new Response(String(a).length + "") } catch (e) { return new Response(String(e).slice(0, 200), { status: 500 }) }
} };
