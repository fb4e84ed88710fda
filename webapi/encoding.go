package webapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decodeUTF8 decodes b as the WHATWG Encoding Standard's UTF-8 decoder does:
// each maximal subpart of an ill-formed sequence becomes one U+FFFD. With
// fatal it returns "" and false at the first error instead.
func decodeUTF8(b []byte, fatal bool) (string, bool) {
	if utf8.Valid(b) {
		return string(b), true
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	i := 0
	for i < len(b) {
		c := b[i]
		if c < 0x80 {
			out.WriteByte(c)
			i++
			continue
		}
		need := 0
		lower, upper := byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c >= 0xE0 && c <= 0xEF:
			need = 2
			if c == 0xE0 {
				lower = 0xA0
			} else if c == 0xED {
				upper = 0x9F
			}
		case c >= 0xF0 && c <= 0xF4:
			need = 3
			if c == 0xF0 {
				lower = 0x90
			} else if c == 0xF4 {
				upper = 0x8F
			}
		default:
			if fatal {
				return "", false
			}
			out.WriteString("\uFFFD")
			i++
			continue
		}
		j := i + 1
		ok := true
		for k := 0; k < need; k++ {
			if j >= len(b) || b[j] < lower || b[j] > upper {
				ok = false
				break
			}
			lower, upper = 0x80, 0xBF
			j++
		}
		if !ok {
			if fatal {
				return "", false
			}
			// The maximal subpart (b[i:j]) becomes one replacement character;
			// the offending byte is looked at again.
			out.WriteString("\uFFFD")
			i = j
			continue
		}
		out.Write(b[i:j])
		i = j
	}
	return out.String(), true
}

// MaxEncodingBytes bounds what one TextEncoder or TextDecoder call hands to
// Go: its copies live outside the isolate's memory limit.
const MaxEncodingBytes = 32 << 20

func tooLargeToEncode(api string, n int) error {
	return fmt.Errorf("RangeError: %s was given %d bytes; Warren encodes and decodes at most %d MiB per call (split the input)", api, n, MaxEncodingBytes>>20)
}

// decodeArg decodes args[0], base64 of UTF-8 bytes; with fatal, ok is
// false for invalid input.
func decodeArg(args []any, fatal bool) (string, bool, error) {
	s, err := ArgString(args, 0)
	if err != nil {
		return "", false, err
	}
	if len(s) > MaxEncodingBytes*4/3+4 {
		return "", false, tooLargeToEncode("TextDecoder.decode()", len(s)*3/4)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", false, err
	}
	out, ok := decodeUTF8(b, fatal)
	return out, ok, nil
}

func init() {
	// utf8.encode(string) -> base64 of its UTF-8 bytes (lone surrogates were
	// already replaced by U+FFFD when the string crossed into Go).
	register("utf8.encode", func(args []any) (any, error) {
		s, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		if len(s) > MaxEncodingBytes {
			return nil, tooLargeToEncode("TextEncoder.encode()", len(s))
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	})
	// utf8.decode(base64, fatal) -> string; with fatal, invalid input is an
	// error.
	register("utf8.decode", func(args []any) (any, error) {
		out, ok, err := decodeArg(args, ArgBool(args, 1))
		if err == nil && !ok {
			err = errors.New("TypeError: The encoded data was not valid utf-8")
		}
		return out, err
	})
	// utf8.decodeOrNull(base64) -> string, or null when the bytes are not
	// valid UTF-8 (TextDecoder's fatal mode throws its own TypeError).
	register("utf8.decodeOrNull", func(args []any) (any, error) {
		out, ok, err := decodeArg(args, true)
		if err != nil || !ok {
			return nil, err
		}
		return out, nil
	})
}
