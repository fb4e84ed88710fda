package warren_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warrenhq/warren"
)

// workerCodeSeeds are bundles as clients send them (POST /api/v1/run, the
// loader), valid and malformed.
var workerCodeSeeds = []string{
	`{"mainModule":"index.js","modules":{"index.js":"export default { fetch() { return new Response('hi') } }"}}`,
	`{"compatibilityDate":"2025-01-01","mainModule":"src/index.ts","modules":{"src/index.ts":{"js":"import {a} from './lib/a.js'; export default {}"},"src/lib/a.js":"export const a = 1"}}`,
	`{"mainModule":"m.cjs","modules":{"m.cjs":{"cjs":"module.exports = {}"},"t.txt":{"text":"héllo\u2028"},"d.bin":{"data":"AAEC/w=="},"c.json":{"json":{"a":[1,2.5e300,null]}}}}`,
	`{"modules":{"only.js":"export default {}"}}`,
	`{"mainModule":"x.js","modules":{}}`,
	`{"mainModule":"x.js","modules":{"y.js":""}}`,
	`{"mainModule":"../x.js","modules":{"../x.js":""}}`,
	`{"mainModule":"/abs.js","modules":{"/abs.js":""}}`,
	`{"mainModule":"a//b.js","modules":{"a//b.js":""}}`,
	`{"mainModule":"a\\b.js","modules":{"a\\b.js":""}}`,
	`{"mainModule":"a\u0000.js","modules":{"a\u0000.js":""}}`,
	`{"mainModule":"ünï/cödé.js","modules":{"ünï/cödé.js":"export default {}"}}`,
	`{"mainModule":"a.js","modules":{"a.js":{"js":"x","cjs":"y"}}}`,
	`{"mainModule":"a.js","modules":{"a.js":{"wasm":"AA=="}}}`,
	`{"mainModule":"a.js","modules":{"a.js":{"data":"not base64!"}}}`,
	`{"mainModule":"a.js","modules":{"a.js":{"json":null}}}`,
	`{"mainModule":"a.js","modules":{"a.js":{"json":  [1 , 2]  }}}`,
	`{"mainModule":"a.js","modules":{"a.js":{"js":"a","js":"b"}}}`,
	`{"mainModule":"a.js","modules":{"a.js":12}}`,
	`{"mainModule":1,"modules":[]}`,
	"{\"mainModule\":\"a.js\",\"modules\":{\"a.js\":\"\xff\xfe bad utf-8\"}}",
	`{"mainModule":"a.js","modules":{"a.js":"\ud800 lone surrogate"}}`,
	`{"mainModule":"` + strings.Repeat("a/", 300) + `x.js","modules":{"` + strings.Repeat("a/", 300) + `x.js":""}}`,
	`null`, `[]`, `"x"`, `{`, ``,
}

// FuzzWorkerCode parses arbitrary bytes as the JSON form of WorkerCode and
// validates it. Nothing may panic; code that validates must keep its
// promises (the main module exists, every name is valid, kinds are known,
// texts are UTF-8) and must survive a JSON round trip unchanged and still
// valid, since the loader and the run API pass code along as JSON.
func FuzzWorkerCode(f *testing.F) {
	for _, s := range workerCodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c warren.WorkerCode
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		err := c.Validate()
		if err != nil {
			var we *warren.Error
			if !errors.As(err, &we) || we.Code != warren.CodeBadCode || we.Message == "" {
				t.Fatalf("Validate error is not a bad_code *warren.Error: %#v", err)
			}
			return
		}
		if _, ok := c.Modules[c.MainModule]; !ok {
			t.Fatalf("valid code's mainModule %q is not a module", c.MainModule)
		}
		for name, m := range c.Modules {
			if err := warren.ValidModuleName(name); err != nil {
				t.Fatalf("valid code has an invalid module name %q", name)
			}
			if !utf8.ValidString(m.Text) {
				t.Fatalf("valid code has a module %q that is not UTF-8", name)
			}
		}
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatalf("Marshal of valid code: %v", err)
		}
		var c2 warren.WorkerCode
		if err := json.Unmarshal(b, &c2); err != nil {
			t.Fatalf("Unmarshal(Marshal(code)) = %v\n%s", err, b)
		}
		if err := c2.Validate(); err != nil {
			t.Fatalf("code is not valid after a JSON round trip: %v\n%s", err, b)
		}
		if c2.MainModule != c.MainModule || c2.CompatibilityDate != c.CompatibilityDate || len(c2.Modules) != len(c.Modules) {
			t.Fatalf("round trip changed the code:\n%+v\n%+v", c, c2)
		}
		for name, m := range c.Modules {
			m2, ok := c2.Modules[name]
			if !ok || m2.Kind != m.Kind || !bytes.Equal(m2.Data, m.Data) || !sameText(m.Kind, m.Text, m2.Text) {
				t.Fatalf("round trip changed module %q: %+v -> %+v", name, m, m2)
			}
		}
	})
}

// sameText compares module texts; JSON modules compare as compacted JSON.
func sameText(k warren.ModuleKind, a, b string) bool {
	if k != warren.ModuleJSON {
		return a == b
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, []byte(a)) != nil || json.Compact(&cb, []byte(b)) != nil {
		return false
	}
	return ca.String() == cb.String()
}

// FuzzModuleName checks ValidModuleName on arbitrary strings: a name it
// accepts is a clean relative path of non-empty segments, none "." or
// "..", without backslashes or control characters, and is valid UTF-8 (so
// it survives JSON, JavaScript strings and esbuild paths unchanged).
func FuzzModuleName(f *testing.F) {
	for _, s := range []string{
		"index.js", "src/lib/util.ts", "a.b.c.mjs", "ünï/cödé.js", "日本語.js", "emoji-🙂.js",
		"", ".", "..", "../a.js", "a/../b.js", "./a.js", "a/./b.js", "/a.js", "a//b.js", "a/", "a\\b.js",
		"a\x00b", "a\nb", "a\x7fb", "\xff.js", "a\xc3.js", "\xed\xa0\x80.js", strings.Repeat("x", 513),
		"cloudflare:workers", "node:fs", "a?b.js", "a#b.js", "%2e%2e/a.js", "...", ".../a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if warren.ValidModuleName(name) != nil {
			return
		}
		if !utf8.ValidString(name) {
			t.Fatalf("accepted a name that is not UTF-8: %q", name)
		}
		if len(name) > 512 || path.Clean(name) != name || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\") {
			t.Fatalf("accepted a name that is not a clean relative path: %q", name)
		}
		for _, seg := range strings.Split(name, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted a name with segment %q: %q", seg, name)
			}
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted a name with a control character: %q", name)
			}
		}
		var back string
		b, _ := json.Marshal(name)
		if json.Unmarshal(b, &back) != nil || back != name {
			t.Fatalf("name does not survive JSON: %q -> %q", name, back)
		}
	})
}
