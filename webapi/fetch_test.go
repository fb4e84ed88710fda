package webapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// expectThrow runs body (statements, may await) and checks that it throws
// (or rejects with) an error whose name is name and whose message contains
// every one of msgs.
func expectThrow(t *testing.T, body, name string, msgs ...string) {
	t.Helper()
	out := evalJS(t, `try { await (async () => {`+body+`
})(); } catch (e) { return [String(e && e.name), String(e && e.message), e instanceof Error]; }
return "no error";`)
	var got []any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 3 {
		t.Fatalf("expected %s to be thrown, got %s\n--- code ---\n%s", name, out, body)
	}
	if got[0] != name || got[2] != true {
		t.Fatalf("threw %v: %v (instanceof Error: %v), want a %s\n--- code ---\n%s", got[0], got[1], got[2], name, body)
	}
	for _, m := range msgs {
		if !strings.Contains(got[1].(string), m) {
			t.Fatalf("message %q does not contain %q\n--- code ---\n%s", got[1], m, body)
		}
	}
}

// ---- Headers ----

func TestHeadersCaseInsensitive(t *testing.T) {
	expectJS(t, `
const h = new Headers();
h.set("Content-Type", "text/html");
return [h.get("content-type"), h.get("CONTENT-TYPE"), h.has("Content-type"), [...h.keys()]];`,
		[]any{"text/html", "text/html", true, []string{"content-type"}})
}

func TestHeadersAppendSetDelete(t *testing.T) {
	expectJS(t, `
const h = new Headers({ "X-A": "1" });
h.append("x-a", "2");
const combined = h.get("X-A");
h.set("X-a", "3");
const afterSet = h.get("x-a");
h.append("X-B", "b");
h.delete("X-A");
return [combined, afterSet, h.has("x-a"), h.get("x-a"), h.get("x-b"), h.get("missing")];`,
		[]any{"1, 2", "3", false, nil, "b", nil})
}

func TestHeadersValueWhitespaceTrimmed(t *testing.T) {
	expectJS(t, `const h = new Headers([["a", " \t v w \t "]]); h.set("b", "\n x \r"); return [h.get("a"), h.get("b")];`,
		[]string{"v w", "x"})
}

func TestHeadersSetCookie(t *testing.T) {
	expectJS(t, `
const h = new Headers();
h.append("Set-Cookie", "a=1; Path=/");
h.append("set-cookie", "b=2");
h.append("X-Z", "z");
return [h.getSetCookie(), h.get("set-cookie"), [...h], new Headers().getSetCookie()];`,
		[]any{
			[]string{"a=1; Path=/", "b=2"},
			"a=1; Path=/, b=2",
			[][]string{{"set-cookie", "a=1; Path=/"}, {"set-cookie", "b=2"}, {"x-z", "z"}},
			[]string{},
		})
}

func TestHeadersIterationSortedAndCombined(t *testing.T) {
	expectJS(t, `
const h = new Headers([["Zeta", "z"], ["alpha", "1"], ["Beta", "b"], ["ALPHA", "2"]]);
const seen = [];
h.forEach(function (value, name, obj) { seen.push([name, value, obj === h]); });
return [[...h], [...h.keys()], [...h.values()], [...h.entries()].length, seen];`,
		[]any{
			[][]string{{"alpha", "1, 2"}, {"beta", "b"}, {"zeta", "z"}},
			[]string{"alpha", "beta", "zeta"},
			[]string{"1, 2", "b", "z"},
			3,
			[][]any{{"alpha", "1, 2", true}, {"beta", "b", true}, {"zeta", "z", true}},
		})
}

func TestHeadersInit(t *testing.T) {
	expectJS(t, `
const a = new Headers({ A: "1" });
const b = new Headers(a);
b.set("a", "2");
const c = new Headers(new Map([["m", "x"]]));
return [a.get("a"), b.get("a"), c.get("m"), Object.prototype.toString.call(a)];`,
		[]any{"1", "2", "x", "[object Headers]"})
}

func TestHeadersInvalidThrowsTypeError(t *testing.T) {
	cases := map[string]string{
		"space in name":       `new Headers({ "bad name": "x" })`,
		"colon in name":       `new Headers().append("a:b", "x")`,
		"empty name":          `new Headers().set("", "x")`,
		"non-ASCII name":      `new Headers().set("héader", "x")`,
		"newline in value":    `new Headers().append("x", "a\nb")`,
		"CR in value":         `new Headers().set("x", "a\rb")`,
		"NUL in value":        `new Headers({ x: "a\0b" })`,
		"get with bad name":   `new Headers().get("bad name")`,
		"has with bad name":   `new Headers().has("a b")`,
		"delete with bad":     `new Headers().delete("(x)")`,
		"pair of three":       `new Headers([["a", "b", "c"]])`,
		"pair of one":         `new Headers([["a"]])`,
		"primitive init":      `new Headers(5)`,
		"request bad header":  `new Request("https://example.com/", { headers: { "a b": "c" } })`,
		"response bad header": `new Response("x", { headers: [["ok", "bad\nvalue"]] })`,
	}
	for name, code := range cases {
		t.Run(name, func(t *testing.T) { expectThrow(t, code, "TypeError") })
	}
}

func TestHeadersImmutableOnResponseError(t *testing.T) {
	for _, op := range []string{`h.set("a", "b")`, `h.append("a", "b")`, `h.delete("content-type")`} {
		expectThrow(t, `const h = Response.error().headers; `+op, "TypeError")
	}
	// Reading is still allowed.
	expectJS(t, `const h = Response.error().headers; return [h.get("a"), h.has("a"), [...h]];`, []any{nil, false, []any{}})
}

// ---- Request ----

func TestRequestMethodNormalisation(t *testing.T) {
	expectJS(t, `
const m = (x) => new Request("https://example.com/", { method: x }).method;
return [m("get"), m("post"), m("Put"), m("delete"), m("head"), m("options"), m("Custom"), m("PROPFIND"), new Request("https://example.com/").method];`,
		[]string{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "Custom", "PROPFIND", "GET"})
	expectThrow(t, `new Request("https://example.com/", { method: "bad method" })`, "TypeError")
	expectThrow(t, `new Request("https://example.com/", { method: "" })`, "TypeError")
}

func TestRequestGetHeadWithBodyThrows(t *testing.T) {
	expectThrow(t, `new Request("https://example.com/", { body: "x" })`, "TypeError")
	expectThrow(t, `new Request("https://example.com/", { method: "get", body: "x" })`, "TypeError")
	expectThrow(t, `new Request("https://example.com/", { method: "HEAD", body: new Uint8Array(1) })`, "TypeError")
	// A null body is no body.
	expectJS(t, `const r = new Request("https://example.com/", { body: null }); return [r.body, await r.text()];`, []any{nil, ""})
}

func TestRequestURLResolution(t *testing.T) {
	expectJS(t, `return [
  new Request("HTTPS://Example.COM:443/a/./b/../c?q=1").url,
  new Request("http://example.com").url,
  new Request(new URL("https://example.com/x y")).url,
  new Request({ toString() { return "https://example.com/s"; } }).url,
];`, []string{"https://example.com/a/c?q=1", "http://example.com/", "https://example.com/x%20y", "https://example.com/s"})
	// There is no base URL in a Worker: a relative URL is a TypeError.
	expectThrow(t, `new Request("/relative")`, "TypeError")
	expectThrow(t, `new Request("not a url")`, "TypeError")
}

func TestRequestHeadersFromInit(t *testing.T) {
	expectJS(t, `
const a = new Request("https://example.com/", { headers: { "X-A": "1", "x-b": "2" } });
const b = new Request("https://example.com/", { headers: [["x-c", "3"], ["x-c", "4"]] });
const c = new Request("https://example.com/", { headers: new Headers({ "x-d": "5" }) });
const post = new Request("https://example.com/", { method: "POST", body: "hi" });
const typed = new Request("https://example.com/", { method: "POST", body: "hi", headers: { "content-type": "application/x-custom" } });
return [a.headers.get("x-a"), a.headers.get("x-b"), b.headers.get("x-c"), c.headers.get("x-d"),
  post.headers.get("content-type"), typed.headers.get("content-type"), a.headers instanceof Headers];`,
		[]any{"1", "2", "3, 4", "5", "text/plain;charset=UTF-8", "application/x-custom", true})
}

func TestRequestDefaults(t *testing.T) {
	expectJS(t, `const r = new Request("https://example.com/");
return [r.method, r.redirect, r.bodyUsed, r.body, [...r.headers], r.signal instanceof AbortSignal, r.signal.aborted, Object.prototype.toString.call(r)];`,
		[]any{"GET", "follow", false, nil, []any{}, true, false, "[object Request]"})
}

func TestRequestBodyUsedTwiceThrows(t *testing.T) {
	expectJS(t, `
const r = new Request("https://example.com/", { method: "POST", body: "payload" });
const first = await r.text();
let second;
try { await r.text(); second = "no error"; } catch (e) { second = e.name; }
let third;
try { await r.arrayBuffer(); third = "no error"; } catch (e) { third = e.name; }
return [first, r.bodyUsed, second, third];`, []any{"payload", true, "TypeError", "TypeError"})
	expectThrow(t, `const r = new Request("https://example.com/", { method: "POST", body: "x" }); await r.json().catch(() => {}); r.clone();`, "TypeError")
}

func TestRequestClone(t *testing.T) {
	expectJS(t, `
const r = new Request("https://example.com/p?q", { method: "PUT", body: "body!", headers: { "x-a": "1" }, redirect: "manual" });
const c = r.clone();
c.headers.set("x-a", "changed");
return [c.method, c.url, c.redirect, r.headers.get("x-a"), c.headers.get("x-a"), await r.text(), await c.text(), c instanceof Request];`,
		[]any{"PUT", "https://example.com/p?q", "manual", "1", "changed", "body!", "body!", true})
}

func TestRequestFromRequest(t *testing.T) {
	expectJS(t, `
const a = new Request("https://example.com/a", { method: "POST", body: "data", headers: { "x-a": "1" } });
const b = new Request(a);
const c = new Request(b.clone(), { method: "PATCH", headers: { "x-c": "3" } });
return [b.url, b.method, b.headers.get("x-a"), a.bodyUsed, await b.text(),
  c.method, c.headers.get("x-a"), c.headers.get("x-c"), await c.text()];`,
		[]any{"https://example.com/a", "POST", "1", true, "data", "PATCH", nil, "3", "data"})
	// The new Request has its own Headers.
	expectJS(t, `const a = new Request("https://example.com/", { headers: { x: "1" } }); const b = new Request(a); b.headers.set("x", "2"); return a.headers.get("x");`, "1")
	// A Request whose body was read cannot be the input of another.
	expectThrow(t, `const a = new Request("https://example.com/", { method: "POST", body: "d" }); await a.text(); new Request(a);`, "TypeError")
}

// ---- Response ----

func TestResponseStatusRange(t *testing.T) {
	for _, s := range []string{"199", "600", "0", "1000", "-1", "200.5", "100"} {
		expectThrow(t, `new Response(null, { status: `+s+` })`, "RangeError")
	}
	expectJS(t, `return [new Response(null, { status: 200 }).status, new Response(null, { status: 599 }).status, new Response("x", { status: 404 }).status, new Response().status];`,
		[]int{200, 599, 404, 200})
}

func TestResponseNullBodyStatuses(t *testing.T) {
	for _, s := range []string{"204", "205", "304"} {
		expectThrow(t, `new Response("body", { status: `+s+` })`, "TypeError")
		expectThrow(t, `new Response(new Uint8Array(0), { status: `+s+` })`, "TypeError")
		expectJS(t, `const r = new Response(null, { status: `+s+` }); return [r.status, r.body, await r.text()];`, []any{json.Number(s), nil, ""})
	}
}

func TestResponseOkAndStatusText(t *testing.T) {
	expectJS(t, `return [
  new Response().ok, new Response(null, { status: 299 }).ok, new Response(null, { status: 300 }).ok,
  new Response(null, { status: 404 }).ok, new Response(null, { status: 404, statusText: "Not Found" }).statusText,
  new Response().statusText, new Response().type, new Response().url, new Response().redirected];`,
		[]any{true, true, false, false, "Not Found", "", "default", "", false})
}

func TestResponseJSON(t *testing.T) {
	expectJS(t, `
const r = Response.json({ a: [1, "two"], b: null }, { status: 201, headers: { "x-h": "v" } });
const custom = Response.json([1], { headers: { "Content-Type": "application/vnd.api+json" } });
return [r.status, r.headers.get("content-type"), r.headers.get("x-h"), await r.text(),
  custom.headers.get("content-type"), await custom.json(), await Response.json("s").json()];`,
		[]any{201, "application/json", "v", `{"a":[1,"two"],"b":null}`, "application/vnd.api+json", []int{1}, "s"})
	expectThrow(t, `Response.json(undefined)`, "TypeError")
	expectThrow(t, `Response.json(1n)`, "TypeError")
	expectThrow(t, `Response.json({}, { status: 700 })`, "RangeError")
}

func TestResponseRedirect(t *testing.T) {
	expectJS(t, `
const d = Response.redirect("https://example.com/next?x=1");
const out = [d.status, d.headers.get("location"), d.body];
for (const s of [301, 302, 303, 307, 308]) out.push(Response.redirect("https://Example.com/a/../b", s).status);
out.push(Response.redirect("https://Example.com/a/../b", 308).headers.get("Location"));
return out;`, []any{302, "https://example.com/next?x=1", nil, 301, 302, 303, 307, 308, "https://example.com/b"})
	for _, s := range []string{"200", "300", "304", "399", "0"} {
		expectThrow(t, `Response.redirect("https://example.com/", `+s+`)`, "RangeError")
	}
	expectThrow(t, `Response.redirect("/relative")`, "TypeError")
}

func TestResponseError(t *testing.T) {
	expectJS(t, `const r = Response.error(); return [r.type, r.status, r.ok, r.statusText, r.body, [...r.headers]];`,
		[]any{"error", 0, false, "", nil, []any{}})
	expectJS(t, `const r = Response.error().clone(); return [r.type, r.status];`, []any{"error", 0})
}

func TestResponseCloneReadBoth(t *testing.T) {
	expectJS(t, `
const r = new Response("shared body", { status: 201, statusText: "Created", headers: { "x-a": "1" } });
const c = r.clone();
c.headers.set("x-a", "2");
return [await r.text(), await c.text(), c.status, c.statusText, r.headers.get("x-a"), c.headers.get("x-a")];`,
		[]any{"shared body", "shared body", 201, "Created", "1", "2"})
	// A streamed body is teed.
	expectJS(t, `
const r = new Response(new Response("streamed").body);
const c = r.clone();
return [await c.text(), await r.text()];`, []string{"streamed", "streamed"})
	expectThrow(t, `const r = new Response("x"); await r.text(); r.clone();`, "TypeError")
}

func TestResponseBodyIsReadableStream(t *testing.T) {
	expectJS(t, `
const r = new Response("héllo");
const body = r.body;
const reader = body.getReader();
const chunks = [];
for (;;) { const { done, value } = await reader.read(); if (done) break; chunks.push(...value); }
return [body instanceof ReadableStream, r.body === body, new TextDecoder().decode(new Uint8Array(chunks)), chunks.length];`,
		[]any{true, true, "héllo", 6})
}

// TestResponseBodyUsedAfterStreamRead: bodyUsed is true once the body's
// stream is disturbed (Fetch: "bodyUsed getter steps are to return true if
// this's body is non-null and this's body's stream is disturbed"), and the
// body cannot be read again.
func TestResponseBodyUsedAfterStreamRead(t *testing.T) {
	got := evalJS(t, `
const r = new Response("abc");
const reader = r.body.getReader();
await reader.read();
reader.releaseLock();
const used = r.bodyUsed;
let again;
try { again = "no error: " + JSON.stringify(await r.text()); } catch (e) { again = e.name; }
return [used, again];`)
	if got != `[true,"TypeError"]` {
		t.Fatalf("after reading a chunk of response.body, [bodyUsed, text()] = %s; want [true,\"TypeError\"] "+
			"(a read from the body stream disturbs it: bodyUsed is true and text() must reject)", got)
	}
}

func TestResponseBodyReaders(t *testing.T) {
	expectJS(t, `
const mk = () => new Response('{"k":[1,2]}', { headers: { "content-type": "application/json" } });
const bytes = await mk().bytes();
const ab = await mk().arrayBuffer();
const blob = await mk().blob();
return [
  bytes instanceof Uint8Array, bytes.length, bytes[0],
  ab instanceof ArrayBuffer, ab.byteLength,
  await mk().text(), await mk().json(),
  blob instanceof Blob, blob.size, blob.type, await blob.text(),
];`, []any{true, 11, 123, true, 11, `{"k":[1,2]}`, map[string]any{"k": []int{1, 2}}, true, 11, "application/json", `{"k":[1,2]}`})
	expectThrow(t, `await new Response("not json").json()`, "SyntaxError")
}

func TestResponseBodyKinds(t *testing.T) {
	expectJS(t, `
const src = new Uint8Array([1, 2, 3]);
const fromView = new Response(src);
src[0] = 9; // the body is a copy
const fromAB = new Response(new Uint16Array([0x0201]).buffer);
const sub = new Response(new Uint8Array([5, 6, 7, 8]).subarray(1, 3));
const params = new Response(new URLSearchParams({ a: "1 2", b: "&" }));
const empty = () => new Response();
const str = new Response("x");
return [[...await fromView.bytes()], [...await fromAB.bytes()], [...await sub.bytes()],
  params.headers.get("content-type"), await params.text(),
  empty().body, await empty().text(), (await empty().arrayBuffer()).byteLength,
  str.headers.get("content-type"), fromView.headers.get("content-type")];`,
		[]any{[]int{1, 2, 3}, []int{1, 2}, []int{6, 7}, "application/x-www-form-urlencoded;charset=UTF-8", "a=1+2&b=%26",
			nil, "", 0, "text/plain;charset=UTF-8", nil})
}

// TestResponseStringBodyIsUTF8: a string body is a USVString encoded as
// UTF-8 (Fetch, "extract a body"), so a lone surrogate reads back as U+FFFD
// from text() just as from bytes().
func TestResponseStringBodyIsUTF8(t *testing.T) {
	got := evalJS(t, `
const viaText = await new Response("a\ud800b").text();
const viaBytes = new TextDecoder().decode(await new Response("a\ud800b").bytes());
const req = await new Request("https://example.com/", { method: "POST", body: "\udc00" }).text();
return [viaText === "a\ufffdb", viaBytes === "a\ufffdb", req === "\ufffd"];`)
	if got != `[true,true,true]` {
		t.Fatalf("[text() of \"a\\ud800b\" is \"a\\ufffdb\", bytes() decode, Request text()] = %s; want all true "+
			"(a string body is a USVString encoded as UTF-8, see Fetch \"extract a body\", so lone surrogates read back as U+FFFD)", got)
	}
}

func TestResponseBodyUsedTwiceThrows(t *testing.T) {
	expectJS(t, `
const r = new Response("once");
const a = await r.text();
const errs = [];
for (const m of ["text", "json", "arrayBuffer", "bytes", "blob"]) {
  try { await r[m](); errs.push("no error"); } catch (e) { errs.push(e.name); }
}
return [a, r.bodyUsed, errs];`, []any{"once", true, []string{"TypeError", "TypeError", "TypeError", "TypeError", "TypeError"}})
}

// ---- fetch() without network ----

func TestFetchWithoutNetworkRejects(t *testing.T) {
	out := evalJS(t, `
let caught;
const p = fetch("https://example.com/data");
const isPromise = p instanceof Promise;
try { await p; caught = "resolved"; } catch (e) { caught = [e instanceof Error, String(e.name), String(e.message)]; }
return [isPromise, caught];`)
	var got []any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("bad result %s", out)
	}
	if got[0] != true {
		t.Fatalf("fetch() did not return a Promise: %s", out)
	}
	c, ok := got[1].([]any)
	if !ok || c[0] != true {
		t.Fatalf("fetch() without network did not reject with an Error: %s", out)
	}
	msg := c[2].(string)
	if !strings.Contains(msg, "https://example.com/data") || !strings.Contains(msg, "no outbound network access") || !strings.Contains(msg, "globalOutbound") {
		t.Fatalf("the rejection does not name the URL and the policy: %s", msg)
	}
	// Invalid arguments are a TypeError rejection, not a synchronous throw.
	expectJS(t, `const p = fetch("relative/url"); let n; try { await p; } catch (e) { n = e.name; } return [p instanceof Promise, n];`, []any{true, "TypeError"})
}

func TestFetchWithoutNetworkUncaught(t *testing.T) {
	_, err := tryJS(t, `await fetch("https://example.com/");`)
	if err == nil || !strings.Contains(err.Error(), "no outbound network access") {
		t.Fatalf("err = %v, want the egress policy error", err)
	}
}

// ---- the prelude's own access to its objects ----

func TestHeadersSetRemovesLaterPairsInOrder(t *testing.T) {
	expectJS(t, `
const h = new Headers([["a", "1"], ["b", "2"], ["a", "3"], ["c", "4"], ["a", "5"], ["d", "6"]]);
h.set("A", "x");
const copy = new Headers(h);
copy.append("e", "7");
return [[...h], h.get("e"), copy.get("e")];`,
		[]any{[][]string{{"a", "x"}, {"b", "2"}, {"c", "4"}, {"d", "6"}}, nil, "7"})
}

func TestIteratorsAreTheEntriesMethods(t *testing.T) {
	expectJS(t, `return [
  Headers.prototype[Symbol.iterator] === Headers.prototype.entries,
  FormData.prototype[Symbol.iterator] === FormData.prototype.entries,
  ReadableStream.prototype[Symbol.asyncIterator] === ReadableStream.prototype.values,
];`, []bool{true, true, true})
}

func TestRequestNullBodyHasNoContentType(t *testing.T) {
	// The Content-Type of an earlier body must not leak into a request
	// whose body is null.
	expectJS(t, `
new Request("http://x/", { method: "POST", body: "text" });
const r = new Request("http://x/", { method: "POST", body: null });
return [r.headers.get("content-type"), r.body];`, []any{nil, nil})
}

func TestResponseCloneOfError(t *testing.T) {
	expectJS(t, `
const c = Response.error().clone();
let threw = false;
try { c.headers.set("x", "1"); } catch (e) { threw = e instanceof TypeError; }
return [c.status, c.type, threw];`, []any{0, "error", true})
}

func TestRequestCloneKeepsEverything(t *testing.T) {
	expectJS(t, `
const ac = new AbortController();
const r = new Request("http://x/p", { method: "PUT", body: "b", headers: { "x-a": "1" }, redirect: "manual", signal: ac.signal });
const c = r.clone();
c.headers.set("x-a", "2");
return [c.method, c.url, c.redirect, c.signal === ac.signal, r.headers.get("x-a"), c.headers.get("x-a"), await c.text(), await r.text()];`,
		[]any{"PUT", "http://x/p", "manual", true, "1", "2", "b", "b"})
}

func TestBrandChecksAcceptSubclasses(t *testing.T) {
	expectJS(t, `
class Q extends Request {}
class H extends Headers {}
class U extends Uint8Array {}
const q = new Request(new Q("http://x/", { method: "POST", body: "b" }));
const h = new Headers(new H({ "x-a": "1" }));
const u = new U(2); u[0] = 0x68; u[1] = 0x69;
return [q.method, await q.text(), h.get("x-a"), await new Response(u).text()];`,
		[]any{"POST", "b", "1", "hi"})
}
