package webapi_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warrenhq/warren/webapi"
)

var urlSetterProps = []string{"href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash", "query"}

// FuzzURLParse runs the WHATWG parser on arbitrary input against an
// arbitrary base, then an arbitrary setter. Nothing may panic, and every
// URL it produces must serialise to printable ASCII (the standard
// percent-encodes or punycodes everything else) and to a string that parses
// back to the same serialisation: parse(serialize(x)) == serialize(x).
func FuzzURLParse(f *testing.F) {
	for _, tc := range urlParseCases {
		f.Add(tc.in, tc.base, uint8(0), "")
	}
	for _, s := range []struct {
		in, base string
		prop     uint8
		v        string
	}{
		{"https://user:pa ss@例え.テスト:8080/p/a/t/h?query=1&x=%zz#frag ment", "", 4, "xn--nxasmq6b.com"},
		{"http://[::ffff:1.2.3.4]:65535/", "", 6, "65536"},
		{"http://[fe80::1%25eth0]/", "", 0, ""},
		{"http://[1:2:3:4:5:6:7::]/", "", 5, "[::]"},
		{"http://0xffffffff/", "", 5, "0x100000000"},
		{"http://999999999999999999999/", "", 6, "99999999999999999999"},
		{"http://1.1.1.1.1/", "", 5, "1.0x1.01.1"},
		{"http://\u00ad/", "", 5, "\u200b"},
		{"http://a\u3002b\uff0ec/", "", 5, "ＥＸＡＭＰＬＥ.com"},
		{"http://xn--ls8h.xn--/", "", 5, "xn--zca.xn--zca"},
		{"http://%41%2e%42/", "", 5, "%zz"},
		{"https://ex%00ample/", "", 5, "a\x00b"},
		{"https://example.com/\xff\xfe/\xc3(", "", 7, "/\xed\xa0\x80/x"},
		{"https://example.com/%2e%2E/%2e/./../a", "", 7, "../../%2e%2e"},
		{"file:///C:/a/../../..", "", 7, "/C|/x"},
		{"file://host/share/f", "", 5, ""},
		{"file:c:\\foo\\bar", "file:///tmp/", 4, "localhost"},
		{"non-spec:/.//p", "", 7, "//p"},
		{"non-spec:/a/b", "", 5, "h"},
		{"web+demo:/.//not-a-host/", "", 5, ""},
		{"sc://ñ/x?y#z", "", 1, "https"},
		{"javascript:alert(1)", "", 1, "http"},
		{"blob:https://example.com/uuid", "", 0, ""},
		{"data:text/html,<script>alert(1)</script>", "", 9, "#\x01\x7f"},
		{"//x/y", "https://base.example/a?b#c", 8, "?a b\"<>'"},
		{"?q", "sc:opaque", 9, "h"},
		{"#f", "sc:opaque", 2, "u:s@r"},
		{"", "https://example.com/a b?c d#e f", 3, "p@ss:word"},
		{"  \t\nhttps://exa\tmple.com/\r\n  ", "", 0, "  https://x/  "},
		{"http://example.com:0080/", "", 6, "00000000000000000000080"},
		{"http://" + strings.Repeat("a.", 200) + "com/", "", 5, strings.Repeat("ä", 300)},
		{"http://" + strings.Repeat("%", 30) + "/", "", 0, ""},
	} {
		f.Add(s.in, s.base, s.prop, s.v)
	}
	f.Fuzz(func(t *testing.T, input, base string, prop uint8, value string) {
		var b *webapi.URLRecord
		if base != "" {
			b = webapi.ParseURL(base, nil)
		}
		u := webapi.ParseURL(input, b)
		if u == nil {
			return
		}
		checkURL(t, "parse", u)
		name := urlSetterProps[int(prop)%len(urlSetterProps)]
		r, _ := u.SetComponent(name, value)
		if r == nil {
			t.Fatalf("SetComponent(%q, %q) on %q returned nil", name, value, u.Href())
		}
		checkURL(t, "set "+name+" "+value, r)
	})
}

func checkURL(t *testing.T, what string, u *webapi.URLRecord) {
	t.Helper()
	href := u.Href()
	_ = u.Components()
	if !utf8.ValidString(href) {
		t.Fatalf("%s: href is not valid UTF-8: %q", what, href)
	}
	for _, c := range href {
		if c < 0x20 || c >= 0x7f {
			t.Fatalf("%s: href is not printable ASCII: %q", what, href)
		}
	}
	again := webapi.ParseURL(href, nil)
	if again == nil {
		t.Fatalf("%s: href %q does not parse", what, href)
	}
	if got := again.Href(); got != href {
		t.Fatalf("%s: parse(serialize(x)) != serialize(x):\n%q\n%q", what, href, got)
	}
}
