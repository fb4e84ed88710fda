// hostile: String.prototype methods (toLowerCase, split, replace, slice, indexOf, charCodeAt, ...), their Symbol.split and Symbol.replace hooks, and RegExp.prototype exec, test, flags and Symbol.replace/split replaced by functions that throw
// request: GET /a/b?x=%20y&z=1+2 header:X-Mixed="padded"
// expect: status=200 body="/a/b  y 1 2|padded|TEXT|a=%3Db" header:X-Out="v" header:X-Trim="t"
const boom = (name) => function () { throw new Error(name + " was called") };
for (const m of ["toLowerCase", "toUpperCase", "split", "replace", "replaceAll", "slice", "substring", "indexOf", "lastIndexOf", "includes", "startsWith", "endsWith", "trim", "trimEnd", "charCodeAt", "codePointAt", "isWellFormed", "toWellFormed", "repeat", "padStart"]) String.prototype[m] = boom("String.prototype." + m);
String.prototype[Symbol.split] = boom("String.prototype[Symbol.split]");
String.prototype[Symbol.replace] = boom("String.prototype[Symbol.replace]");
RegExp.prototype.exec = boom("exec");
RegExp.prototype.test = boom("test");
RegExp.prototype[Symbol.replace] = boom("Symbol.replace");
RegExp.prototype[Symbol.split] = boom("Symbol.split");
Object.defineProperty(RegExp.prototype, "flags", { get: boom("flags") });
export default { async fetch(req) {
  const u = new URL(req.url);
  const h = new Headers({ "X-Out": "v", "x-trim": "  t  " });
  const q = new URLSearchParams({ a: "=b" });
  return new Response(u.pathname + " " + u.searchParams.get("x") + " " + u.searchParams.get("z") + "|" + req.headers.get("x-mixed") + "|" + (await new Response("TEXT").text()) + "|" + q.toString(), { headers: h });
} };
