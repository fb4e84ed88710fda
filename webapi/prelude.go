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
	"strconv"
	"strings"
	"sync"
)

//go:embed jssrc/*.js
var jsFiles embed.FS

// lazyFiles are the Web API families that are not part of the core prelude.
// Each is compiled to its own bytecode (see Families) and evaluated in an
// isolate only when its code may need it: at start-up when the app's code
// mentions one of its globals, otherwise on the first touch of one of those
// globals (then from source, through indirect eval). A family runs in its own
// function scope: its top-level names are private to it, it sees the core's
// top-level names through __core, and what it gives to the rest of the
// prelude goes through _shared (00_core.js).
var lazyFiles = map[string]bool{
	"jssrc/10_encoding.js":      true,
	"jssrc/20_events.js":        true,
	"jssrc/30_url.js":           true,
	"jssrc/40_streams.js":       true,
	"jssrc/50_blob_formdata.js": true,
	"jssrc/70_crypto.js":        true,
}

var (
	globalRe   = regexp.MustCompile(`(?m)^\s*defineGlobal\("([A-Za-z_$][A-Za-z0-9_$]*)"`)
	topLevelRe = regexp.MustCompile(`(?m)^(?:const|let|var|function\*?|class|async function)\s+([A-Za-z_$][A-Za-z0-9_$]*)`)
)

// stem turns "jssrc/50_blob_formdata.js" into "blob_formdata".
func stem(name string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "jssrc/"), ".js")
	if i := strings.IndexByte(s, '_'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// Family is a lazily evaluated group of Web APIs.
type Family struct {
	// Name is the family's name ("streams", "url", ...).
	Name string
	// Source is a function expression, (function (__core) {...}): the
	// family's body as a function of the core's names.
	Source string
	// Boot is a script that registers Source with the core at start-up.
	Boot string
	// Globals are the globals the family defines.
	Globals []string
	// Uses are the other families whose globals the family's code mentions.
	Uses []string
}

var (
	preludeOnce sync.Once
	prelude     string
	families    []Family
)

func build() {
	names, _ := fs.Glob(jsFiles, "jssrc/*.js")
	sort.Strings(names)
	var core, lazy strings.Builder
	var coreNames []string
	core.WriteString("(function () {\n\"use strict\";\n")
	for _, n := range names {
		src, _ := jsFiles.ReadFile(n)
		if !lazyFiles[n] {
			fmt.Fprintf(&core, "// ---- %s ----\n", n)
			core.Write(src)
			core.WriteString("\n")
			for _, m := range topLevelRe.FindAllStringSubmatch(string(src), -1) {
				coreNames = append(coreNames, m[1])
			}
			continue
		}
		f := Family{Name: stem(n)}
		for _, m := range globalRe.FindAllStringSubmatch(string(src), -1) {
			f.Globals = append(f.Globals, m[1])
			fmt.Fprintf(&lazy, "defineLazyGlobal(%q, () => __load(%q));\n", m[1], f.Name)
		}
		f.Source = string(src)
		families = append(families, f)
	}
	// Each family receives the core names it mentions (most are
	// primordials, see 00_core.js), and __core holds those some family
	// uses.
	uses := make([][]string, len(families))
	var exported []string
	for _, n := range coreNames {
		used := false
		for i, f := range families {
			if Mentions(f.Source, []string{n}) {
				uses[i] = append(uses[i], n)
				used = true
			}
		}
		if used {
			exported = append(exported, n)
		}
	}
	core.WriteString("// ---- lazily evaluated families ----\n")
	core.WriteString(lazy.String())
	fmt.Fprintf(&core, "const __core = { %s };\n", strings.Join(exported, ", "))
	core.WriteString("})();\n")
	prelude = core.String()
	for i := range families {
		f := &families[i]
		for _, o := range families {
			if o.Name != f.Name && Mentions(f.Source, o.Globals) {
				f.Uses = append(f.Uses, o.Name)
			}
		}
		destructure := "const { " + strings.Join(uses[i], ", ") + " } = __core;\n"
		f.Source = "(function (__core) {\n\"use strict\";\n" + destructure + f.Source + "\n})"
		f.Boot = "__warren_family_register(" + strconv.Quote(f.Name) + ", " + f.Source + ");\n"
	}
}

// Prelude returns the core prelude script: everything every isolate runs.
func Prelude() string {
	preludeOnce.Do(build)
	return prelude
}

// Families returns the lazily evaluated Web API families, in the order in
// which they must be evaluated.
func Families() []Family {
	preludeOnce.Do(build)
	return families
}

// Mentions reports whether source contains one of names as a whole word.
func Mentions(source string, names []string) bool {
	for _, n := range names {
		for i := 0; ; {
			j := strings.Index(source[i:], n)
			if j < 0 {
				break
			}
			j += i
			before := j == 0 || !isIdent(source[j-1])
			after := j+len(n) == len(source) || !isIdent(source[j+len(n)])
			if before && after {
				return true
			}
			i = j + len(n)
		}
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func init() {
	register("prelude.source", func(args []any) (any, error) {
		name, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		for _, f := range Families() {
			if f.Name == name {
				return f.Source, nil
			}
		}
		return nil, fmt.Errorf("no Web API family %q", name)
	})
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

// Lookup returns the stateless operation name, if there is one.
func Lookup(name string) (OpFunc, bool) {
	f, ok := ops[name]
	return f, ok
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
