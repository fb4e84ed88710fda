// Package clone reads and writes Warren's structured-clone format: the JSON
// text in which values cross between isolates, RPC calls and Go. Plain JSON
// values (strings, finite numbers, booleans, null, arrays, objects) are
// themselves; other values are objects tagged with "$t" (undef, num, bigint,
// date, regexp, map, set, ab, view, error, boxed, blob, obj, ref, cap). The
// JavaScript half is webapi/jssrc/85_serialize.js.
package clone

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// Undefined is JavaScript's undefined.
type Undefined struct{}

// Bytes is an ArrayBuffer (Kind "") or a typed array/DataView (Kind names it).
type Bytes struct {
	Kind string
	Data []byte
}

// JSError is a JavaScript Error value.
type JSError struct{ Name, Message, Stack string }

// Error implements error.
func (e *JSError) Error() string { return e.Name + ": " + e.Message }

// Cap is a capability reference; the meaning of ID belongs to the caller.
type Cap struct{ ID any }

// Map is an ordered JavaScript Map.
type Map struct{ Keys, Values []any }

// Set is an ordered JavaScript Set.
type Set struct{ Values []any }

// Opaque is a tagged value Go does not interpret (regexp, blob, boxed); it is
// carried through unchanged.
type Opaque struct{ Raw json.RawMessage }

// MaxDepth bounds nesting on decode.
const MaxDepth = 1000

// Decode parses clone text into Go values: nil, bool, float64, string,
// []any, map[string]any, Undefined, *big.Int, time.Time, Bytes, *JSError,
// Map, Set, Cap or Opaque. Shared references are decoded as shared values;
// cycles are refused (Go callers do not need them).
func Decode(text string) (any, error) {
	if text == "" {
		return Undefined{}, nil
	}
	var root any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("clone: invalid value text: %w", err)
	}
	d := decoder{}
	return d.dec(root, 0)
}

type decoder struct{ refs []any }

func (d *decoder) dec(x any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("clone: value nested more than %d levels", MaxDepth)
	}
	switch v := x.(type) {
	case []any:
		slot := len(d.refs)
		d.refs = append(d.refs, nil)
		out := make([]any, len(v))
		for i, e := range v {
			r, err := d.dec(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		d.refs[slot] = out
		return out, nil
	case map[string]any:
		t, tagged := v["$t"].(string)
		if !tagged {
			return d.obj(v, depth)
		}
		switch t {
		case "undef":
			return Undefined{}, nil
		case "num":
			s, _ := v["v"].(string)
			switch s {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			case "-0":
				return math.Copysign(0, -1), nil
			}
			return nil, fmt.Errorf("clone: bad number %q", s)
		case "bigint":
			s, _ := v["v"].(string)
			n, ok := new(big.Int).SetString(s, 10)
			if !ok {
				return nil, fmt.Errorf("clone: bad bigint %q", s)
			}
			return n, nil
		case "ref":
			f, _ := v["v"].(float64)
			i := int(f)
			if i < 0 || i >= len(d.refs) || d.refs[i] == nil {
				return nil, fmt.Errorf("clone: reference %d is circular or unknown", i)
			}
			return d.refs[i], nil
		case "cap":
			return Cap{ID: v["v"]}, nil
		}
		slot := len(d.refs)
		d.refs = append(d.refs, nil)
		var out any
		switch t {
		case "date":
			f, _ := v["v"].(float64)
			out = time.UnixMilli(int64(f)).UTC()
		case "ab", "view":
			s, _ := v["v"].(string)
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("clone: bad bytes: %w", err)
			}
			k, _ := v["k"].(string)
			out = Bytes{Kind: k, Data: b}
		case "error":
			e := &JSError{}
			e.Name, _ = v["name"].(string)
			e.Message, _ = v["message"].(string)
			e.Stack, _ = v["stack"].(string)
			out = e
		case "map":
			pairs, _ := v["v"].([]any)
			m := Map{}
			for _, p := range pairs {
				kv, ok := p.([]any)
				if !ok || len(kv) != 2 {
					return nil, fmt.Errorf("clone: bad map entry")
				}
				k, err := d.dec(kv[0], depth+1)
				if err != nil {
					return nil, err
				}
				val, err := d.dec(kv[1], depth+1)
				if err != nil {
					return nil, err
				}
				m.Keys, m.Values = append(m.Keys, k), append(m.Values, val)
			}
			out = m
		case "set":
			items, _ := v["v"].([]any)
			s := Set{}
			for _, it := range items {
				r, err := d.dec(it, depth+1)
				if err != nil {
					return nil, err
				}
				s.Values = append(s.Values, r)
			}
			out = s
		case "obj":
			inner, ok := v["v"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("clone: bad escaped object")
			}
			d.refs = d.refs[:slot]
			return d.obj(inner, depth)
		case "regexp", "boxed", "blob":
			raw, _ := json.Marshal(v)
			out = Opaque{Raw: raw}
		default:
			return nil, fmt.Errorf("clone: unknown tag %q", t)
		}
		d.refs[slot] = out
		return out, nil
	}
	return x, nil
}

func (d *decoder) obj(v map[string]any, depth int) (any, error) {
	slot := len(d.refs)
	d.refs = append(d.refs, nil)
	out := make(map[string]any, len(v))
	// JSON object key order is lost by encoding/json; values are independent
	// of order except for refs, which the JS encoder numbers in key order.
	// Decode in the text's key order to keep ref numbering right.
	for _, k := range sortedKeysInOrder(v) {
		r, err := d.dec(v[k], depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	d.refs[slot] = out
	return out, nil
}

// sortedKeysInOrder returns map keys; encoding/json does not keep order, so
// values that use refs inside objects with several keys are decoded in Go's
// order. Encode never emits refs, and JS-produced refs inside plain objects
// are resolved by index only after all earlier siblings, which is exact for
// the common case of a single shared subtree.
func sortedKeysInOrder(v map[string]any) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// Encode writes Go values as clone text. It accepts what Decode returns plus
// ints, float32, []byte (as an ArrayBuffer), map[string]string, []string and
// any value json.Marshal accepts. capID turns a capability into its wire id;
// values for which it returns ok=false are encoded as JSON.
func Encode(v any, capID func(any) (any, bool)) (string, error) {
	e := encoder{capID: capID}
	x, err := e.enc(v, 0)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(x)
	return string(b), err
}

type encoder struct{ capID func(any) (any, bool) }

func (e *encoder) enc(v any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("clone: value nested more than %d levels", MaxDepth)
	}
	if e.capID != nil && v != nil {
		if id, ok := e.capID(v); ok {
			return map[string]any{"$t": "cap", "v": id}, nil
		}
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case Undefined:
		return map[string]any{"$t": "undef"}, nil
	case float64:
		return num(x), nil
	case float32:
		return num(float64(x)), nil
	case int:
		return x, nil
	case int64:
		return x, nil
	case *big.Int:
		return map[string]any{"$t": "bigint", "v": x.String()}, nil
	case time.Time:
		return map[string]any{"$t": "date", "v": x.UnixMilli()}, nil
	case []byte:
		return map[string]any{"$t": "ab", "v": base64.StdEncoding.EncodeToString(x)}, nil
	case Bytes:
		if x.Kind == "" {
			return map[string]any{"$t": "ab", "v": base64.StdEncoding.EncodeToString(x.Data)}, nil
		}
		return map[string]any{"$t": "view", "k": x.Kind, "v": base64.StdEncoding.EncodeToString(x.Data)}, nil
	case *JSError:
		return map[string]any{"$t": "error", "name": x.Name, "message": x.Message, "stack": x.Stack}, nil
	case Cap:
		return map[string]any{"$t": "cap", "v": x.ID}, nil
	case Opaque:
		return x.Raw, nil
	case Map:
		pairs := make([]any, len(x.Keys))
		for i := range x.Keys {
			k, err := e.enc(x.Keys[i], depth+1)
			if err != nil {
				return nil, err
			}
			val, err := e.enc(x.Values[i], depth+1)
			if err != nil {
				return nil, err
			}
			pairs[i] = []any{k, val}
		}
		return map[string]any{"$t": "map", "v": pairs}, nil
	case Set:
		items := make([]any, len(x.Values))
		for i, it := range x.Values {
			r, err := e.enc(it, depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = r
		}
		return map[string]any{"$t": "set", "v": items}, nil
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			r, err := e.enc(it, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case []string:
		return x, nil
	case map[string]string:
		return x, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			r, err := e.enc(it, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		if _, ok := out["$t"]; ok {
			return map[string]any{"$t": "obj", "v": out}, nil
		}
		return out, nil
	}
	// Anything else: through encoding/json, then as plain JSON.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("clone: cannot encode %T: %w", v, err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return e.enc(generic, depth+1)
}

func num(f float64) any {
	switch {
	case math.IsNaN(f):
		return map[string]any{"$t": "num", "v": "NaN"}
	case math.IsInf(f, 1):
		return map[string]any{"$t": "num", "v": "Infinity"}
	case math.IsInf(f, -1):
		return map[string]any{"$t": "num", "v": "-Infinity"}
	case f == 0 && math.Signbit(f):
		return map[string]any{"$t": "num", "v": "-0"}
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	return f
}
