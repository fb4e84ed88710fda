// hostile: the app's response sets x-warren-error (the host protocol's old error flag) with a status and body of its choosing
// request: GET /
// expect: status=418 body="my own teapot" header:X-Warren-Error="1" header:Content-Type="text/plain"
export default { fetch() {
  return new Response("my own teapot", { status: 418, headers: { "x-warren-error": "1", "content-type": "text/plain" } });
} };
