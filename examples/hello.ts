// A one-shot Dynamic Worker: go run ./cmd/warren run examples/hello.ts --path /you
export default {
  async fetch(request: Request): Promise<Response> {
    const who = new URL(request.url).pathname.slice(1) || "world";
    console.log("greeting", who);
    return Response.json({ hello: who, at: new Date().toISOString() });
  },
};
