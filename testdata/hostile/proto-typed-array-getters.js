// hostile: the length, byteLength, byteOffset and buffer getters of %TypedArray%.prototype and DataView.prototype redefined to throw; the runtime reads them through its own copies: body bytes and buffers, byte streams, TextDecoder, percent-decoding, structured clone, Blob size, crypto and multipart form data still work
// request: POST / body="payload"
// expect: status=200 body="payload|payload|ab|dv|stream|ascii é|é|3:abc|3|32|f.txt=file"
const TypedArray = Object.getPrototypeOf(Uint8Array);
for (const [proto, name, keys] of [[TypedArray.prototype, "TypedArray", ["length", "byteLength", "byteOffset", "buffer"]], [DataView.prototype, "DataView", ["byteLength", "byteOffset", "buffer"]]]) {
  for (const k of keys) Object.defineProperty(proto, k, { get() { throw new Error(name + ".prototype." + k + " was read") }, configurable: true });
}
const enc = new TextEncoder(), dec = new TextDecoder();
export default { async fetch(req) {
  const out = [];
  const copy = req.clone();
  out.push(dec.decode(await req.arrayBuffer()));
  out.push(dec.decode(await copy.bytes()));
  const ab = new ArrayBuffer(2), u = new Uint8Array(ab);
  u[0] = 0x61; u[1] = 0x62;
  out.push(await new Response(ab).text());
  u[0] = 0x64; u[1] = 0x76;
  out.push(await new Response(new DataView(ab)).text());
  out.push(await new Response(new ReadableStream({ start(c) { c.enqueue(enc.encode("stream")); c.close(); } })).text());
  out.push(dec.decode(enc.encode("ascii é")));
  out.push(new URLSearchParams("a=%C3%A9").get("a"));
  const cloned = structuredClone(enc.encode("abc"));
  out.push(cloned instanceof Uint8Array ? "3:" + dec.decode(cloned) : "not a Uint8Array");
  out.push(new Blob(["abc"]).size);
  out.push((await crypto.subtle.digest("SHA-256", enc.encode("x"))).byteLength);
  const fd = new FormData();
  fd.append("f", new Blob(["file"]), "f.txt");
  const parsed = await new Response(fd).formData();
  out.push(parsed.get("f").name + "=" + (await parsed.get("f").text()));
  return new Response(out.join("|"));
} };
