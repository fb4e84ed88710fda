// Package bundle turns WorkerCode (many modules, possibly TypeScript, JSX or
// CommonJS) into one self-contained ES module that an engine can compile,
// using esbuild's Go API. Imports resolve only among the given modules and
// Warren's built-in modules; anything else fails here, at load time, with an
// error that names the importing module, the specifier and the fix.
package bundle

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/warrenhq/warren"
)

// ExportsGlobal is the global through which the bundle hands its main module's
// namespace to the runtime.
const ExportsGlobal = "__warren_exports"

// BuiltinGlobal is the global object from which the built-in modules
// (cloudflare:workers and friends) take their exports.
const BuiltinGlobal = "__warren_builtins"

// Output is a bundled Worker.
type Output struct {
	// Source is one ES module with no imports.
	Source string
	// SourceMap maps Source back to the original modules.
	SourceMap string
	// Hash identifies the code (sha256 of its canonical form).
	Hash string
}

// builtins are the modules Warren provides, with the names they export.
var builtins = map[string][]string{
	"cloudflare:workers": {"DurableObject", "WorkerEntrypoint", "RpcTarget", "WorkflowEntrypoint", "env", "waitUntil", "exports"},
	"cloudflare:sockets": {"connect"},
}

const entryName = "<warren-entry>"

// Hash returns the identity of code: equal code gives an equal hash.
func Hash(code *warren.WorkerCode) string {
	h := sha256.New()
	b, _ := json.Marshal(struct {
		M string
		N []string
	}{code.MainModule, code.ModuleNames()})
	h.Write(b)
	for _, n := range code.ModuleNames() {
		m := code.Modules[n]
		fmt.Fprintf(h, "\x00%s\x00%s\x00%d\x00", n, m.Kind, len(m.Text)+len(m.Data))
		h.Write([]byte(m.Text))
		h.Write(m.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Build bundles code. Errors are *warren.Error with CodeBadCode, naming the
// module, line and column.
func Build(code *warren.WorkerCode) (*Output, error) {
	if err := code.Validate(); err != nil {
		return nil, err
	}
	entry := fmt.Sprintf("import * as m from %q;\nglobalThis.%s = m;\n", "./"+code.MainModule, ExportsGlobal)
	var resolveErrs []string
	plugin := api.Plugin{
		Name: "warren-modules",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if a.Kind == api.ResolveEntryPoint {
					return api.OnResolveResult{Path: entryName, Namespace: "warren"}, nil
				}
				if _, ok := builtins[a.Path]; ok {
					return api.OnResolveResult{Path: a.Path, Namespace: "builtin"}, nil
				}
				importer := a.Importer
				if importer == entryName {
					importer = ""
				}
				spec := a.Path
				if strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || strings.HasPrefix(spec, "/") {
					var target string
					if strings.HasPrefix(spec, "/") {
						target = strings.TrimPrefix(path.Clean(spec), "/")
					} else {
						target = path.Join(path.Dir(importer), spec)
					}
					if name, ok := lookup(code, target); ok {
						return api.OnResolveResult{Path: name, Namespace: "warren"}, nil
					}
					msg := fmt.Sprintf("module %q imports %q, but no module named %q is in the code; add it to modules (names are: %s)", importer, spec, target, strings.Join(code.ModuleNames(), ", "))
					resolveErrs = append(resolveErrs, msg)
					return api.OnResolveResult{}, fmt.Errorf("%s", msg)
				}
				var msg string
				switch {
				case strings.HasPrefix(spec, "node:") || nodeBuiltin[spec]:
					msg = fmt.Sprintf("module %q imports %q, a Node.js built-in that Warren does not provide; use the Web API equivalent (fetch, crypto.subtle, TextEncoder, URL) or bundle a browser polyfill", importer, spec)
				case strings.HasPrefix(spec, "cloudflare:"):
					msg = fmt.Sprintf("module %q imports %q, which Warren does not provide; available built-in modules are cloudflare:workers and cloudflare:sockets", importer, spec)
				default:
					msg = fmt.Sprintf("module %q imports %q, an npm package that is not in the code; bundle dependencies before uploading (for example `esbuild --bundle --format=esm --external:cloudflare:*`), or add the package's files to modules and import them by relative path", importer, spec)
				}
				resolveErrs = append(resolveErrs, msg)
				return api.OnResolveResult{}, fmt.Errorf("%s", msg)
			})
			b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "builtin"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				var sb strings.Builder
				fmt.Fprintf(&sb, "const m = globalThis.%s[%q];\n", BuiltinGlobal, a.Path)
				for _, n := range builtins[a.Path] {
					fmt.Fprintf(&sb, "export const %s = m.%s;\n", n, n)
				}
				s := sb.String()
				return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "warren"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				if a.Path == entryName {
					return api.OnLoadResult{Contents: &entry, Loader: api.LoaderJS, ResolveDir: "/"}, nil
				}
				m := code.Modules[a.Path]
				var contents string
				loader := api.LoaderJS
				switch m.Kind {
				case warren.ModuleESM, warren.ModuleCJS:
					contents = m.Text
					loader = loaderFor(a.Path)
				case warren.ModuleText:
					contents = m.Text
					loader = api.LoaderText
				case warren.ModuleJSON:
					contents = m.Text
					if contents == "" {
						contents = "null"
					}
					loader = api.LoaderJSON
				case warren.ModuleData:
					contents = fmt.Sprintf("export default Uint8Array.fromBase64(%q).buffer;\n", base64.StdEncoding.EncodeToString(m.Data))
				}
				return api.OnLoadResult{Contents: &contents, Loader: loader}, nil
			})
		},
	}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{entryName},
		Bundle:      true,
		Write:       false,
		Format:      api.FormatESModule,
		Platform:    api.PlatformNeutral,
		Target:      api.ESNext,
		Outfile:     "worker.js",
		Sourcemap:   api.SourceMapExternal,
		Plugins:     []api.Plugin{plugin},
		LogLevel:    api.LogLevelSilent,
		Charset:     api.CharsetUTF8,
		JSX:         api.JSXTransform,
		MainFields:  []string{"module", "main"},
		Conditions:  []string{"workerd", "worker", "browser"},
		// Top-level await is refused: QuickJS's module evaluation would
		// wait on it without an event loop (a module waiting on a timer or
		// fetch crashed the engine), and workerd refuses it too.
		Supported: map[string]bool{"top-level-await": false},
	})
	if len(res.Errors) > 0 {
		return nil, buildError(res.Errors, resolveErrs)
	}
	out := &Output{Hash: Hash(code)}
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			out.SourceMap = string(f.Contents)
		} else {
			out.Source = string(f.Contents)
		}
	}
	return out, nil
}

func buildError(msgs []api.Message, resolveErrs []string) error {
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Location != nil && msgs[j].Location == nil })
	m := msgs[0]
	e := &warren.Error{Code: warren.CodeBadCode, Message: m.Text}
	if m.Location != nil {
		file := m.Location.File
		file = strings.TrimPrefix(file, "warren:")
		e.Message = fmt.Sprintf("%s:%d:%d: %s", file, m.Location.Line, m.Location.Column+1, m.Text)
		if m.Location.LineText != "" {
			e.Hint = "at: " + strings.TrimSpace(truncate(m.Location.LineText, 160))
		}
	}
	if strings.HasPrefix(m.Text, "Top-level await is not available") {
		e.Message = strings.Replace(e.Message, m.Text, "top-level await is not supported", 1)
		e.Hint = "a module's top-level code must finish without waiting: move the await into fetch(), or into the Durable Object's constructor with ctx.blockConcurrencyWhile()"
	}
	if m.PluginName != "" && len(resolveErrs) > 0 {
		// Our own resolver's message already says what and how to fix it.
		e.Message = resolveErrs[0]
		if m.Location != nil {
			e.Message = fmt.Sprintf("%s:%d:%d: %s", strings.TrimPrefix(m.Location.File, "warren:"), m.Location.Line, m.Location.Column+1, resolveErrs[0])
		}
		e.Hint = ""
	}
	if len(msgs) > 1 {
		e.Message += fmt.Sprintf(" (and %d more errors)", len(msgs)-1)
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func lookup(code *warren.WorkerCode, target string) (string, bool) {
	if _, ok := code.Modules[target]; ok {
		return target, true
	}
	for _, ext := range []string{".js", ".mjs", ".cjs", ".ts", ".mts", ".tsx", ".jsx", ".json", "/index.js", "/index.ts"} {
		if _, ok := code.Modules[target+ext]; ok {
			return target + ext, true
		}
	}
	if strings.HasSuffix(target, ".js") {
		// TypeScript projects import "./x.js" meaning "./x.ts".
		base := strings.TrimSuffix(target, ".js")
		for _, ext := range []string{".ts", ".tsx"} {
			if _, ok := code.Modules[base+ext]; ok {
				return base + ext, true
			}
		}
	}
	return "", false
}

func loaderFor(name string) api.Loader {
	switch path.Ext(name) {
	case ".ts", ".mts", ".cts":
		return api.LoaderTS
	case ".tsx":
		return api.LoaderTSX
	case ".jsx":
		return api.LoaderJSX
	}
	return api.LoaderJS
}

var nodeBuiltin = map[string]bool{
	"fs": true, "path": true, "crypto": true, "http": true, "https": true, "net": true, "os": true,
	"child_process": true, "stream": true, "buffer": true, "events": true, "util": true, "url": true,
	"zlib": true, "tls": true, "dns": true, "process": true, "worker_threads": true, "cluster": true,
}
