// Package clone reads and writes Warren's structured-clone format: the JSON
// text in which values cross between isolates, RPC calls and Go. Plain JSON
// values (strings, finite numbers, booleans, null, arrays, objects) are
// themselves; other values are objects tagged with "$t" (undef, num, bigint,
// date, regexp, map, set, ab, view, error, boxed, blob, obj, ref, cap). The
// JavaScript half is webapi/jssrc/85_serialize.js.
package clone

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
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
//
// Objects and arrays are numbered in the order the JavaScript decoder visits
// them, which is the order of the text (JavaScript's own key order, see
// jsKeyOrder), so {"$t":"ref"} values point at the object the encoder meant.
func Decode(text string) (any, error) {
	if text == "" {
		return Undefined{}, nil
	}
	root, err := parseOrdered(text)
	if err != nil {
		return nil, fmt.Errorf("clone: invalid value text: %w", err)
	}
	d := decoder{maxBytes: len(text) + MaxExpandedBytes}
	return d.dec(root, 0)
}

// MaxExpanded bounds the number of values in a decoded value counted as a
// tree: shared references make a value whose tree is exponentially larger
// than its text ([a,a] nested 60 times), and Go code walks values as trees.
const MaxExpanded = 1 << 20

// MaxExpandedBytes bounds what shared references may add to the payload
// (strings, keys, bytes) of a decoded value counted as a tree: a value's
// tree may hold at most len(text) + MaxExpandedBytes payload bytes. Without
// it a few kilobytes of text (a long string in an array doubled by refs 17
// times) re-encode to hundreds of megabytes.
const MaxExpandedBytes = 64 << 20

type decoder struct {
	refs     []any
	sizes    []int // tree size of each numbered value, for refs
	bsizes   []int // tree payload bytes of each numbered value, for refs
	count    int   // values decoded so far, counting each ref as its tree
	bytes    int   // payload bytes decoded so far, counting each ref as its tree
	maxBytes int
}

func (d *decoder) grow(n, bytes int) error {
	d.count += n
	d.bytes += bytes
	if d.count > MaxExpanded {
		return fmt.Errorf("clone: value has more than %d parts when shared references are expanded", MaxExpanded)
	}
	if d.bytes > d.maxBytes {
		return fmt.Errorf("clone: value holds more than %d bytes when shared references are expanded", d.maxBytes)
	}
	return nil
}

// open numbers a new object; close records its value and tree size.
func (d *decoder) open() (slot, start, bstart int) {
	d.refs = append(d.refs, nil)
	d.sizes = append(d.sizes, 0)
	d.bsizes = append(d.bsizes, 0)
	return len(d.refs) - 1, d.count, d.bytes
}

func (d *decoder) close(slot, start, bstart int, v any) {
	d.refs[slot] = v
	d.sizes[slot] = d.count - start
	d.bsizes[slot] = d.bytes - bstart
}

// payload approximates the bytes x holds that the decoder does not visit
// as values of their own: strings, object keys, and the fields of tagged
// values (base64 text, error texts, bigint digits, opaque and cap JSON).
func payload(x any) int {
	switch v := x.(type) {
	case string:
		return len(v)
	case *object:
		t, tagged := v.vals["$t"].(string)
		n := 0
		for _, k := range v.keys {
			n += len(k)
			// The entries of a map or set and an escaped object's fields
			// are decoded (and counted) as values of their own.
			if tagged && !(k == "v" && (t == "map" || t == "set" || t == "obj")) {
				n += plainSize(v.vals[k])
			}
		}
		return n
	}
	return 0
}

// plainSize is the payload of parsed JSON: its strings and keys.
func plainSize(x any) int {
	switch v := x.(type) {
	case string:
		return len(v)
	case []any:
		n := 0
		for _, e := range v {
			n += plainSize(e)
		}
		return n
	case *object:
		n := 0
		for _, k := range v.keys {
			n += len(k) + plainSize(v.vals[k])
		}
		return n
	}
	return 0
}

func (d *decoder) dec(x any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("clone: value nested more than %d levels", MaxDepth)
	}
	if err := d.grow(1, payload(x)); err != nil {
		return nil, err
	}
	switch v := x.(type) {
	case []any:
		slot, start, bstart := d.open()
		out := make([]any, len(v))
		for i, e := range v {
			r, err := d.dec(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		d.close(slot, start, bstart, out)
		return out, nil
	case *object:
		t, tagged := v.get("$t").(string)
		if !tagged {
			return d.obj(v, depth)
		}
		switch t {
		case "undef":
			return Undefined{}, nil
		case "num":
			s, _ := v.get("v").(string)
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
			s, _ := v.get("v").(string)
			n, ok := new(big.Int).SetString(s, 10)
			if !ok {
				return nil, fmt.Errorf("clone: bad bigint %q", s)
			}
			return n, nil
		case "ref":
			f, _ := v.get("v").(float64)
			if f < 0 || f >= float64(len(d.refs)) || f != math.Trunc(f) || d.refs[int(f)] == nil {
				return nil, fmt.Errorf("clone: reference %v is circular or unknown", f)
			}
			if err := d.grow(d.sizes[int(f)], d.bsizes[int(f)]); err != nil {
				return nil, err
			}
			return d.refs[int(f)], nil
		case "cap":
			return Cap{ID: plain(v.get("v"))}, nil
		}
		slot, start, bstart := d.open()
		var out any
		switch t {
		case "date":
			f, _ := v.get("v").(float64)
			out = time.UnixMilli(int64(f)).UTC()
		case "ab", "view":
			s, _ := v.get("v").(string)
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("clone: bad bytes: %w", err)
			}
			k, _ := v.get("k").(string)
			out = Bytes{Kind: k, Data: b}
		case "error":
			e := &JSError{}
			e.Name, _ = v.get("name").(string)
			e.Message, _ = v.get("message").(string)
			e.Stack, _ = v.get("stack").(string)
			out = e
		case "map":
			pairs, _ := v.get("v").([]any)
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
			items, _ := v.get("v").([]any)
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
			inner, ok := v.get("v").(*object)
			if !ok {
				return nil, fmt.Errorf("clone: bad escaped object")
			}
			d.refs, d.sizes, d.bsizes = d.refs[:slot], d.sizes[:slot], d.bsizes[:slot]
			return d.obj(inner, depth)
		case "regexp", "boxed", "blob":
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("clone: bad %s value: %w", t, err)
			}
			out = Opaque{Raw: raw}
		default:
			return nil, fmt.Errorf("clone: unknown tag %q", t)
		}
		d.close(slot, start, bstart, out)
		return out, nil
	}
	return x, nil
}

func (d *decoder) obj(v *object, depth int) (any, error) {
	slot, start, bstart := d.open()
	out := make(map[string]any, len(v.keys))
	// Keys are visited in JavaScript's order (that of the text the JS
	// encoder wrote), because the encoder numbered objects in that order.
	for _, k := range v.keys {
		r, err := d.dec(v.vals[k], depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	d.close(slot, start, bstart, out)
	return out, nil
}

// object is a parsed JSON object that remembers its key order.
type object struct {
	keys []string // in JavaScript's Object.keys order
	vals map[string]any
}

func (o *object) get(k string) any { return o.vals[k] }

// MarshalJSON writes the object with its keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// plain turns parsed JSON (with ordered objects) into plain Go JSON values.
func plain(x any) any {
	switch v := x.(type) {
	case *object:
		m := make(map[string]any, len(v.keys))
		for _, k := range v.keys {
			m[k] = plain(v.vals[k])
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return x
}

// maxParseDepth bounds the nesting of the JSON text itself (a tagged value
// takes up to three JSON levels per value level).
const maxParseDepth = 4*MaxDepth + 8

// parseOrdered parses one JSON value into nil, bool, float64, string, []any
// and *object, keeping object key order. A repeated key keeps its first
// position and its last value, as JSON.parse does.
func parseOrdered(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the value")
		}
		return nil, err
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // nil, bool, float64 or string
	}
	if depth >= maxParseDepth {
		return nil, fmt.Errorf("JSON nested more than %d levels", maxParseDepth)
	}
	switch delim {
	case '[':
		out := []any{}
		for dec.More() {
			e, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, err
		}
		return out, nil
	case '{':
		o := &object{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			e, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := o.vals[k]; !dup {
				o.keys = append(o.keys, k)
			}
			o.vals[k] = e
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
		jsKeyOrder(o.keys)
		return o, nil
	}
	return nil, fmt.Errorf("unexpected %v", delim)
}

// jsKeyOrder puts keys in the order of JavaScript's Object.keys on the
// object JSON.parse makes from the text: array-index keys ("0", "7",
// "4294967294") first, ascending, then the others in the order of the text.
// The JS encoder writes keys in that order, so for its output this is the
// text's order.
func jsKeyOrder(keys []string) {
	sort.SliceStable(keys, func(i, j int) bool {
		ai, aok := arrayIndex(keys[i])
		bi, bok := arrayIndex(keys[j])
		if aok && bok {
			return ai < bi
		}
		return aok && !bok
	})
}

func arrayIndex(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= 4294967294
}

// Encode writes Go values as clone text. It accepts what Decode returns plus
// ints, float32, []byte (as an ArrayBuffer), map[string]string, []string and
// any value json.Marshal accepts. capID turns a capability into its reference;
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
