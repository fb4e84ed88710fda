package webapi_test

import (
	"testing"

	"github.com/warrenhq/warren/webapi"
)

// Cases from the WHATWG URL Standard's examples and web-platform-tests
// urltestdata.json: input, base ("" for none), expected href ("" = failure).
var urlParseCases = []struct{ in, base, want string }{
	{"https://example.com/", "", "https://example.com/"},
	{"HTTPS://EXAMPLE.COM:443/a", "", "https://example.com/a"},
	{"http://example.com:80/", "", "http://example.com/"},
	{"http://example.com:8080/", "", "http://example.com:8080/"},
	{"ws://example.com:80/", "", "ws://example.com/"},
	{"wss://example.com:443/", "", "wss://example.com/"},
	{"ftp://example.com:21/", "", "ftp://example.com/"},
	{"https://example.com:65536/", "", ""},
	{"https:example.org", "", "https://example.org/"},
	{"https://////example.com///", "", "https://example.com///"},
	{"https://example.com/././foo", "", "https://example.com/foo"},
	{"hello:world", "https://example.com/", "hello:world"},
	{"https:example.org", "https://example.com/", "https://example.com/example.org"},
	{`\example\..\demo/.\`, "https://example.com/", "https://example.com/demo/"},
	{"example", "https://example.com/demo", "https://example.com/example"},
	{"file:///C|/demo", "", "file:///C:/demo"},
	{"..", "file:///C:/demo", "file:///C:/"},
	{"file://loc%61lhost/", "", "file:///"},
	{"https://user:password@example.org/", "", "https://user:password@example.org/"},
	{"https://example.org/foo bar", "", "https://example.org/foo%20bar"},
	{"https://EXAMPLE.com/../x", "", "https://example.com/x"},
	{"https://ex ample.org/", "", ""},
	{"example", "", ""},
	{"https://example.com:demo", "", ""},
	{"http://[www.example.com]/", "", ""},
	{"https://example.org//", "", "https://example.org//"},
	{"https://example.com/[]?[]#[]", "", "https://example.com/[]?[]#[]"},
	{"https://example/%?%#%", "", "https://example/%?%#%"},
	{"https://example/%25?%25#%25", "", "https://example/%25?%25#%25"},
	{"http://0x7f.1/", "", "http://127.0.0.1/"},
	{"http://0300.0250.0.1/", "", "http://192.168.0.1/"},
	{"http://4294967295/", "", "http://255.255.255.255/"},
	{"http://4294967296/", "", ""},
	{"http://1.2.3.4.5/", "", ""},
	{"http://1.2.3.09/", "", ""},
	{"http://foo.09/", "", ""},
	{"http://foo.0x4/", "", ""},
	{"http://192.168.1.1./", "", "http://192.168.1.1/"},
	{"http://[1:0::]/", "", "http://[1::]/"},
	{"http://[0:0:0:0:0:0:0:1]/", "", "http://[::1]/"},
	{"http://[2001:DB8:0:0:1:0:0:1]/", "", "http://[2001:db8::1:0:0:1]/"},
	{"http://[::ffff:192.168.0.1]/", "", "http://[::ffff:c0a8:1]/"},
	{"http://[1:2:3:4:5:6:7:8:9]/", "", ""},
	{"http://[::1::]/", "", ""},
	{"http://Bücher.example/", "", "http://xn--bcher-kva.example/"},
	{"http://%F0%9F%92%A9.example/", "", "http://xn--ls8h.example/"},
	{"http://xn--/", "", ""},
	{"mailto:Someone@Example.com", "", "mailto:Someone@Example.com"},
	{"data:text/plain,hello world", "", "data:text/plain,hello world"},
	{"javascript:alert(1)", "", "javascript:alert(1)"},
	{"non-special://HOST:123/path", "", "non-special://HOST:123/path"},
	{"sc://ñ.test/", "", "sc://%C3%B1.test/"},
	{"  \t https://exa\nmple.com/a\tb \x01", "", "https://example.com/ab"},
	{"https://example.com/?a b'c", "", "https://example.com/?a%20b%27c"},
	{"sc://example.com/?a b'c", "", "sc://example.com/?a%20b'c"},
	{"https://example.com/#a b`c", "", "https://example.com/#a%20b%60c"},
	{"https://a@b@example.com/", "", "https://a%40b@example.com/"},
	{"https://us er:pa:ss@example.com/", "", "https://us%20er:pa%3Ass@example.com/"},
	{"?x", "https://example.com/a/b?y#z", "https://example.com/a/b?x"},
	{"#frag", "https://example.com/a/b?y#z", "https://example.com/a/b?y#frag"},
	{"//other.org/p", "https://example.com/a", "https://other.org/p"},
	{"../../../../c", "http://example.com/a/b/", "http://example.com/c"},
	{"%2e%2E/c", "http://example.com/a/b/", "http://example.com/a/c"},
	{"#x", "mailto:someone@example.com", "mailto:someone@example.com#x"},
	{"x", "mailto:someone@example.com", ""},
	{"web+demo:/.//not-a-host/", "", "web+demo:/.//not-a-host/"},
	{"web+demo:/path/..//not-a-host/", "", "web+demo:/.//not-a-host/"},
	{"http://example.com/\u00e9", "", "http://example.com/%C3%A9"},
	{"file:/C:/x", "", "file:///C:/x"},
	{"file://host/share/x", "", "file://host/share/x"},
	{"blob:https://example.com/uuid", "", "blob:https://example.com/uuid"},
	{"http://:80/", "", ""},
	{"http://user@/", "", ""},
	{"http://a.b.c.EXAMPLE.com./", "", "http://a.b.c.example.com./"},
}

func TestParseURLTable(t *testing.T) {
	for _, c := range urlParseCases {
		var base *webapi.URLRecord
		if c.base != "" {
			base = webapi.ParseURL(c.base, nil)
			if base == nil {
				t.Fatalf("base %q did not parse", c.base)
			}
		}
		u := webapi.ParseURL(c.in, base)
		got := ""
		if u != nil {
			got = u.Href()
		}
		if got != c.want {
			t.Errorf("webapi.ParseURL(%q, %q) = %q, want %q", c.in, c.base, got, c.want)
		}
	}
}

func TestURLOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com:8443/x":    "https://example.com:8443",
		"http://example.com:80/":        "http://example.com",
		"blob:https://example.com/uuid": "https://example.com",
		"file:///etc/passwd":            "null",
		"mailto:a@b.c":                  "null",
		"ws://example.com/":             "ws://example.com",
		"blob:data:text/plain,hi":       "null",
	} {
		if got := webapi.ParseURL(in, nil).Origin(); got != want {
			t.Errorf("origin of %q = %q, want %q", in, got, want)
		}
	}
}

func TestURLSetters(t *testing.T) {
	cases := []struct{ href, prop, v, want string }{
		{"https://example.com/", "protocol", "http", "http://example.com/"},
		{"https://example.com/", "protocol", "mailto", "https://example.com/"},
		{"https://example.com:80/", "protocol", "http", "http://example.com/"},
		{"mailto:x", "protocol", "https", "mailto:x"},
		{"https://example.com/", "username", "us er", "https://us%20er@example.com/"},
		{"https://example.com/", "password", "p@ss", "https://:p%40ss@example.com/"},
		{"file:///x", "username", "u", "file:///x"},
		{"https://example.com/p", "host", "other.org:8080", "https://other.org:8080/p"},
		{"https://example.com/p", "host", "other.org:", "https://other.org/p"},
		{"https://example.com:99/p", "hostname", "other.org:8080", "https://example.com:99/p"},
		{"https://example.com:99/p", "hostname", "Other.ORG", "https://other.org:99/p"},
		{"https://example.com/", "host", "", "https://example.com/"},
		{"https://example.com/", "port", "8080", "https://example.com:8080/"},
		{"https://example.com:8080/", "port", "443", "https://example.com/"},
		{"https://example.com:8080/", "port", "", "https://example.com/"},
		{"https://example.com/", "port", "99999", "https://example.com/"},
		{"https://example.com/", "port", "12ab", "https://example.com:12/"},
		{"https://example.com/", "port", "ab", "https://example.com/"},
		{"https://example.com/a/b", "pathname", "/x/../y z", "https://example.com/y%20z"},
		{"https://example.com/a", "pathname", "c?d#e", "https://example.com/c%3Fd%23e"},
		{"mailto:x", "pathname", "/y", "mailto:x"},
		{"https://example.com/?a", "search", "?b c", "https://example.com/?b%20c"},
		{"https://example.com/?a#h", "search", "", "https://example.com/#h"},
		{"https://example.com/#a", "hash", "#b c", "https://example.com/#b%20c"},
		{"https://example.com/#a", "hash", "", "https://example.com/"},
		{"https://example.com/", "href", "not a url", ""},
		{"file:///x", "host", "Server", "file://server/x"},
		{"file://server/x", "host", "localhost", "file:///x"},
	}
	for _, c := range cases {
		u, ok := webapi.ParseURL(c.href, nil).SetComponent(c.prop, c.v)
		got := ""
		if ok {
			got = u.Href()
		}
		if got != c.want {
			t.Errorf("%q .%s = %q: got %q, want %q", c.href, c.prop, c.v, got, c.want)
		}
	}
}

func TestURLGetters(t *testing.T) {
	expectJS(t, `
const u = new URL("HTTPS://User:Pa%20ss@EXAMPLE.com:8443/a/./b/../c d?x=1&y=é#Frag ment");
return [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash,
  String(u), u.toJSON(), JSON.stringify({ u }), Object.prototype.toString.call(u)];
`, []any{
		"https://User:Pa%20ss@example.com:8443/a/c%20d?x=1&y=%C3%A9#Frag%20ment", "https://example.com:8443", "https:", "User", "Pa%20ss",
		"example.com:8443", "example.com", "8443", "/a/c%20d", "?x=1&y=%C3%A9", "#Frag%20ment",
		"https://User:Pa%20ss@example.com:8443/a/c%20d?x=1&y=%C3%A9#Frag%20ment",
		"https://User:Pa%20ss@example.com:8443/a/c%20d?x=1&y=%C3%A9#Frag%20ment",
		`{"u":"https://User:Pa%20ss@example.com:8443/a/c%20d?x=1&y=%C3%A9#Frag%20ment"}`, "[object URL]",
	})
}

func TestURLParsingRules(t *testing.T) {
	expectJS(t, `
return [
  new URL("http://0x7f.1/").href,
  new URL("http://example.com:80/").href,
  new URL("https://bücher.example/").hostname,
  new URL("http://[2001:db8:0:0:0:0:0:1]:8080/").host,
  new URL("http:\\\\example.com\\a\\b").href,
  new URL("  \thttps://exa\nmple.com/ \u0000").href,
  new URL("/x/../y?q#h", "https://example.com/a/b").href,
  new URL("mailto:Someone@Example.com").pathname,
  new URL("data:text/plain,hi there").pathname,
  new URL("mailto:a@b").host,
  new URL("file:///C:/x/../y").href,
  new URL("non-special://Host/p").host,
  new URL("https://example.com/?a b'").search,
  new URL("https://example.com").pathname,
  new URL("https://example.com/", undefined).href,
];
`, []string{
		"http://127.0.0.1/", "http://example.com/", "xn--bcher-kva.example", "[2001:db8::1]:8080",
		"http://example.com/a/b", "https://example.com/", "https://example.com/y?q#h",
		"Someone@Example.com", "text/plain,hi there", "", "file:///C:/y", "Host", "?a%20b%27", "/", "https://example.com/",
	})
}

func TestURLInvalid(t *testing.T) {
	expectJS(t, `
const out = [];
for (const [u, b] of [["nope"], ["https://exa mple.com"], ["http://[::1"], ["https://example.com:99999"], ["x", "also-bad"], ["http://"], ["//x"]]) {
  try { new URL(u, b); out.push("no error: " + u); }
  catch (e) { out.push(e instanceof TypeError && e.message.startsWith("Invalid URL: ")); }
}
let noArgs = null;
try { new URL(); } catch (e) { noArgs = e.name; }
return [out, noArgs];
`, []any{[]bool{true, true, true, true, true, true, true}, "TypeError"})
}

func TestURLCanParseAndParse(t *testing.T) {
	expectJS(t, `
return [URL.canParse("https://a.b"), URL.canParse("nope"), URL.canParse("/p", "https://a.b"), URL.canParse("/p", "nope"),
  URL.parse("nope"), URL.parse("/p?q", "https://a.b/x").href, URL.parse("https://a.b") instanceof URL];
`, []any{true, false, true, false, nil, "https://a.b/p?q", true})
}

func TestURLSettersJS(t *testing.T) {
	expectJS(t, `
const u = new URL("https://example.com/path?q=1#h");
const out = [];
u.protocol = "http:"; out.push(u.href);
u.protocol = "mailto"; out.push(u.protocol);       // special -> non-special: ignored
u.username = "me"; u.password = "p:w"; out.push(u.href);
u.host = "Other.ORG:8080"; out.push(u.host);
u.hostname = "third.net"; out.push(u.host);
u.port = "80"; out.push(u.port, u.host);          // default port is dropped
u.port = "x1"; out.push(u.port);                  // invalid: unchanged
u.port = "9000"; out.push(u.port);
u.port = ""; out.push(u.port);
u.pathname = "a/../b c"; out.push(u.pathname);
u.search = "a=1&b=2"; out.push(u.search);
u.search = ""; out.push(u.search, u.href.includes("?"));
u.hash = "top"; out.push(u.hash);
u.hash = ""; out.push(u.href);
u.href = "https://fresh.example/x"; out.push(u.host, u.pathname);
let err = null;
try { u.href = "not a url"; } catch (e) { err = e.name; }
out.push(err, u.href);
const m = new URL("mailto:x@y");
m.host = "h"; m.pathname = "p"; m.username = "u";
out.push(m.href);
return out;
`, []any{
		"http://example.com/path?q=1#h", "http:", "http://me:p%3Aw@example.com/path?q=1#h", "other.org:8080", "third.net:8080",
		"", "third.net", "", "9000", "", "/b%20c", "?a=1&b=2", "", false, "#top", "http://me:p%3Aw@third.net/b%20c",
		"fresh.example", "/x", "TypeError", "https://fresh.example/x", "mailto:x@y",
	})
}

func TestURLSearchParamsLinked(t *testing.T) {
	expectJS(t, `
const u = new URL("https://example.com/?a=1&b=2#frag");
const sp = u.searchParams;
const out = [sp === u.searchParams, sp.get("a")];
sp.append("c", "x y");
out.push(u.href);
sp.delete("a");
out.push(u.search);
u.search = "?z=9";
out.push(sp.get("z"), sp.has("b"), sp.size);
u.href = "https://example.com/?k=v";
out.push([...sp].join(";"));
sp.delete("k");
out.push(u.href);                                 // empty list: no "?" at all
u.hash = "h";
sp.set("n", "1");
out.push(u.href);
return out;
`, []any{true, "1", "https://example.com/?a=1&b=2&c=x+y#frag", "?b=2&c=x+y", "9", false, 1, "k,v", "https://example.com/", "https://example.com/?n=1#h"})
}

func TestURLSearchParamsConstruct(t *testing.T) {
	expectJS(t, `
const s = (p) => p.toString();
let bad = null;
try { new URLSearchParams([["a", "b", "c"]]); } catch (e) { bad = e.name; }
let bad2 = null;
try { new URLSearchParams([1]); } catch (e) { bad2 = e.name; }
return [
  s(new URLSearchParams("?a=1&b=2&&c")),
  s(new URLSearchParams("a=%20%2B+b%zz&%E2%82%AC=%FF")),
  new URLSearchParams("x=a+b%20c").get("x"),
  s(new URLSearchParams({ a: "1", "b c": "é" })),
  s(new URLSearchParams([["a", 1], ["a", 2]])),
  s(new URLSearchParams(new Map([["m", "v"]]))),
  s(new URLSearchParams(new URLSearchParams("q=1&q=2"))),
  s(new URLSearchParams()),
  new URLSearchParams("%FF=x").keys().next().value,
  bad, bad2,
];
`, []any{"a=1&b=2&c=", "a=+%2B+b%25zz&%E2%82%AC=%EF%BF%BD", "a b c", "a=1&b+c=%C3%A9", "a=1&a=2", "m=v", "q=1&q=2", "", "\uFFFD", "TypeError", "TypeError"})
}

func TestURLSearchParamsMethods(t *testing.T) {
	expectJS(t, `
const p = new URLSearchParams("a=1&b=2&a=3&c=4");
const out = [p.get("a"), p.getAll("a"), p.get("zz"), p.has("b"), p.has("a", "3"), p.has("a", "9"), p.size];
p.delete("a", "1");
out.push(p.toString());
p.set("a", "x");
out.push(p.toString());
p.set("new", "y");
out.push(p.toString());
p.delete("b");
out.push(p.toString());
const q = new URLSearchParams("z=1&a=2&é=3&a=1&B=4");
q.sort();
out.push(q.toString());
const fe = [];
q.forEach(function (v, k, obj) { fe.push(k + ":" + v + ":" + (obj === q) + ":" + (this === out)); }, out);
out.push(fe);
out.push([...q.keys()], [...q.values()], [...q.entries()].length, [...q].length);
out.push(new URLSearchParams({ "~!*'()": " &=+" }).toString());
return out;
`, []any{"1", []string{"1", "3"}, nil, true, true, false, 4,
		"b=2&a=3&c=4", "b=2&a=x&c=4", "b=2&a=x&c=4&new=y", "a=x&c=4&new=y",
		"B=4&a=2&a=1&z=1&%C3%A9=3",
		[]string{"B:4:true:true", "a:2:true:true", "a:1:true:true", "z:1:true:true", "é:3:true:true"},
		[]string{"B", "a", "a", "z", "é"}, []string{"4", "2", "1", "1", "3"}, 5, 5,
		"%7E%21*%27%28%29=+%26%3D%2B"})
}

func TestURLSearchParamsLiveIteration(t *testing.T) {
	expectJS(t, `
const p = new URLSearchParams("a=1&b=2");
const seen = [];
for (const [k] of p) { seen.push(k); if (k === "a") p.append("c", "3"); }
return seen;
`, []string{"a", "b", "c"})
}

func TestURLSearchParamsInRequestBody(t *testing.T) {
	expectJS(t, `
const r = new Request("https://example.com/", { method: "POST", body: new URLSearchParams({ q: "a b" }) });
return [r.headers.get("content-type"), await r.text()];
`, []any{"application/x-www-form-urlencoded;charset=UTF-8", "q=a+b"})
}
