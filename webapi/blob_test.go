package webapi_test

import "testing"

func TestBlobParts(t *testing.T) {
	expectStreams(t, `
const inner = new Blob(["in"]);
const b = new Blob(["a\u00e9", new Uint8Array([0x62, 0x63]), new Uint16Array([0x6564]).buffer, new DataView(new Uint8Array([0x66]).buffer), inner, 7]);
const empty = new Blob();
return {
  size: b.size, text: await b.text(), type: b.type,
  empty: [empty.size, await empty.text(), empty.type],
  isBlob: Object.prototype.toString.call(b),
  notIterable: await errName(() => new Blob("abc")),
  notIterable2: await errName(() => new Blob({})),
  badEndings: await errName(() => new Blob([], { endings: "bogus" })),
};`,
		map[string]any{
			"size": 11, "text": "a\u00e9bcdefin7", "type": "", "empty": []any{0, "", ""}, "isBlob": "[object Blob]",
			"notIterable": "TypeError", "notIterable2": "TypeError", "badEndings": "TypeError",
		})
}

func TestBlobTypeAndSlice(t *testing.T) {
	expectStreams(t, `
const b = new Blob(["0123456789"], { type: "Text/Plain;Charset=UTF-8" });
const res = { type: b.type, badType: new Blob([], { type: "a\u00e9/b" }).type, ctrlType: new Blob([], { type: "a/b\n" }).type };
const s = async (...a) => { const x = b.slice(...a); return [await x.text(), x.size, x.type]; };
res.all = await s();
res.range = await s(2, 5);
res.neg = await s(-3);
res.negBoth = await s(-5, -2);
res.clamped = await s(-100, 100);
res.inverted = await s(6, 2);
res.typed = await s(1, 3, "Image/PNG");
res.nested = await b.slice(2, 8).slice(1, -1).text();
// The source is unaffected by mutating what arrayBuffer()/bytes() return.
const bytes = await b.bytes();
bytes[0] = 0x58;
new Uint8Array(await b.arrayBuffer())[1] = 0x58;
res.immutable = await b.text();
res.bytesType = bytes.constructor.name;
res.bufType = Object.prototype.toString.call(await b.arrayBuffer());
return res;`,
		map[string]any{
			"type": "text/plain;charset=utf-8", "badType": "", "ctrlType": "",
			"all": []any{"0123456789", 10, ""}, "range": []any{"234", 3, ""}, "neg": []any{"789", 3, ""},
			"negBoth": []any{"567", 3, ""}, "clamped": []any{"0123456789", 10, ""}, "inverted": []any{"", 0, ""},
			"typed": []any{"12", 2, "image/png"}, "nested": "3456", "immutable": "0123456789",
			"bytesType": "Uint8Array", "bufType": "[object ArrayBuffer]",
		})
}

func TestBlobStream(t *testing.T) {
	expectStreams(t, `
const data = new Uint8Array(150000);
for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
const b = new Blob([data]);
const chunks = await collect(b.stream());
let n = 0, ok = true;
for (const c of chunks) { if (!(c instanceof Uint8Array)) ok = false; for (const x of c) { if (x !== ((n * 7) & 0xff)) ok = false; n++; } }
return { ok, n, multiple: chunks.length > 1, empty: (await collect(new Blob().stream())).length, viaResponse: await new Response(new Blob(["hi"]).stream()).text() };`,
		map[string]any{"ok": true, "n": 150000, "multiple": true, "empty": 0, "viaResponse": "hi"})
}

func TestFile(t *testing.T) {
	expectStreams(t, `
const f = new File(["abc"], "notes.txt", { type: "TEXT/PLAIN", lastModified: 1234 });
const now = Date.now();
const g = new File([f], "copy");
return {
  f: [f.name, f.size, f.type, f.lastModified, await f.text(), f instanceof Blob, Object.prototype.toString.call(f)],
  defaultLastModified: Math.abs(g.lastModified - now) < 60000,
  copy: [g.name, await g.text()],
  sliceIsBlob: [f.slice(1) instanceof File, await f.slice(1).text()],
  noName: await errName(() => new File(["x"])),
};`,
		map[string]any{
			"f": []any{"notes.txt", 3, "text/plain", 1234, "abc", true, "[object File]"}, "defaultLastModified": true,
			"copy": []any{"copy", "abc"}, "sliceIsBlob": []any{false, "bc"}, "noName": "TypeError",
		})
}

func TestFormDataAPI(t *testing.T) {
	expectStreams(t, `
const fd = new FormData();
fd.append("a", "1");
fd.append("b", 2);
fd.append("a", "3");
const res = {};
res.get = [fd.get("a"), fd.get("b"), fd.get("zz")];
res.getAll = fd.getAll("a");
res.has = [fd.has("a"), fd.has("zz")];
fd.set("a", "only");
res.afterSet = [...fd];
fd.append("c", "x");
fd.delete("b");
res.afterDelete = [...fd.keys()];
res.values = [...fd.values()];
const seen = [];
fd.forEach(function (v, k, obj) { seen.push(k + "=" + v + ":" + (obj === fd) + ":" + (this === res)); }, res);
res.forEach = seen;
fd.set("new", "n");
res.setAppends = [...fd.keys()];
// Blobs become Files named "blob"; filenames override; Files keep their name.
fd.append("blob", new Blob(["B"], { type: "text/x" }));
fd.append("named", new Blob(["N"]), "n.bin");
const file = new File(["F"], "f.txt", { lastModified: 42 });
fd.append("file", file);
fd.append("renamed", file, "r.txt");
const blob = fd.get("blob"), named = fd.get("named"), same = fd.get("file"), renamed = fd.get("renamed");
res.blob = [blob instanceof File, blob.name, blob.type, await blob.text()];
res.named = [named.name, await named.text()];
res.file = [same === file, same.name];
res.renamed = [renamed.name, renamed.lastModified, await renamed.text()];
res.filenameForString = await errName(() => fd.append("s", "v", "f.txt"));
res.tooFewArgs = await errName(() => fd.append("only-name"));
res.getNoArg = await errName(() => fd.get());
res.ctorArg = await errName(() => new FormData({}));
res.tag = Object.prototype.toString.call(fd);
res.entries = [...new FormData().entries()].length;
return res;`,
		map[string]any{
			"get": []any{"1", "2", nil}, "getAll": []string{"1", "3"}, "has": []bool{true, false},
			"afterSet": [][]string{{"a", "only"}, {"b", "2"}}, "afterDelete": []string{"a", "c"}, "values": []string{"only", "x"},
			"forEach": []string{"a=only:true:true", "c=x:true:true"}, "setAppends": []string{"a", "c", "new"},
			"blob": []any{true, "blob", "text/x", "B"}, "named": []any{"n.bin", "N"}, "file": []any{true, "f.txt"},
			"renamed": []any{"r.txt", 42, "F"}, "filenameForString": "TypeError", "tooFewArgs": "TypeError",
			"getNoArg": "TypeError", "ctorArg": "TypeError", "tag": "[object FormData]", "entries": 0,
		})
}

func TestFormDataMultipartRoundTrip(t *testing.T) {
	expectStreams(t, `
const bin = new Uint8Array(256);
for (let i = 0; i < 256; i++) bin[i] = i;
const fd = new FormData();
fd.append("text", "hello \u20ac");
fd.append("multi\nline", "a\nb"); // names are escaped, values get CRLF line breaks
fd.append("quote\"name", "q");
fd.append("upload", new Blob([bin], { type: "application/x-thing" }), "bin.dat");
fd.append("empty", new File([], "empty.txt"));
fd.append("text", "second");
const req = new Request("http://x/", { method: "POST", body: fd });
const ct = req.headers.get("content-type");
const out = await req.formData();
const up = out.get("upload");
const emptyFile = out.get("empty");
return {
  ct: /^multipart\/form-data; boundary=\S+$/.test(ct),
  keys: [...out.keys()],
  text: out.getAll("text"),
  multiline: out.get("multi%0D%0Aline"),
  upload: [up instanceof File, up.name, up.type, up.size, hex(await up.bytes()) === hex(bin)],
  empty: [emptyFile.name, emptyFile.size, emptyFile.type],
};`,
		map[string]any{
			"ct": true, "keys": []string{"text", "multi%0D%0Aline", "quote%22name", "upload", "empty", "text"},
			"text": []string{"hello \u20ac", "second"}, "multiline": "a\r\nb",
			"upload": []any{true, "bin.dat", "application/x-thing", 256, true},
			"empty":  []any{"empty.txt", 0, "application/octet-stream"},
		})
}

func TestFormDataParseMultipart(t *testing.T) {
	expectStreams(t, `
const body = [
  "This is a preamble.",
  "--my boundary",
  "Content-Disposition: form-data; name=\"field\"",
  "",
  "value with\r\nCRLF inside",
  "--my boundary  ",
  "content-disposition: form-data; filename=\"a \\\"b\\\".txt\"; name=file",
  "Content-Type: Text/Plain",
  "",
  "file body",
  "--my boundary",
  "Content-Disposition: form-data; name=\"euro\"; filename*=UTF-8''%E2%82%AC.txt",
  "",
  "",
  "--my boundary--",
  "epilogue ignored",
].join("\r\n");
const res = new Response(body, { headers: { "content-type": "multipart/form-data; charset=utf-8; boundary=\"my boundary\"" } });
const fd = await res.formData();
const file = fd.get("file"), euro = fd.get("euro");
return {
  field: fd.get("field"),
  file: [file.name, file.type, await file.text()],
  euro: [euro.name, euro.size],
  keys: [...fd.keys()],
};`,
		map[string]any{
			"field": "value with\r\nCRLF inside", "file": []any{"a \"b\".txt", "text/plain", "file body"},
			"euro": []any{"\u20ac.txt", 0}, "keys": []string{"field", "file", "euro"},
		})
}

func TestFormDataParseErrors(t *testing.T) {
	expectStreams(t, `
const parse = async (body, ct) => {
  try { await new Response(body, { headers: { "content-type": ct } }).formData(); return "ok"; }
  catch (e) { return [e.name, /closing boundary/.test(e.message) ? "closing" : e.message.length > 20]; }
};
const mp = "multipart/form-data; boundary=XX";
return {
  noBoundaryParam: await parse("--XX--\r\n", "multipart/form-data"),
  boundaryAbsent: await parse("nothing here", mp),
  unterminated: await parse("--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue without end", mp),
  noClose: await parse("--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XX", mp),
  headersUnterminated: await parse("--XX\r\nContent-Disposition: form-data; name=\"a\"", mp),
  noDisposition: await parse("--XX\r\nContent-Type: text/plain\r\n\r\nv\r\n--XX--", mp),
  noName: await parse("--XX\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XX--", mp),
  notFormData: await parse("--XX\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XX--", mp),
  badHeader: await parse("--XX\r\nnot a header\r\n\r\nv\r\n--XX--", mp),
  noCRLF: await parse("--XXjunk", mp),
  empty: await parse("", mp),
  closeOnly: await parse("--XX--", mp),
  json: await parse("{}", "application/json"),
  none: await (async () => { try { await new Response(new Uint8Array([1])).formData(); return "ok"; } catch (e) { return e.name; } })(),
};`,
		map[string]any{
			"noBoundaryParam": []any{"TypeError", true}, "boundaryAbsent": []any{"TypeError", true},
			"unterminated": []any{"TypeError", "closing"}, "noClose": []any{"TypeError", "closing"},
			"headersUnterminated": []any{"TypeError", true}, "noDisposition": []any{"TypeError", true},
			"noName": []any{"TypeError", true}, "notFormData": []any{"TypeError", true}, "badHeader": []any{"TypeError", true},
			"noCRLF": []any{"TypeError", true}, "empty": []any{"TypeError", true}, "closeOnly": "ok",
			"json": []any{"TypeError", true}, "none": "TypeError",
		})
}

func TestFormDataURLEncoded(t *testing.T) {
	expectStreams(t, `
const fd = await new Response("a=1&b=2&a=x+y&c=%E2%82%AC&d", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData();
const fd2 = await new Request("http://x/", { method: "POST", body: new URLSearchParams({ k: "v w" }) }).formData();
return { entries: [...fd], fd2: [...fd2] };`,
		map[string]any{
			"entries": [][]string{{"a", "1"}, {"b", "2"}, {"a", "x y"}, {"c", "\u20ac"}, {"d", ""}},
			"fd2":     [][]string{{"k", "v w"}},
		})
}

func TestBlobBodies(t *testing.T) {
	expectStreams(t, `
const b = new Blob(["<p>hi</p>"], { type: "text/html" });
const r = new Response(b);
const res = { ct: r.headers.get("content-type"), text: await r.text() };
const r2 = new Response(new Uint8Array([1, 2, 3]), { headers: { "content-type": "x/y" } });
const blob = await r2.blob();
res.blob = [blob.type, blob.size, Array.from(await blob.bytes())];
const req = new Request("http://x/", { method: "POST", body: new File(["f"], "f.txt") });
res.reqText = [req.headers.get("content-type"), await req.text()];
return res;`,
		map[string]any{"ct": "text/html", "text": "<p>hi</p>", "blob": []any{"x/y", 3, []int{1, 2, 3}}, "reqText": []any{nil, "f"}})
}
