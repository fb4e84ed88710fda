package clone_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warrenhq/warren/clone"
)

// treeBytes counts the payload bytes of v as a tree (shared values counted
// each time they appear): strings, object keys, byte data, error texts,
// bigint digits and opaque JSON. It stops counting past limit.
func treeBytes(v any, limit int) int {
	n := 0
	visit := func(x any) {
		if n <= limit {
			n += treeBytes(x, limit-n)
		}
	}
	switch x := v.(type) {
	case string:
		n += len(x)
	case clone.Bytes:
		n += len(x.Data) + len(x.Kind)
	case *clone.JSError:
		n += len(x.Name) + len(x.Message) + len(x.Stack)
	case clone.Opaque:
		n += len(x.Raw)
	case clone.Cap:
		n += len(fmt.Sprint(x.ID))
	case []any:
		for _, e := range x {
			visit(e)
		}
	case map[string]any:
		for k, e := range x {
			n += len(k)
			visit(e)
		}
	case clone.Map:
		for i := range x.Keys {
			visit(x.Keys[i])
			visit(x.Values[i])
		}
	case clone.Set:
		for _, e := range x.Values {
			visit(e)
		}
	}
	return n
}

// sharedTree is the text the JavaScript encoder writes for a string of n
// bytes in an array, doubled levels times by shared references:
// b0 = [s]; b(k) = [b(k-1), b(k-1)]. Objects are numbered depth first from
// the root, so b(k) is number levels-k and its second element is a ref to
// its first, number levels-k+1.
func sharedTree(n, levels int) string {
	text := `["` + strings.Repeat("x", n) + `"]`
	for k := 1; k <= levels; k++ {
		text = `[` + text + `,{"$t":"ref","v":` + fmt.Sprint(levels-k+1) + `}]`
	}
	return text
}

// FuzzCloneRoundTrip feeds arbitrary text to Decode. Whatever Decode accepts
// must (1) be bounded as a tree, in parts and in payload bytes, since Go
// code (Encode, the loader's env and json modules) walks decoded values as
// trees; (2) encode; (3) decode again to an equal value; and (4) encode to
// the same text again (Encode is stable on its own output).
func FuzzCloneRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		`"\ud800"`, `"\udc00\ud800x"`, "\"\xff\xfe\"", "{\"\xc3\x28\":1}",
		`1e308`, `1e309`, `-1e400`, `123456789012345678901234567890`, `-0`, `0.1e-400`,
		`{"$t":"date","v":8.64e15}`, `{"$t":"date","v":-8.64e15}`, `{"$t":"date","v":1e300}`, `{"$t":"date","v":1.5}`,
		`{"$t":"bigint","v":"-0"}`, `{"$t":"bigint","v":"+5"}`, `{"$t":"bigint","v":"` + strings.Repeat("9", 400) + `"}`,
		`{"$t":"ab","v":"AAEC/w"}`, `{"$t":"ab","v":"AA\r\nEC"}`, `{"$t":"ab"}`, `{"$t":"view","k":{"x":1},"v":""}`,
		`{"$t":"ref","v":1e300}`, `[[],{"$t":"ref","v":"1"}]`, `[[],{"$t":"ref","v":1}]`,
		`{"$t":"map","v":[[{"$t":"ref","v":0},1]]}`, `{"$t":"set","v":[[],{"$t":"ref","v":1}]}`,
		`{"$t":"obj","v":{"$t":"obj","v":{}}}`, `{"$t":5}`, `{"$t":null,"v":1}`,
		`{"$t":"cap","v":{"$t":"ref","v":0}}`, `{"$t":"error","name":1,"message":[],"stack":null}`,
		`{"4294967295":1,"4294967294":2,"01":3,"1":4}`,
		`{"$t":"regexp","src":"<&>","flags":""}`,
		strings.Repeat("[", 1001) + strings.Repeat("]", 1001),
		strings.Repeat(`{"a":`, 900) + "1" + strings.Repeat("}", 900),
		strings.Repeat(`{"$t":"set","v":[`, 400) + strings.Repeat("]}", 400),
		sharedTree(8, 14), sharedTree(1000, 10),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := clone.Decode(text)
		if err != nil {
			return
		}
		if n := nodes(v, clone.MaxExpanded+1); n > clone.MaxExpanded+1 {
			t.Fatalf("Decode accepted a value of more than %d parts as a tree", clone.MaxExpanded)
		}
		limit := len(text) + clone.MaxExpandedBytes
		if n := treeBytes(v, limit); n > limit {
			t.Fatalf("Decode accepted a value whose tree holds more than %d payload bytes (text is %d bytes)", limit, len(text))
		}
		enc, err := clone.Encode(v, nil)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)) failed: %v", text, err)
		}
		v2, err := clone.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = Decode(%s) failed: %v", text, enc, err)
		}
		if !equal(v, v2) {
			t.Fatalf("round trip changed the value\ninput  %q\nfirst  %#v\ntext   %s\nsecond %#v", text, v, enc, v2)
		}
		enc2, err := clone.Encode(v2, nil)
		if err != nil || enc2 != enc {
			t.Fatalf("Encode is not stable: %s then %s (%v)", enc, enc2, err)
		}
	})
}
