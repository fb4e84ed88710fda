package webapi_test

import (
	"encoding/base64"
	"testing"

	"github.com/warrenhq/warren/webapi"
)

func TestTextEncoderEncode(t *testing.T) {
	expectJS(t, `
const e = new TextEncoder();
return [e.encoding, Array.from(e.encode("aé€😀")), Array.from(e.encode()), Array.from(e.encode("\uD800x")),
  e.encode("hi") instanceof Uint8Array];
`, []any{"utf-8", []int{0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80}, []int{}, []int{0xEF, 0xBF, 0xBD, 0x78}, true})
}

func TestTextEncoderEncodeInto(t *testing.T) {
	expectJS(t, `
const e = new TextEncoder();
const d = new Uint8Array(5);
const r1 = e.encodeInto("a€😀", d);       // 1 + 3 bytes fit, the 4-byte emoji does not
const d2 = new Uint8Array(8);
const r2 = e.encodeInto("😀b", d2);
let err = null;
try { e.encodeInto("x", new ArrayBuffer(4)); } catch (x) { err = x.name; }
return [r1, Array.from(d), r2, Array.from(d2.subarray(0, 5)), err];
`, []any{map[string]int{"read": 2, "written": 4}, []int{0x61, 0xE2, 0x82, 0xAC, 0}, map[string]int{"read": 3, "written": 5}, []int{0xF0, 0x9F, 0x98, 0x80, 0x62}, "TypeError"})
}

func TestTextDecoderBasics(t *testing.T) {
	expectJS(t, `
const d = new TextDecoder();
const bytes = new Uint8Array([0xEF, 0xBB, 0xBF, 0x68, 0xC3, 0xA9]);
return [d.encoding, d.fatal, d.ignoreBOM,
  d.decode(bytes),
  new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes).length,
  d.decode(bytes.buffer),
  d.decode(new DataView(bytes.buffer, 3)),
  d.decode(),
  new TextDecoder(" UTF8 ").encoding,
  new TextDecoder("unicode-1-1-utf-8").encoding];
`, []any{"utf-8", false, false, "hé", 3, "hé", "hé", "", "utf-8", "utf-8"})
}

func TestTextDecoderReplacement(t *testing.T) {
	// WHATWG: each maximal subpart of an invalid sequence is one U+FFFD.
	expectJS(t, `
const d = new TextDecoder();
return [
  d.decode(new Uint8Array([0x61, 0xE2, 0x82, 0x62])),
  d.decode(new Uint8Array([0xE0, 0x80, 0x61])),
  d.decode(new Uint8Array([0xED, 0xA0, 0x80])),
  d.decode(new Uint8Array([0xF0, 0x9F, 0x98])),
  d.decode(new Uint8Array([0xFF])),
];
`, []string{"a\uFFFDb", "\uFFFD\uFFFDa", "\uFFFD\uFFFD\uFFFD", "\uFFFD", "\uFFFD"})
}

func TestTextDecoderFatal(t *testing.T) {
	expectJS(t, `
const d = new TextDecoder("utf-8", { fatal: true });
const out = [d.fatal];
try { d.decode(new Uint8Array([0x61, 0xC3])); out.push("no error"); }
catch (e) { out.push(e instanceof TypeError, e.name); }
out.push(d.decode(new Uint8Array([0xC3, 0xA9])));
return out;
`, []any{true, true, "TypeError", "é"})
}

func TestTextDecoderUnsupportedEncoding(t *testing.T) {
	expectJS(t, `
const out = [];
for (const l of ["latin1", "utf-16le", "windows-1252", "bogus"]) {
  try { new TextDecoder(l); out.push("no error"); } catch (e) { out.push(e instanceof RangeError && e.message.includes(l)); }
}
return out;
`, []bool{true, true, true, true})
}

func TestTextDecoderStreamingDecode(t *testing.T) {
	expectJS(t, `
const d = new TextDecoder();
const all = new TextEncoder().encode("€😀é");
let s = "";
for (const b of all) s += d.decode(new Uint8Array([b]), { stream: true });
s += d.decode();
// A BOM split across chunks is still removed; a truncated tail becomes U+FFFD at the end.
const d2 = new TextDecoder();
const a = d2.decode(new Uint8Array([0xEF, 0xBB]), { stream: true });
const b = d2.decode(new Uint8Array([0xBF, 0x41, 0xE2]), { stream: true });
const c = d2.decode();
// After a complete decode the decoder starts afresh (BOM stripped again).
const e = d2.decode(new Uint8Array([0xEF, 0xBB, 0xBF, 0x42]));
return [s, a, b, c, e];
`, []string{"€😀é", "", "A", "\uFFFD", "B"})
}

func TestTextDecoderStreamingDecodeFatal(t *testing.T) {
	expectJS(t, `
const d = new TextDecoder("utf-8", { fatal: true });
const a = d.decode(new Uint8Array([0xE2, 0x82]), { stream: true });
const b = d.decode(new Uint8Array([0xAC]), { stream: true });
d.decode(new Uint8Array([0xE2]), { stream: true });
let err = null;
try { d.decode(); } catch (e) { err = e.name; }
return [a, b, err];
`, []any{"", "€", "TypeError"})
}

func TestBtoa(t *testing.T) {
	expectJS(t, `
const out = [btoa(""), btoa("f"), btoa("foobar"), btoa("\xff\xfe"), btoa(123)];
for (const s of ["\u0100", "€"]) {
  try { btoa(s); out.push("no error"); }
  catch (e) { out.push([e instanceof DOMException, e.name, e.code]); }
}
return out;
`, []any{"", "Zg==", "Zm9vYmFy", "//4=", "MTIz", []any{true, "InvalidCharacterError", 5}, []any{true, "InvalidCharacterError", 5}})
}

func TestAtob(t *testing.T) {
	expectJS(t, `
const out = [atob("Zm9vYmFy"), atob(" Zm9v\tYm\nFy \f\r"), atob("Zg"), atob("Zg=="), atob("Zh=="), atob(""), atob("//4=").charCodeAt(0)];
for (const s of ["Zg=", "Z", "Zm9v!", "Zg===", "=Zg", "Zm9v\u00a0"]) {
  try { atob(s); out.push("no error: " + s); }
  catch (e) { out.push([e instanceof DOMException, e.name, e.code]); }
}
return out;
`, []any{"foobar", "foobar", "f", "f", "f", "", 255,
		[]any{true, "InvalidCharacterError", 5}, []any{true, "InvalidCharacterError", 5}, []any{true, "InvalidCharacterError", 5},
		[]any{true, "InvalidCharacterError", 5}, []any{true, "InvalidCharacterError", 5}, []any{true, "InvalidCharacterError", 5}})
}

func TestAtobBtoaRoundTripAllBytes(t *testing.T) {
	expectJS(t, `
let s = "";
for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
return atob(btoa(s)) === s && btoa(s) === new Uint8Array([...Array(256).keys()]).toBase64();
`, true)
}

func TestTextDecoderLargeASCIIAndMixed(t *testing.T) {
	expectJS(t, `
const s = "x".repeat(100000) + "é" + "y".repeat(10);
const back = new TextDecoder().decode(new TextEncoder().encode(s));
const ascii = new TextDecoder().decode(new TextEncoder().encode("z".repeat(70000)));
return [back === s, ascii.length];
`, []any{true, 70000})
}

func TestUTF8DecodeOpMaximalSubparts(t *testing.T) {
	cases := []struct {
		in   []byte
		want string
	}{
		{[]byte("abc"), "abc"},
		{[]byte{0xE2, 0x82, 0x41}, "\uFFFDA"},            // truncated 3-byte sequence: one U+FFFD
		{[]byte{0xF0, 0x9F, 0x92}, "\uFFFD"},             // truncated 4-byte sequence at the end
		{[]byte{0xE0, 0x80, 0x41}, "\uFFFD\uFFFDA"},      // E0 80 is never valid: two
		{[]byte{0xED, 0xA0, 0x80}, "\uFFFD\uFFFD\uFFFD"}, // encoded surrogate
		{[]byte{0xC0, 0xAF}, "\uFFFD\uFFFD"},             // overlong
		{[]byte{0xFF, 0x41, 0x80}, "\uFFFDA\uFFFD"},
		{[]byte{0xF4, 0x90, 0x80, 0x80}, "\uFFFD\uFFFD\uFFFD\uFFFD"}, // > U+10FFFF
		{[]byte{0xF0, 0x9F, 0x92, 0xA9}, "\U0001F4A9"},
	}
	decode, ok := webapi.Lookup("utf8.decode")
	if !ok {
		t.Fatal("no utf8.decode operation")
	}
	for _, c := range cases {
		b := base64.StdEncoding.EncodeToString(c.in)
		got, err := decode([]any{b, false})
		if err != nil || got != c.want {
			t.Errorf("utf8.decode(% x) = %q, %v; want %q", c.in, got, err, c.want)
		}
		_, err = decode([]any{b, true})
		if (err == nil) != (c.want == string(c.in)) {
			t.Errorf("utf8.decode(% x, fatal) err = %v", c.in, err)
		}
	}
}

// TextEncoder hands at most MaxEncodingBytes to Go per call (the copies live
// outside the isolate's memory limit); more is a clear error, not a hidden
// allocation. (TextDecoder's input crosses as base64 text made in the
// isolate, so its memory limit comes first.)
func TestEncodingBounded(t *testing.T) {
	expectJS(t, `
const big = "é".repeat((32 << 20) / 2 + 1);
const out = [];
try { new TextEncoder().encode(big); out.push("encoded"); } catch (e) { out.push(/at most 32 MiB/.test(e.message)); }
return out;
`, []any{true})
}
