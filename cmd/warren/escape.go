package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// escapeControls makes text from an app (or a server) safe to print on a
// terminal: every C0 control but tab (and newline when keepNewline), DEL,
// every C1 control, the bidirectional overrides and bytes that are not
// UTF-8 are shown escaped (\r, \x1b, \u009b, \u202e, \xff) instead of
// being sent to the terminal, where they could move the cursor, rewrite
// lines, retitle the window or write the clipboard (OSC 52).
func escapeControls(s string, keepNewline bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 && b != '\t' && !(b == '\n' && keepNewline) || b == 0x7f || b >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || r == '\n' && keepNewline:
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether r is a C1 control or a bidirectional control
// (which reorders what follows it on the line: "Trojan Source").
func unsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x061c
}

// escapeJSONControls escapes, in JSON text, what escapeControls escapes
// and JSON allows raw in strings (DEL, C1 and bidirectional controls, and
// any control a server would send raw) as \u escapes, and bytes that are
// not UTF-8 as \ufffd; newlines and tabs (whitespace between tokens) are
// kept and carriage returns dropped: the JSON means the same, and prints
// safely.
func escapeJSONControls(j []byte) []byte {
	clean := true
	for _, c := range j {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return j
	}
	out := make([]byte, 0, len(j)+16)
	for i := 0; i < len(j); {
		r, n := utf8.DecodeRune(j[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = append(out, `\ufffd`...)
		case r == '\n' || r == '\t': // whitespace between tokens
			out = append(out, byte(r))
		case r == '\r': // whitespace too in valid JSON: dropped, it could only rewrite the line
		case r < 0x20 || r == 0x7f || unsafeRune(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, j[i:i+n]...)
		}
		i += n
	}
	return out
}

// byteCounts are the sizes in bytes that a server's message names ("larger
// than 25165824 bytes", "the limit of 16777216").
var byteCounts = regexp.MustCompile(`\b(\d{4,}) bytes\b|\b(limit of) (\d{4,})\b`)

// humanSizes writes the byte counts of a message in human units:
// "larger than 24.0 MiB".
func humanSizes(msg string) string {
	return byteCounts.ReplaceAllStringFunc(msg, func(m string) string {
		sub := byteCounts.FindStringSubmatch(m)
		num, prefix := sub[1], ""
		if num == "" {
			num, prefix = sub[3], sub[2]+" "
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return m
		}
		return prefix + formatBytes(n)
	})
}
