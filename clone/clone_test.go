package clone_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren/clone"
)

// equal compares decoded values: NaN equals NaN, 0 and -0 differ, Opaque
// values compare as JSON, shared references compare by content.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return x == y && math.Signbit(x) == math.Signbit(y)
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case clone.Bytes:
		y, ok := b.(clone.Bytes)
		return ok && x.Kind == y.Kind && bytes.Equal(x.Data, y.Data)
	case *clone.JSError:
		y, ok := b.(*clone.JSError)
		return ok && *x == *y
	case clone.Map:
		y, ok := b.(clone.Map)
		return ok && equal(x.Keys, y.Keys) && equal(x.Values, y.Values)
	case clone.Set:
		y, ok := b.(clone.Set)
		return ok && equal(x.Values, y.Values)
	case clone.Opaque:
		y, ok := b.(clone.Opaque)
		if !ok {
			return false
		}
		var u, v any
		if json.Unmarshal(x.Raw, &u) != nil || json.Unmarshal(y.Raw, &v) != nil {
			return false
		}
		return reflect.DeepEqual(u, v)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func mustDecode(t *testing.T, text string) any {
	t.Helper()
	v, err := clone.Decode(text)
	if err != nil {
		t.Fatalf("Decode(%s): %v", text, err)
	}
	return v
}

func roundTrip(t *testing.T, v any) (string, any) {
	t.Helper()
	text, err := clone.Encode(v, nil)
	if err != nil {
		t.Fatalf("Encode(%#v): %v", v, err)
	}
	return text, mustDecode(t, text)
}

func TestRoundTripDecodedTypes(t *testing.T) {
	date := time.Date(2024, 2, 29, 12, 34, 56, 789_000_000, time.UTC)
	cases := []struct {
		name string
		v    any
		text string // expected wire text, when it is fixed
	}{
		{"null", nil, `null`},
		{"true", true, `true`},
		{"false", false, `false`},
		{"string", "héllo \"quoted\" \u2028", ""},
		{"empty string", "", `""`},
		{"integer", float64(42), `42`},
		{"negative", float64(-7), `-7`},
		{"fraction", 0.1, `0.1`},
		{"large", 1e300, ""},
		{"max safe", float64(1<<53 - 1), `9007199254740991`},
		{"NaN", math.NaN(), `{"$t":"num","v":"NaN"}`},
		{"+Inf", math.Inf(1), `{"$t":"num","v":"Infinity"}`},
		{"-Inf", math.Inf(-1), `{"$t":"num","v":"-Infinity"}`},
		{"-0", math.Copysign(0, -1), `{"$t":"num","v":"-0"}`},
		{"zero", float64(0), `0`},
		{"undefined", clone.Undefined{}, `{"$t":"undef"}`},
		{"bigint", mustBig("-123456789012345678901234567890"), `{"$t":"bigint","v":"-123456789012345678901234567890"}`},
		{"date", date, fmt.Sprintf(`{"$t":"date","v":%d}`, date.UnixMilli())},
		{"epoch", time.UnixMilli(0).UTC(), `{"$t":"date","v":0}`},
		{"arraybuffer", clone.Bytes{Data: []byte{0, 1, 2, 255}}, `{"$t":"ab","v":"AAEC/w=="}`},
		{"empty arraybuffer", clone.Bytes{Data: []byte{}}, `{"$t":"ab","v":""}`},
		{"Uint8Array", clone.Bytes{Kind: "Uint8Array", Data: []byte{9, 8}}, `{"$t":"view","k":"Uint8Array","v":"CQg="}`},
		{"Float64Array", clone.Bytes{Kind: "Float64Array", Data: make([]byte, 16)}, ""},
		{"DataView", clone.Bytes{Kind: "DataView", Data: []byte{1}}, ""},
		{"error", &clone.JSError{Name: "TypeError", Message: "bad", Stack: "TypeError: bad\n    at f (x.js:1:1)"}, ""},
		{"map", clone.Map{Keys: []any{"a", float64(1), clone.Undefined{}}, Values: []any{float64(1), []any{"x"}, nil}}, ""},
		{"empty map", clone.Map{}, `{"$t":"map","v":[]}`},
		{"set", clone.Set{Values: []any{"a", float64(2), math.NaN()}}, ""},
		{"cap number", clone.Cap{ID: float64(3)}, `{"$t":"cap","v":3}`},
		{"cap object", clone.Cap{ID: map[string]any{"id": float64(4), "kind": "loader"}}, ""},
		{"regexp", clone.Opaque{Raw: json.RawMessage(`{"$t":"regexp","src":"a+b","flags":"gi"}`)}, `{"$t":"regexp","src":"a+b","flags":"gi"}`},
		{"boxed", clone.Opaque{Raw: json.RawMessage(`{"$t":"boxed","v":"s"}`)}, ""},
		{"blob", clone.Opaque{Raw: json.RawMessage(`{"$t":"blob","type":"text/plain","v":"aGk="}`)}, ""},
		{"array", []any{float64(1), "two", nil, true, []any{}}, `[1,"two",null,true,[]]`},
		{"empty object", map[string]any{}, `{}`},
		{"object with $t key", map[string]any{"$t": "date", "v": float64(1)}, `{"$t":"obj","v":{"$t":"date","v":1}}`},
		{"nested", map[string]any{
			"list":  []any{map[string]any{"n": math.NaN()}, clone.Undefined{}},
			"when":  date,
			"big":   big.NewInt(1),
			"inner": map[string]any{"$t": float64(5)},
			"set":   clone.Set{Values: []any{clone.Map{Keys: []any{"k"}, Values: []any{clone.Bytes{Data: []byte("v")}}}}},
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, got := roundTrip(t, tc.v)
			if tc.text != "" && text != tc.text {
				t.Errorf("Encode = %s, want %s", text, tc.text)
			}
			if !equal(got, tc.v) {
				t.Fatalf("round trip of %#v\ntext %s\ngot  %#v", tc.v, text, got)
			}
			// The text is stable: encoding the decoded value gives it again.
			again, err := clone.Encode(got, nil)
			if err != nil || again != text {
				t.Fatalf("re-encode = %s, %v; want %s", again, err, text)
			}
		})
	}
}

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

func TestEncodeGoTypes(t *testing.T) {
	type point struct {
		X int    `json:"x"`
		Y string `json:"y"`
	}
	cases := []struct {
		name string
		v    any
		want any
	}{
		{"int", 7, float64(7)},
		{"int64", int64(-9), float64(-9)},
		{"float32", float32(1.5), float64(1.5)},
		{"float32 NaN", float32(math.NaN()), math.NaN()},
		{"[]byte", []byte("hi"), clone.Bytes{Data: []byte("hi")}},
		{"map[string]string", map[string]string{"a": "b"}, map[string]any{"a": "b"}},
		{"[]string", []string{"a", "b"}, []any{"a", "b"}},
		{"struct", point{X: 1, Y: "z"}, map[string]any{"x": float64(1), "y": "z"}},
		{"struct pointer", &point{X: 2}, map[string]any{"x": float64(2), "y": ""}},
		{"[]int", []int{1, 2}, []any{float64(1), float64(2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, got := roundTrip(t, tc.v)
			if !equal(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	if _, err := clone.Encode(make(chan int), nil); err == nil {
		t.Fatal("Encode(chan) succeeded")
	}
}

func TestEncodeCapID(t *testing.T) {
	type binding struct{ name string }
	b := &binding{"KV"}
	capID := func(v any) (any, bool) {
		if v == any(b) {
			return float64(17), true
		}
		return nil, false
	}
	text, err := clone.Encode(map[string]any{"kv": b, "n": 1}, capID)
	if err != nil {
		t.Fatal(err)
	}
	got := mustDecode(t, text).(map[string]any)
	if c, ok := got["kv"].(clone.Cap); !ok || c.ID != float64(17) {
		t.Fatalf("kv = %#v (text %s)", got["kv"], text)
	}
	if got["n"] != float64(1) {
		t.Fatalf("n = %#v", got["n"])
	}
}

func TestEncodeDepthLimit(t *testing.T) {
	var v any = "leaf"
	for i := 0; i < clone.MaxDepth+5; i++ {
		v = []any{v}
	}
	if _, err := clone.Encode(v, nil); err == nil {
		t.Fatal("Encode of a value nested too deeply succeeded")
	}
	text := strings.Repeat("[", clone.MaxDepth+5) + strings.Repeat("]", clone.MaxDepth+5)
	if _, err := clone.Decode(text); err == nil {
		t.Fatal("Decode of a value nested too deeply succeeded")
	}
}

func TestDecodeEmptyIsUndefined(t *testing.T) {
	if v := mustDecode(t, ""); v != (clone.Undefined{}) {
		t.Fatalf("Decode(\"\") = %#v", v)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, text := range []string{
		`{`, `[1,]`, `{"a":1}x`, `1 2`, `nul`,
		`{"$t":"num","v":"12"}`,
		`{"$t":"bigint","v":"1.5"}`,
		`{"$t":"ab","v":"***"}`,
		`{"$t":"nope"}`,
		`{"$t":"map","v":[[1]]}`,
		`{"$t":"obj","v":3}`,
		`{"$t":"ref","v":0}`,    // the root itself: circular
		`[{"$t":"ref","v":0}]`,  // circular
		`[{"$t":"ref","v":5}]`,  // unknown
		`[{"$t":"ref","v":-1}]`, // unknown
		`[[],{"$t":"ref","v":0.5}]`,
	} {
		if v, err := clone.Decode(text); err == nil {
			t.Errorf("Decode(%s) = %#v, want an error", text, v)
		}
	}
}

// samePointer reports whether a and b are the same map or slice.
func samePointer(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Kind() != vb.Kind() || (va.Kind() != reflect.Map && va.Kind() != reflect.Slice) {
		return false
	}
	return va.Pointer() == vb.Pointer()
}

// TestDecodeJSRefsInObjectKeyOrder is the regression test for refs inside
// objects with several keys: the JavaScript encoder (85_serialize.js)
// numbers objects in its key order, which is the text's order, so Decode
// must walk keys in that order, not sorted.
func TestDecodeJSRefsInObjectKeyOrder(t *testing.T) {
	// const first = {n: "first"};
	// _encodeValue({z: first, a: {n: "second"}, m: first})
	// root = 0, z = 1, a = 2; m is a ref to 1.
	text := `{"z":{"n":"first"},"a":{"n":"second"},"m":{"$t":"ref","v":1}}`
	root := mustDecode(t, text).(map[string]any)
	m, ok := root["m"].(map[string]any)
	if !ok || m["n"] != "first" {
		t.Fatalf("m = %#v, want the object {n: first} (z)", root["m"])
	}
	if !samePointer(root["m"], root["z"]) {
		t.Fatal("m and z are not the same object")
	}

	// The shared object comes after a key that sorts later: with sorted
	// keys "a" is visited before "b" is numbered.
	// const s = [1, 2]; _encodeValue({b: s, a: [s, s]})
	text = `{"b":[1,2],"a":[{"$t":"ref","v":1},{"$t":"ref","v":1}]}`
	root = mustDecode(t, text).(map[string]any)
	a := root["a"].([]any)
	if !samePointer(a[0], root["b"]) || !samePointer(a[1], root["b"]) {
		t.Fatalf("a = %#v, b = %#v: a's items are not b", a, root["b"])
	}

	// Tagged values and Maps take numbers too.
	// const d = new Date(5), o = {k: 1};
	// _encodeValue({y: d, x: new Map([["o", o]]), w: o, v: d})
	// root 0, y(date) 1, x(map) 2, o 3.
	text = `{"y":{"$t":"date","v":5},"x":{"$t":"map","v":[["o",{"k":1}]]},"w":{"$t":"ref","v":3},"v":{"$t":"ref","v":1}}`
	root = mustDecode(t, text).(map[string]any)
	mp := root["x"].(clone.Map)
	if !samePointer(root["w"], mp.Values[0]) {
		t.Fatalf("w = %#v, want the map's value %#v", root["w"], mp.Values[0])
	}
	if d, ok := root["v"].(time.Time); !ok || d.UnixMilli() != 5 {
		t.Fatalf("v = %#v, want the date 5", root["v"])
	}

	// An escaped object ({"$t":"obj"}) is one object, numbered once.
	// const s = {}; _encodeValue({q: {$t: "x", s}, p: s})
	text = `{"q":{"$t":"obj","v":{"$t":"x","s":{}}},"p":{"$t":"ref","v":2}}`
	root = mustDecode(t, text).(map[string]any)
	q := root["q"].(map[string]any)
	if q["$t"] != "x" || !samePointer(q["s"], root["p"]) {
		t.Fatalf("q = %#v, p = %#v", q, root["p"])
	}
}

// TestDecodeIntegerKeysFirst: JavaScript lists array-index keys first, in
// ascending order, whatever the text's order; the JS decoder numbers objects
// in that order, so Go must too.
func TestDecodeIntegerKeysFirst(t *testing.T) {
	// JSON.parse gives Object.keys ["1", "10", "b"]: "1" is object 1, "10"
	// object 2, and b's ref 1 is the object under "1".
	text := `{"b":{"$t":"ref","v":1},"10":{"n":10},"1":{"n":1}}`
	root := mustDecode(t, text).(map[string]any)
	if !samePointer(root["b"], root["1"]) {
		t.Fatalf("b = %#v, want the object under \"1\"", root["b"])
	}
	// Keys that are not array indices keep the text's order.
	text = `{"01":{"n":"01"},"4294967295":{"n":"big"},"-1":{"n":"neg"},"x":{"$t":"ref","v":2}}`
	root = mustDecode(t, text).(map[string]any)
	if !samePointer(root["x"], root["4294967295"]) {
		t.Fatalf("x = %#v, want the object under \"4294967295\"", root["x"])
	}
}

func TestDecodeDuplicateKeysLikeJSONParse(t *testing.T) {
	// JSON.parse keeps the first position and the last value.
	text := `{"a":{"n":1},"b":{"n":2},"a":{"n":3},"c":{"$t":"ref","v":1}}`
	root := mustDecode(t, text).(map[string]any)
	if a := root["a"].(map[string]any); a["n"] != float64(3) {
		t.Fatalf("a = %#v, want the last value", a)
	}
	if !samePointer(root["c"], root["a"]) {
		t.Fatalf("c = %#v, want the object under a (numbered first)", root["c"])
	}
}

func TestDecodeSharedArraysAndOpaque(t *testing.T) {
	// const s = [1]; _encodeValue([s, /x/g, s])
	root := mustDecode(t, `[[1],{"$t":"regexp","src":"x","flags":"g"},{"$t":"ref","v":1}]`).([]any)
	if !samePointer(root[0], root[2]) {
		t.Fatalf("got %#v", root)
	}
	// A ref may point at an opaque value (numbered like any object).
	root = mustDecode(t, `[{"$t":"regexp","src":"x","flags":"g"},{"$t":"ref","v":1}]`).([]any)
	if !equal(root[0], root[1]) {
		t.Fatalf("got %#v", root)
	}
	op := root[0].(clone.Opaque)
	var raw map[string]any
	if err := json.Unmarshal(op.Raw, &raw); err != nil || raw["src"] != "x" || raw["flags"] != "g" {
		t.Fatalf("Opaque raw = %s, %v", op.Raw, err)
	}
	// The opaque text keeps the key order of the input.
	if !strings.HasPrefix(string(op.Raw), `{"$t":"regexp","src"`) {
		t.Fatalf("Opaque raw = %s", op.Raw)
	}
}

// fuzzSeeds are real inputs of every tag (as the JS encoder writes them).
var fuzzSeeds = []string{
	``, `null`, `true`, `1.5`, `"s"`, `[]`, `{}`,
	`{"$t":"undef"}`,
	`{"$t":"num","v":"NaN"}`, `{"$t":"num","v":"-0"}`, `{"$t":"num","v":"-Infinity"}`,
	`{"$t":"bigint","v":"123456789012345678901234567890"}`,
	`{"$t":"date","v":1700000000000}`,
	`{"$t":"regexp","src":"^a.b$","flags":"gimsuy"}`,
	`{"$t":"map","v":[["k",{"$t":"undef"}],[{"a":1},[1,2]]]}`,
	`{"$t":"set","v":[1,"a",{"$t":"num","v":"NaN"}]}`,
	`{"$t":"ab","v":"AAEC/w=="}`,
	`{"$t":"view","k":"Int16Array","v":"AQACAA=="}`,
	`{"$t":"view","k":"DataView","v":"AQ=="}`,
	`{"$t":"error","name":"RangeError","message":"m","stack":"RangeError: m\n    at <anonymous>"}`,
	`{"$t":"boxed","v":"str"}`, `{"$t":"boxed","v":{"$t":"num","v":"NaN"}}`,
	`{"$t":"blob","type":"text/plain","v":"aGk="}`,
	`{"$t":"obj","v":{"$t":"x","y":[1]}}`,
	`{"$t":"cap","v":{"id":3,"kind":"loader"}}`, `{"$t":"cap","v":2}`,
	`{"z":{"n":"first"},"a":{"n":"second"},"m":{"$t":"ref","v":1}}`,
	`[[1],{"$t":"ref","v":1},{"$t":"ref","v":0}]`,
	`{"b":{"$t":"ref","v":1},"10":{"n":10},"1":{"n":1}}`,
	`{"a":1,"a":{"x":2}}`,
}

// nodes counts the values in v as a tree (shared values counted each time
// they appear), up to limit.
func nodes(v any, limit int) int {
	n := 1
	visit := func(x any) {
		if n <= limit {
			n += nodes(x, limit-n)
		}
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			visit(e)
		}
	case map[string]any:
		for _, e := range x {
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

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := clone.Decode(text)
		if err != nil {
			return
		}
		// Shared references make a DAG whose tree form can be exponentially
		// larger than the text; Encode writes the tree.
		if nodes(v, 100_000) > 100_000 {
			return
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
	})
}

// A value whose tree is exponentially larger than its text (shared
// references nested) is refused instead of being expanded by Go code.
func TestDecodeRefusesExponentialSharing(t *testing.T) {
	// [a, a] nested 60 deep, the second a a ref to the first. Numbering is
	// depth first from the outside, so the array at depth k is number k and
	// its first element number k+1.
	text := "[]"
	for i := 0; i < 60; i++ {
		text = `[` + text + `,{"$t":"ref","v":` + fmt.Sprint(60-i) + `}]`
	}
	if _, err := clone.Decode(text); err == nil || !strings.Contains(err.Error(), "shared references") {
		t.Fatalf("err = %v", err)
	}
	// Modest sharing is fine.
	v, err := clone.Decode(`[[1,2],{"$t":"ref","v":1}]`)
	if err != nil || fmt.Sprint(v) != "[[1 2] [1 2]]" {
		t.Fatalf("%v %v", v, err)
	}
}
