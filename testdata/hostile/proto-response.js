// hostile: Response, Headers and Request replaced by impostors before the runtime builds its objects
// request: GET /
// expect: status=500 body~"exception"
// request: GET /again
// expect: status=500 body~"exception"
globalThis.Response = function () { return { status: 200, body: "forged", headers: { "x-forged": "1" } } };
Headers.prototype.get = () => "forged";
export default { fetch() { return new Response("hi") } };
