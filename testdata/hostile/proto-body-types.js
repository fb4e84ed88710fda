// hostile: every method and getter of Blob.prototype, File.prototype, FormData.prototype and URLSearchParams.prototype replaced by functions that throw (the app keeps the originals); bodies made of them, form data parsed from bodies, and their structured clones still work
// request: POST /form body="a=1&b=%C3%A9" header:Content-Type="application/x-www-form-urlencoded"
// expect: status=200 body="blob:text/x|q=1&r=2|f.txt:file body:text/y|a=1,b=é|clone:text/z:3"
const orig = new Map();
for (const C of [Blob, File, FormData, URLSearchParams]) {
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
export default { async fetch(req) {
  const out = [];
  const blobRes = new Response(new Blob(["blob"], { type: "text/x" }));
  out.push((await blobRes.text()) + ":" + blobRes.headers.get("content-type"));
  const sp = new URLSearchParams();
  call(URLSearchParams, "append", sp, "q", "1");
  call(URLSearchParams, "append", sp, "r", "2");
  out.push(await new Response(sp).text());
  const fd = new FormData();
  call(FormData, "append", fd, "f", new Blob(["file body"], { type: "text/y" }), "f.txt");
  const parsed = await new Response(fd).formData();
  const file = call(FormData, "get", parsed, "f");
  out.push(call(File, "name", file) + ":" + (await call(Blob, "text", file)) + ":" + call(Blob, "type", file));
  const form = await req.formData();
  out.push("a=" + call(FormData, "getAll", form, "a") + ",b=" + call(FormData, "get", form, "b"));
  const cloned = structuredClone(new Blob(["abc"], { type: "text/z" }));
  out.push("clone:" + call(Blob, "type", cloned) + ":" + call(Blob, "size", cloned));
  return new Response(out.join("|"));
} };
