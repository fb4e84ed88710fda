// Package webapi provides the Web APIs that Worker code expects (fetch,
// Request, Response, Headers, URL, streams, crypto, timers, console, ...):
// a JavaScript prelude evaluated in every isolate before the app's code, and
// the stateless Go operations that the prelude calls through the isolate's
// single host function.
//
// The prelude is the files in jssrc/, concatenated in name order inside one
// function scope, so helpers defined in 00_core.js are visible to the rest
// and invisible to app code. Stateful operations (timers, outbound fetch,
// logs, responses) are served by the worker package, which owns the isolate;
// this package serves the pure ones through Op.
package webapi

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
)

//go:embed jssrc/*.js
var jsFiles embed.FS

// lazyFiles are evaluated on first use of a global they define, which keeps
// them out of every isolate's start-up cost (see docs/BENCHMARKS.md). A lazy
// file runs in its own function scope: its top-level names are private to
// it, and what other files need from it goes through _shared (00_core.js).
// The generated __load_<stem>() evaluates it; __loaded holds the stems of
// the files evaluated so far.
var lazyFiles = map[string]bool{
	"jssrc/10_encoding.js":      true,
	"jssrc/20_events.js":        true,
	"jssrc/30_url.js":           true,
	"jssrc/40_streams.js":       true,
	"jssrc/50_blob_formdata.js": true,
	"jssrc/70_crypto.js":        true,
}

var globalRe = regexp.MustCompile(`(?m)^\s*defineGlobal\("([A-Za-z_$][A-Za-z0-9_$]*)"`)

// stem turns "jssrc/50_blob_formdata.js" into "blob_formdata".
func stem(name string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "jssrc/"), ".js")
	if i := strings.IndexByte(s, '_'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

var (
	preludeOnce sync.Once
	prelude     string
)

// Prelude returns the prelude script source.
func Prelude() string {
	preludeOnce.Do(func() {
		names, _ := fs.Glob(jsFiles, "jssrc/*.js")
		sort.Strings(names)
		var b strings.Builder
		b.WriteString("(function () {\n\"use strict\";\nconst __loaded = new Set();\n")
		for _, n := range names {
			src, _ := jsFiles.ReadFile(n)
			fmt.Fprintf(&b, "// ---- %s ----\n", n)
			if !lazyFiles[n] {
				b.Write(src)
				b.WriteString("\n")
				continue
			}
			// A lazy file runs in its own function scope the first time one of
			// the globals it defines is touched. Its top-level names stay
			// private to it; it still sees the shared names of earlier files.
			st := stem(n)
			fmt.Fprintf(&b, "const __load_%s = () => { if (__loaded.has(%q)) return; __loaded.add(%q); (function () {\n", st, st, st)
			b.Write(src)
			b.WriteString("\n})(); };\n")
			for _, m := range globalRe.FindAllStringSubmatch(string(src), -1) {
				fmt.Fprintf(&b, "defineLazyGlobal(%q, __load_%s);\n", m[1], st)
			}
		}
		b.WriteString("})();\n")
		prelude = b.String()
	})
	return prelude
}

// OpFunc is a stateless host operation.
type OpFunc func(args []any) (any, error)

var ops = map[string]OpFunc{}

// register adds a stateless operation; called from init functions.
func register(name string, f OpFunc) {
	if _, dup := ops[name]; dup {
		panic("webapi: duplicate op " + name)
	}
	ops[name] = f
}

// Op runs the stateless operation name. ok is false when there is none.
func Op(name string, args []any) (result any, err error, ok bool) {
	f, ok := ops[name]
	if !ok {
		return nil, nil, false
	}
	r, err := f(args)
	return r, err, true
}

// Arg helpers: app code can pass anything, so every op checks its arguments.

// ArgString returns args[i] as a string or an error naming the position.
func ArgString(args []any, i int) (string, error) {
	if i >= len(args) {
		return "", fmt.Errorf("missing argument %d", i+1)
	}
	s, ok := args[i].(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a string", i+1)
	}
	return s, nil
}

// ArgInt returns args[i] as an int.
func ArgInt(args []any, i int) (int, error) {
	if i >= len(args) {
		return 0, fmt.Errorf("missing argument %d", i+1)
	}
	switch x := args[i].(type) {
	case int:
		return x, nil
	case float64:
		if x != x || x > 1<<53 || x < -(1<<53) {
			return 0, fmt.Errorf("argument %d is out of range", i+1)
		}
		return int(x), nil
	}
	return 0, fmt.Errorf("argument %d must be a number", i+1)
}

// ArgBool returns args[i] as a bool (missing means false).
func ArgBool(args []any, i int) bool {
	if i >= len(args) {
		return false
	}
	b, _ := args[i].(bool)
	return b
}
