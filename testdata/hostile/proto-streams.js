// hostile: every method and getter of the stream classes' prototypes (ReadableStream, its reader and controllers, WritableStream, its writer and controller, TransformStream and its controller, TextEncoderStream, TextDecoderStream) replaced by functions that throw (the app keeps the originals); streamed responses, stream bodies, clones (tee), Blob.stream(), Response.body, pipes and the text streams still work
// request: POST /stream body="payload"
// expect: status=200 body="source|payload|cloned|cloned|blob|body|piped é|from|iter" header:X-Kind="stream"
const orig = new Map();
const classes = [ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController, ReadableByteStreamController, WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStream, TransformStreamDefaultController, TextEncoderStream, TextDecoderStream];
for (const C of classes) {
  for (const k of Reflect.ownKeys(C.prototype)) {
    if (k === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(C.prototype, k);
    orig.set(C.name + "." + String(k), d);
    const boom = function () { throw new Error(C.name + "." + String(k) + " was called") };
    Object.defineProperty(C.prototype, k, d.get || d.set ? { get: boom, set: boom, configurable: true } : { value: boom, writable: true, configurable: true });
  }
}
// call runs the original member k of C.prototype on self.
const call = (C, k, self, ...args) => { const d = orig.get(C.name + "." + k); return d.get ? d.get.call(self) : d.value.apply(self, args); };
const enc = new TextEncoder();
const source = (text) => new ReadableStream({ start(c) { call(ReadableStreamDefaultController, "enqueue", c, enc.encode(text)); call(ReadableStreamDefaultController, "close", c); } });
export default { async fetch(req) {
  const out = [];
  out.push(await new Response(source("source")).text());
  out.push(await new Response(req.body).text());
  const r = new Response(source("cloned"));
  const c = r.clone();
  out.push(await r.text(), await c.text());
  out.push(await new Response(new Blob(["blob"]).stream()).text());
  out.push(await new Response(new Response("body").body).text());
  // pipeThrough reads the pair's readable and writable as the standard says: the app gives them.
  const pair = (C) => { const t = new C(); return { readable: call(C, "readable", t), writable: call(C, "writable", t) }; };
  const piped = call(ReadableStream, "pipeThrough", source("piped é"), pair(TextDecoderStream));
  const back = call(ReadableStream, "pipeThrough", piped, pair(TextEncoderStream));
  out.push(await new Response(back).text());
  out.push(await new Response(ReadableStream.from([enc.encode("from")])).text());
  let iter = "";
  const it = call(ReadableStream, "values", source("iter"));
  for (let x = await it.next(); !x.done; x = await it.next()) iter += new TextDecoder().decode(x.value);
  out.push(iter);
  return new Response(source(out.join("|")), { headers: { "x-kind": "stream" } });
} };
