package bundle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/bundle"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/worker"
)

func runtime(tb testing.TB) *worker.Runtime { return testrt.Runtime(tb) }

func esm(s string) warren.Module  { return warren.Module{Kind: warren.ModuleESM, Text: s} }
func cjs(s string) warren.Module  { return warren.Module{Kind: warren.ModuleCJS, Text: s} }
func text(s string) warren.Module { return warren.Module{Kind: warren.ModuleText, Text: s} }

func code(main string, mods map[string]warren.Module) *warren.WorkerCode {
	return &warren.WorkerCode{MainModule: main, Modules: mods}
}

// run bundles and runs code, and returns the body of its answer to GET /.
func run(t *testing.T, c *warren.WorkerCode) string {
	t.Helper()
	p, err := runtime(t).Compile(c)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	in, err := runtime(t).NewInstance(p, worker.Config{})
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	defer in.Close()
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "http://example.com/", nil))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func build(t *testing.T, c *warren.WorkerCode) *bundle.Output {
	t.Helper()
	out, err := bundle.Build(c)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return out
}

// buildErr builds code that must fail and returns the *warren.Error.
func buildErr(t *testing.T, c *warren.WorkerCode) *warren.Error {
	t.Helper()
	out, err := bundle.Build(c)
	if err == nil {
		t.Fatalf("Build succeeded; want an error\n%s", out.Source)
	}
	var we *warren.Error
	if !errors.As(err, &we) {
		t.Fatalf("error %T %v is not a *warren.Error", err, err)
	}
	if we.Code != warren.CodeBadCode {
		t.Fatalf("error code %q, want %q (%v)", we.Code, warren.CodeBadCode, we)
	}
	return we
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s %q does not contain %q", what, s, sub)
		}
	}
}

const respond = "export default { fetch() { return new Response(JSON.stringify(result)); } };\n"

func TestBuildOutputIsImportFree(t *testing.T) {
	out := build(t, code("index.js", map[string]warren.Module{
		"index.js": esm(`import { x } from "./lib.js"; import { WorkerEntrypoint } from "cloudflare:workers"; export default { fetch() { return new Response(x) } }; export class E extends WorkerEntrypoint {}`),
		"lib.js":   esm(`export const x = "lib";`),
	}))
	if regexp.MustCompile(`(?m)^\s*import\b|\brequire\(`).MatchString(out.Source) {
		t.Fatalf("bundle still imports:\n%s", out.Source)
	}
	contains(t, "bundle", out.Source, bundle.ExportsGlobal, bundle.BuiltinGlobal)
	if out.SourceMap == "" || len(out.Hash) != 64 {
		t.Fatalf("SourceMap %d bytes, Hash %q", len(out.SourceMap), out.Hash)
	}
}

func TestModuleKinds(t *testing.T) {
	got := run(t, code("index.js", map[string]warren.Module{
		"index.js": esm(`
import lib from "./lib.cjs";
import words from "./words.txt";
import data from "./blob.bin";
import cfg from "./config.json";
import empty from "./empty.json";
import { named } from "./named.js";
const bytes = new Uint8Array(data);
const result = [lib.f(), lib.kind, words, data instanceof ArrayBuffer, data.byteLength, [...bytes], cfg, empty, named];
` + respond),
		"lib.cjs":     cjs(`const u = require("./util.cjs"); const { y } = require("./sub/y.js"); module.exports = { f: () => u.x + y, kind: typeof module };`),
		"util.cjs":    cjs(`exports.x = 40;`),
		"sub/y.js":    cjs(`exports.y = 2;`),
		"words.txt":   text("héllo\nworld ${not a template}"),
		"blob.bin":    {Kind: warren.ModuleData, Data: []byte{0, 1, 254, 255}},
		"config.json": {Kind: warren.ModuleJSON, Text: `{"a": [1, 2], "b": {"c": null}}`},
		"empty.json":  {Kind: warren.ModuleJSON},
		"named.js":    esm(`export const named = "esm";`),
	}))
	want := `[42,"object","héllo\nworld ${not a template}",true,4,[0,1,254,255],{"a":[1,2],"b":{"c":null}},null,"esm"]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestCJSMainModule(t *testing.T) {
	got := run(t, code("worker.cjs", map[string]warren.Module{
		"worker.cjs": cjs(`const h = require("./h.cjs"); module.exports = { fetch() { return new Response(h.greet("cjs")); } };`),
		"h.cjs":      cjs(`exports.greet = (n) => "hello " + n;`),
	}))
	if got != "hello cjs" {
		t.Fatalf("got %q", got)
	}
}

func TestTypeScript(t *testing.T) {
	got := run(t, code("src/index.ts", map[string]warren.Module{
		"src/index.ts": esm(`
import { add, Color } from "./math.js";       // "./x.js" means x.ts
import { label } from "../shared/label";     // "../" and no extension
import type { Shape } from "./types";
interface Point { x: number; y: number }
const p: Point = { x: 1, y: 2 };
const s: Shape = { kind: "sq" };
const result: unknown[] = [add(p.x, p.y), Color.Blue, label(s.kind), (p as any).z ?? "none"];
export default { fetch(): Response { return new Response(JSON.stringify(result)); } } satisfies ExportedHandler;
type ExportedHandler = { fetch(): Response };
`),
		"src/math.ts":     esm(`export function add(a: number, b: number): number { return a + b; } export enum Color { Red, Blue = 5 }`),
		"src/types.ts":    esm(`export type Shape = { kind: string };`),
		"shared/label.ts": esm(`export const label = (k: string): string => "<" + k + ">";`),
	}))
	if want := `[3,5,"<sq>","none"]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestTSX(t *testing.T) {
	got := run(t, code("index.tsx", map[string]warren.Module{
		"index.tsx": esm(`
import React from "./react.js";
type Props = { name: string };
const Hello = ({ name }: Props) => <p class="x">hi {name}</p>;
const result = <Hello name="tsx" />;
` + respond),
		"react.js": esm(`export default { createElement(tag, props, ...children) {
  if (typeof tag === "function") return tag({ ...props, children });
  return { tag, props, children };
} };`),
	}))
	if want := `{"tag":"p","props":{"class":"x"},"children":["hi ","tsx"]}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestJSXDefaultsToReactCreateElement: JSX compiles with esbuild's defaults,
// React.createElement and React.Fragment, which the module must bring into
// scope (Warren provides no React); a @jsx pragma changes the factory.
func TestJSXDefaultsToReactCreateElement(t *testing.T) {
	out := build(t, code("index.jsx", map[string]warren.Module{
		"index.jsx": esm(`export const el = <div id="a"><>frag</></div>; export default {};`),
	}))
	contains(t, "bundle", out.Source, `React.createElement("div"`, "React.Fragment")

	got := run(t, code("index.jsx", map[string]warren.Module{
		"index.jsx": esm(`/** @jsx h */
const h = (tag, props, ...kids) => [tag, props, ...kids];
const result = <b x="1">y</b>;
` + respond),
	}))
	if want := `["b",{"x":"1"},"y"]`; got != want {
		t.Fatalf("pragma: got %s, want %s", got, want)
	}

	// Without React in scope, rendering fails at run time with a
	// ReferenceError naming React.
	p, err := runtime(t).Compile(code("index.jsx", map[string]warren.Module{
		"index.jsx": esm(`export default { fetch() { return new Response(String(<i/>)); } };`),
	}))
	if err != nil {
		t.Fatal(err)
	}
	in, err := runtime(t).NewInstance(p, worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	_, err = in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "http://example.com/", nil))
	if err == nil || !strings.Contains(err.Error(), "React") {
		t.Fatalf("err = %v, want a ReferenceError naming React", err)
	}
}

func TestRelativeImports(t *testing.T) {
	got := run(t, code("a/b/index.js", map[string]warren.Module{
		"a/b/index.js":     esm(`import { up } from "../up.js"; import { top } from "../../top"; import { idx } from "./dir"; import { abs } from "/a/abs.js"; const result = [up, top, idx, abs];` + "\n" + respond),
		"a/up.js":          esm(`export const up = "up";`),
		"top.mjs":          esm(`export const top = "top";`),
		"a/b/dir/index.ts": esm(`export const idx: string = "index";`),
		"a/abs.js":         esm(`export const abs = "abs";`),
	}))
	if want := `["up","top","index","abs"]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// "./x.js" means "./x.tsx" too; an existing x.js wins over x.ts.
	got = run(t, code("index.ts", map[string]warren.Module{
		"index.ts": esm(`import { a } from "./a.js"; import { b } from "./b.js"; const result = [a, b];` + "\n" + respond),
		"a.tsx":    esm(`export const a = "tsx";`),
		"b.js":     esm(`export const b = "js";`),
		"b.ts":     esm(`export const b: string = "ts";`),
	}))
	if want := `["tsx","js"]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestUnresolvedRelativeImport(t *testing.T) {
	e := buildErr(t, code("index.js", map[string]warren.Module{
		"index.js":     esm(`import { x } from "./lib/helper.js"; export default { x };`),
		"lib/other.js": esm(`export const y = 1;`),
	}))
	contains(t, "message", e.Message, `"index.js"`, `"./lib/helper.js"`, `"lib/helper.js"`, "add it to modules", "index.js, lib/other.js")
	// The position of the import.
	contains(t, "message", e.Message, "index.js:1:")

	e = buildErr(t, code("src/main.js", map[string]warren.Module{
		"src/main.js": esm(`import "./ok.js";`),
		"src/ok.js":   esm(`import "../../outside.js";`),
	}))
	contains(t, "message", e.Message, `"src/ok.js"`, `"../../outside.js"`)
}

func TestBareImportError(t *testing.T) {
	e := buildErr(t, code("index.js", map[string]warren.Module{
		"index.js": esm(`import "./util.js"; export default {};`),
		"util.js":  esm(`import _ from "lodash"; export default _;`),
	}))
	contains(t, "message", e.Message, `"util.js"`, `"lodash"`, "npm package", "bundle dependencies", "esbuild --bundle")
	// require() of a package in CommonJS gets the same error.
	e = buildErr(t, code("index.cjs", map[string]warren.Module{
		"index.cjs": cjs(`const x = require("left-pad"); module.exports = {};`),
	}))
	contains(t, "message", e.Message, `"index.cjs"`, `"left-pad"`, "npm package")
}

func TestNodeBuiltinError(t *testing.T) {
	for _, spec := range []string{"node:fs", "fs", "node:crypto", "path", "node:buffer"} {
		t.Run(spec, func(t *testing.T) {
			e := buildErr(t, code("index.js", map[string]warren.Module{
				"index.js": esm(fmt.Sprintf(`import * as m from %q; export default { m };`, spec)),
			}))
			contains(t, "message", e.Message, `"index.js"`, `"`+spec+`"`, "Node.js built-in", "Web API equivalent")
		})
	}
	e := buildErr(t, code("index.js", map[string]warren.Module{
		"index.js": esm(`import { x } from "cloudflare:nope"; export default {};`),
	}))
	contains(t, "message", e.Message, `"cloudflare:nope"`, "cloudflare:workers", "cloudflare:sockets")
}

func TestBuiltinModules(t *testing.T) {
	got := run(t, code("index.js", map[string]warren.Module{
		"index.js": esm(`import { WorkerEntrypoint, DurableObject, RpcTarget, env } from "cloudflare:workers";
import { connect } from "cloudflare:sockets";
const result = [typeof WorkerEntrypoint, typeof DurableObject, typeof RpcTarget, typeof env, typeof connect];
` + respond),
	}))
	if want := `["function","function","function","object","function"]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

var posRe = regexp.MustCompile(`^([\w./]+):(\d+):(\d+): `)

func TestSyntaxErrorPosition(t *testing.T) {
	cases := []struct {
		name, module, src string
		line, col         int
	}{
		{"js", "lib/bad.js", "export const a = 1;\n\nconst b = ;\n", 3, 11},
		{"ts", "bad.ts", "let x: number = 1;\nfunction f(a: string {\n}\n", 2, 22},
		{"unterminated", "u.js", "const s = \"abc\nconst t = 2;", 1, 15}, // esbuild points at the line's end
		{"cjs", "c.cjs", "module.exports = {\n  a: 1,\n  b: )\n};", 3, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mods := map[string]warren.Module{tc.module: esm(tc.src)}
			if strings.HasSuffix(tc.module, ".cjs") {
				mods[tc.module] = cjs(tc.src)
			}
			main := tc.module
			if tc.module != "bad.ts" && tc.module != "u.js" && tc.module != "c.cjs" {
				main = "index.js"
				mods["index.js"] = esm(`import "./lib/bad.js"; export default {};`)
			}
			e := buildErr(t, code(main, mods))
			m := posRe.FindStringSubmatch(e.Message)
			want := fmt.Sprintf("%s:%d:%d", tc.module, tc.line, tc.col)
			if m == nil || fmt.Sprintf("%s:%s:%s", m[1], m[2], m[3]) != want {
				t.Fatalf("message %q does not start with %s", e.Message, want)
			}
		})
	}
}

func TestHash(t *testing.T) {
	mk := func(order []string, texts map[string]string) *warren.WorkerCode {
		mods := make(map[string]warren.Module)
		for _, n := range order {
			mods[n] = esm(texts[n])
		}
		return code("index.js", mods)
	}
	texts := map[string]string{"index.js": `import "./a.js"; export default {};`, "a.js": `export const a = 1;`, "b.js": `export const b = 2;`}
	h1 := bundle.Hash(mk([]string{"index.js", "a.js", "b.js"}, texts))
	for i := 0; i < 20; i++ {
		if h := bundle.Hash(mk([]string{"b.js", "a.js", "index.js"}, texts)); h != h1 {
			t.Fatalf("hash depends on map order: %s vs %s", h, h1)
		}
	}
	if out := build(t, mk([]string{"a.js", "index.js", "b.js"}, texts)); out.Hash != h1 {
		t.Fatalf("Output.Hash %s != Hash %s", out.Hash, h1)
	}
	differs := map[string]*warren.WorkerCode{
		"text changed":                   mk([]string{"index.js", "a.js", "b.js"}, map[string]string{"index.js": texts["index.js"], "a.js": `export const a = 2;`, "b.js": texts["b.js"]}),
		"texts swapped between modules":  mk([]string{"index.js", "a.js", "b.js"}, map[string]string{"index.js": texts["index.js"], "a.js": texts["b.js"], "b.js": texts["a.js"]}),
		"module renamed":                 code("index.js", map[string]warren.Module{"index.js": esm(texts["index.js"]), "a.js": esm(texts["a.js"]), "c.js": esm(texts["b.js"])}),
		"kind changed":                   code("index.js", map[string]warren.Module{"index.js": esm(texts["index.js"]), "a.js": esm(texts["a.js"]), "b.js": text(texts["b.js"])}),
		"main changed":                   &warren.WorkerCode{MainModule: "a.js", Modules: mk([]string{"index.js", "a.js", "b.js"}, texts).Modules},
		"text moved across the boundary": mk([]string{"index.js", "a.js", "b.js"}, map[string]string{"index.js": texts["index.js"], "a.js": `export const a = 1;e`, "b.js": `xport const b = 2;`}),
	}
	seen := map[string]string{h1: "original"}
	for name, c := range differs {
		h := bundle.Hash(c)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s: same hash as %s", name, prev)
		}
		seen[h] = name
	}
	// Data modules: the bytes count.
	d1 := bundle.Hash(code("index.js", map[string]warren.Module{"index.js": esm("x"), "d.bin": {Kind: warren.ModuleData, Data: []byte{1}}}))
	d2 := bundle.Hash(code("index.js", map[string]warren.Module{"index.js": esm("x"), "d.bin": {Kind: warren.ModuleData, Data: []byte{2}}}))
	if d1 == d2 {
		t.Error("data modules with different bytes have the same hash")
	}
}

func TestSourceMapMapStack(t *testing.T) {
	src := `interface Big { a: number; b: string; c: boolean }
type Alias = Big | null;

export function work(v: Alias): string {
  const n: number = v ? v.a : 0;
  return "MARKER-" + n;
}
export default { fetch() { return new Response(work(null)); } };
`
	out := build(t, code("src/app.ts", map[string]warren.Module{"src/app.ts": esm(src)}))
	sm, err := bundle.ParseSourceMap(out.SourceMap)
	if err != nil {
		t.Fatal(err)
	}
	genLines := strings.Split(out.Source, "\n")
	gl, gc := -1, -1
	for i, l := range genLines {
		if c := strings.Index(l, `"MARKER-"`); c >= 0 {
			gl, gc = i+1, c+1
			break
		}
	}
	if gl < 0 {
		t.Fatalf("marker not in bundle:\n%s", out.Source)
	}
	origCol := strings.Index(strings.Split(src, "\n")[5], `"MARKER-"`) + 1
	stack := fmt.Sprintf("Error: x\n    at work (<eval>:%d:%d)\n    at prelude (<eval>:12:3)\n    at <eval>:%d", gl+bundle.LineOffset, gc, gl+bundle.LineOffset)
	got := sm.MapStack(stack)
	want := fmt.Sprintf("Error: x\n    at work (src/app.ts:6:%d)\n    at prelude (warren:runtime)\n    at src/app.ts:6:", origCol)
	if !strings.HasPrefix(got, want) {
		t.Fatalf("MapStack:\n%s\nwant prefix:\n%s", got, want)
	}
	// A padded source has its first real line at LineOffset+1.
	if p := bundle.Pad("x"); strings.Count(p, "\n") != bundle.LineOffset || !strings.HasSuffix(p, "x") {
		t.Fatalf("Pad added %d lines", strings.Count(p, "\n"))
	}
	// Positions past the map fall back to the bundle's own line.
	if got := sm.MapStack(fmt.Sprintf("<eval>:%d:1", bundle.LineOffset+len(genLines)+50)); !strings.HasPrefix(got, "bundle:") {
		t.Fatalf("unmapped position = %q", got)
	}
}

// TestRuntimeErrorMapsToTSLine: an exception thrown by TypeScript code is
// reported at its TypeScript line.
func TestRuntimeErrorMapsToTSLine(t *testing.T) {
	p, err := runtime(t).Compile(code("index.ts", map[string]warren.Module{"index.ts": esm(`type T = { a: number };
const t: T = { a: 1 };

function fail(x: T): never {
  throw new TypeError("failed at " + x.a);
}
export default { fetch(): Response { return fail(t); } };
`)}))
	if err != nil {
		t.Fatal(err)
	}
	in, err := runtime(t).NewInstance(p, worker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	_, err = in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "http://example.com/", nil))
	if err == nil {
		t.Fatal("no error")
	}
	var we *warren.Error
	msg := err.Error()
	if errors.As(err, &we) {
		msg += "\n" + we.Stack
	}
	contains(t, "error", msg, "TypeError: failed at 1", "index.ts:5:")
}

func TestInvalidModuleNames(t *testing.T) {
	for _, name := range []string{"", "/abs.js", "../up.js", "..", ".", "a/../b.js", "a/./b.js", "a//b.js", `a\b.js`, "a\x00.js", "tab\t.js", "dir/", strings.Repeat("x", 513)} {
		if err := warren.ValidModuleName(name); err == nil {
			t.Errorf("ValidModuleName(%q) = nil", name)
		}
		e := buildErr(t, code("index.js", map[string]warren.Module{"index.js": esm(`export default {}`), name: esm(`export {}`)}))
		if !strings.Contains(e.Message, "not valid") {
			t.Errorf("Build with module %q: %v", name, e)
		}
	}
	for _, name := range []string{"index.js", "lib/util.ts", "a-b_c.d.mjs", "日本.js", "..x.js", "x..js", strings.Repeat("y", 512)} {
		if err := warren.ValidModuleName(name); err != nil {
			t.Errorf("ValidModuleName(%q) = %v", name, err)
		}
	}
}

// TestInvalidUTF8Module: a text or source module that is not UTF-8 is refused
// (esbuild's text loader used to hang on one).
func TestInvalidUTF8Module(t *testing.T) {
	for _, k := range []warren.ModuleKind{warren.ModuleText, warren.ModuleESM} {
		done := make(chan *warren.Error, 1)
		go func() {
			_, err := bundle.Build(code("1", map[string]warren.Module{"1": {Kind: k, Text: "\x11I\xa0\x0e\xc8_\xe3\xa1"}}))
			var we *warren.Error
			errors.As(err, &we)
			done <- we
		}()
		select {
		case we := <-done:
			if we == nil || !strings.Contains(we.Message, "UTF-8") {
				t.Fatalf("kind %s: error %v, want one about UTF-8", k, we)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("kind %s: Build did not return on invalid UTF-8", k)
		}
	}
}

func TestInvalidCode(t *testing.T) {
	buildErr(t, nil)
	buildErr(t, &warren.WorkerCode{})
	buildErr(t, code("missing.js", map[string]warren.Module{"index.js": esm("")}))
	buildErr(t, code("", map[string]warren.Module{"a.js": esm(""), "b.js": esm("")}))
	buildErr(t, code("index.js", map[string]warren.Module{"index.js": {Kind: "wasm", Text: ""}}))
	buildErr(t, code("index.js", map[string]warren.Module{"index.js": esm(""), "c.json": {Kind: warren.ModuleJSON, Text: "{bad"}}))
}

func FuzzBuild(f *testing.F) {
	f.Add("index.js", `export default { fetch() { return new Response("hi") } }`, "lib.js", `export const x = 1;`, uint8(0))
	f.Add("index.ts", `import { x } from "./lib.js"; const y: number = x; export default { y };`, "lib.ts", `export const x: number = 1;`, uint8(0))
	f.Add("a.tsx", `import R from "./r"; export const e = <div>{1}</div>;`, "r.js", `export default {createElement(){}}`, uint8(0))
	f.Add("m.cjs", `module.exports = require("./n.cjs");`, "n.cjs", `exports.a = 1;`, uint8(1))
	f.Add("index.js", `import t from "./t.txt"; import j from "./d.json"; export default {t, j};`, "t.txt", `text`, uint8(2))
	f.Add("index.js", `import j from "./d.json";`, "d.json", `{"a":1}`, uint8(4))
	f.Add("index.js", `import d from "./d.bin";`, "d.bin", "\x00\x01", uint8(3))
	f.Add("index.js", `import "fs"; import "node:os"; import "lodash"; import "cloudflare:x";`, "../bad.js", "", uint8(0))
	f.Add("index.js", "const = ;\n\u2028`${", "/abs", "}", uint8(0))
	// esbuild's text loader never returned on invalid UTF-8 (now refused by Validate).
	f.Add("1", "export default{}A", "1", "\x11I\xa0\x0e\xc8_\xe3\xa1", uint8(2))
	kinds := []warren.ModuleKind{warren.ModuleESM, warren.ModuleCJS, warren.ModuleText, warren.ModuleData, warren.ModuleJSON, "bogus"}
	f.Fuzz(func(t *testing.T, mainName, mainText, otherName, otherText string, kind uint8) {
		if len(mainText)+len(otherText) > 1<<16 {
			return
		}
		k := kinds[int(kind)%len(kinds)]
		other := warren.Module{Kind: k, Text: otherText}
		if k == warren.ModuleData {
			other = warren.Module{Kind: k, Data: []byte(otherText)}
		}
		c := &warren.WorkerCode{MainModule: mainName, Modules: map[string]warren.Module{mainName: esm(mainText), otherName: other}}
		out, err := bundle.Build(c)
		if err != nil {
			var we *warren.Error
			if !errors.As(err, &we) || we.Message == "" {
				t.Fatalf("Build error %T %v is not a *warren.Error with a message", err, err)
			}
			return
		}
		if out.Source == "" || out.Hash != bundle.Hash(c) {
			t.Fatalf("Build succeeded with Source %q, Hash %q", out.Source, out.Hash)
		}
		if _, err := bundle.ParseSourceMap(out.SourceMap); err != nil {
			t.Fatalf("source map: %v", err)
		}
	})
}
