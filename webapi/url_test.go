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

