package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// LineOffset is added to every line of a bundle by padding it with blank
// lines before compilation. The engine names every script "<eval>", so the
// offset is what tells a frame in the app's code (line > LineOffset) from a
// frame in the runtime's prelude (shorter than LineOffset lines).
const LineOffset = 20000

// Pad returns source with LineOffset blank lines in front.
func Pad(source string) string {
	return strings.Repeat("\n", LineOffset) + source
}

// SourceMap maps positions in a bundle back to the original modules.
type SourceMap struct {
	sources []string
	// lines[i] holds the segments of generated line i+1, sorted by column.
	lines [][]segment
}

type segment struct {
	genCol, src, line, col int
}

// ParseSourceMap decodes a version-3 source map (the "mappings" VLQ field).
func ParseSourceMap(text string) (*SourceMap, error) {
	var raw struct {
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	sm := &SourceMap{sources: raw.Sources}
	var src, line, col int
	for _, l := range strings.Split(raw.Mappings, ";") {
		var segs []segment
		genCol := 0
		for _, s := range strings.Split(l, ",") {
			if s == "" {
				continue
			}
			vals, err := vlq(s)
			if err != nil {
				return nil, err
			}
			genCol += vals[0]
			if len(vals) >= 4 {
				src += vals[1]
				line += vals[2]
				col += vals[3]
				segs = append(segs, segment{genCol, src, line, col})
			}
		}
		sort.Slice(segs, func(i, j int) bool { return segs[i].genCol < segs[j].genCol })
		sm.lines = append(sm.lines, segs)
	}
	return sm, nil
}

func vlq(s string) ([]int, error) {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []int
	val, shift := 0, 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(chars, s[i])
		if d < 0 {
			return nil, errors.New("bad VLQ digit")
		}
		val |= (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			if shift > 30 {
				return nil, errors.New("VLQ too long")
			}
			continue
		}
		if val&1 != 0 {
			out = append(out, -(val >> 1))
		} else {
			out = append(out, val>>1)
		}
		val, shift = 0, 0
	}
	return out, nil
}

// Lookup maps a 1-based generated line and column to the original module
// name and 1-based line and column.
func (sm *SourceMap) Lookup(line, col int) (string, int, int, bool) {
	if sm == nil || line < 1 || line > len(sm.lines) {
		return "", 0, 0, false
	}
	segs := sm.lines[line-1]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].genCol > col-1 }) - 1
	if i < 0 {
		if len(segs) == 0 {
			return "", 0, 0, false
		}
		i = 0
	}
	s := segs[i]
	if s.src < 0 || s.src >= len(sm.sources) {
		return "", 0, 0, false
	}
	name := strings.TrimPrefix(sm.sources[s.src], "warren:")
	return name, s.line + 1, s.col + 1, true
}

var frameRe = regexp.MustCompile(`<eval>:(\d+)(?::(\d+))?`)

// MapStack rewrites "<eval>:line:col" positions in a stack trace or message:
// positions in the app's bundle become "module:line:col" in the original
// source (TypeScript included); positions in the runtime become
// "warren:runtime".
func (sm *SourceMap) MapStack(stack string) string {
	return frameRe.ReplaceAllStringFunc(stack, func(m string) string {
		sub := frameRe.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sub[1])
		col := 1
		if sub[2] != "" {
			col, _ = strconv.Atoi(sub[2])
		}
		if line <= LineOffset {
			return "warren:runtime"
		}
		if f, l, c, ok := sm.Lookup(line-LineOffset, col); ok {
			return fmt.Sprintf("%s:%d:%d", f, l, c)
		}
		return fmt.Sprintf("bundle:%d:%d", line-LineOffset, col)
	})
}
