package hostile_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// specialCase is a hostile case that is not one app: a malformed deploy, an
// odd app id, an upload the client never finishes.
type specialCase struct {
	name, what, expect string
	run                func(s *server) error
}

// expectResult checks r against an expectation in the corpus syntax.
func expectResult(r result, expect string) error {
	checks, err := parseExpect(expect)
	if err != nil {
		return err
	}
	return r.verify(checks)
}

func deployCase(name, what, ctype string, body func() []byte, expect string) specialCase {
	return specialCase{name: name, what: what, expect: "deploy: " + expect, run: func(s *server) error {
		r := s.admin("PUT", "/api/v1/apps/"+name, ctype, body())
		if err := expectResult(r, expect); err != nil {
			return err
		}
		// A refused deploy creates nothing.
		if strings.HasPrefix(expect, "status=4") {
			if r := s.admin("GET", "/api/v1/apps/"+name, "", nil); r.status != 404 {
				return fmt.Errorf("refused deploy left an app: %d %.200s", r.status, r.body)
			}
		}
		return nil
	}}
}

func bundle(modules map[string]any, main string) func() []byte {
	return func() []byte {
		b, _ := json.Marshal(map[string]any{"mainModule": main, "modules": modules})
		return b
	}
}

const okApp = `export default { fetch() { return new Response("ok") } }`

func specialCases() []specialCase {
	many := map[string]any{}
	for i := 0; i < 1025; i++ {
		many[fmt.Sprintf("m%d.js", i)] = "export const x = 1"
	}
	many["m0.js"] = okApp
	return []specialCase{
		deployCase("deploy-code-17mib", "a bundle whose code is over the 16 MiB code limit (the body under the 24 MiB deploy limit)", "application/json",
			bundle(map[string]any{"index.js": okApp + "\n//" + strings.Repeat("x", 17<<20)}, "index.js"), `status=400 body~"more than the limit of 16777216"`),
		deployCase("deploy-body-25mib", "a deploy body over 24 MiB", "application/javascript",
			func() []byte { return []byte(okApp + "\n//" + strings.Repeat("x", 25<<20)) }, `status=413 body~"deploy size"`),
		deployCase("deploy-bad-json", "a JSON bundle cut short", "application/json",
			func() []byte { return []byte(`{"mainModule": "a.js", "modules": {"a.js": "export`) }, `status=400 body~"not valid"`),
		deployCase("deploy-module-not-string", "a module whose source is a number", "application/json",
			func() []byte { return []byte(`{"mainModule": "a.js", "modules": {"a.js": 42}}`) }, `status=400 body~"bad_request"`),
		deployCase("deploy-module-unknown-type", "a module of an unknown kind (wasm)", "application/json",
			bundle(map[string]any{"a.js": okApp, "b.wasm": map[string]string{"wasm": "AGFzbQEAAAA="}}, "a.js"), `status=400 body~"unknown module key"`),
		deployCase("deploy-main-missing", "a mainModule that is not in the bundle", "application/json",
			bundle(map[string]any{"a.js": okApp}, "../../etc/passwd"), `status=400 body~"is not one of the modules"`),
		deployCase("deploy-non-utf8", "a module that is not UTF-8", "application/javascript",
			func() []byte { return []byte("export default { fetch() { return new Response(\"\xff\xfe\xc0\") } }") }, `status=400 body~"UTF-8"`),
		deployCase("deploy-1025-modules", "a bundle of 1,025 modules", "application/json",
			bundle(many, "m0.js"), `status=400 body~"1024"`),
		deployCase("deploy-missing-import", "an import of a module the bundle lacks", "application/json",
			bundle(map[string]any{"a.js": `import { x } from "./missing.js"; ` + okApp}, "a.js"), `status=400 body~"missing.js"`),
		deployCase("deploy-circular-imports", "modules importing each other in a circle (legal ES: it deploys)", "application/json",
			bundle(map[string]any{"a.js": `import { b } from "./b.js"; export const a = () => "a"; export default { fetch() { return new Response(b()) } }`,
				"b.js": `import { a } from "./a.js"; export const b = () => "b" + a();`}, "a.js"), `status=201`),
		deployCase("deploy-module-path-traversal", "module names with ../ and absolute paths", "application/json",
			bundle(map[string]any{"a.js": okApp, "../../../etc/x.js": "export const x = 1"}, "a.js"), `status=400 body~"module name"`),
		deployCase("deploy-top-level-loop", "top-level code that never ends", "application/json",
			func() []byte {
				b, _ := json.Marshal(map[string]any{"mainModule": "a.js", "modules": map[string]any{"a.js": "for (;;) {}\n" + okApp}, "limits": map[string]any{"cpuMs": 50}})
				return b
			}, `status=400 body~"CPU time"`),
		deployCase("deploy-top-level-await-forever", "a top-level await that never settles", "application/json",
			bundle(map[string]any{"a.js": "await new Promise(() => {});\n" + okApp}, "a.js"), `status=400 body~"bad_code"`),
		deployCase("deploy-negative-limits", "limits that would switch quotas off (negative, huge)", "application/json",
			func() []byte {
				return []byte(`{"mainModule": "a.js", "modules": {"a.js": "export default { fetch() { return new Response('x') } }"}, "limits": {"memoryMB": -1, "cpuMs": 1e12}}`)
			}, `status=400 body~"limits"`),
		{name: "app-id-traversal", what: "app ids that climb out of the apps folder (..%2f, %2e%2e, encoded slashes)", expect: "400 invalid app id or 404; nothing created outside the data folder", run: func(s *server) error {
			before := listDir(filepath.Dir(s.dir))
			for _, p := range []string{"/apps/..%2f..%2fsupervisor.sqlite/", "/apps/%2e%2e/x", "/apps/..%2F/", "/apps/.%2e/"} {
				r := do("GET", s.base+p, nil, nil)
				if r.status != 400 && r.status != 404 {
					return fmt.Errorf("GET %s: %d %.200s", p, r.status, r.body)
				}
			}
			for _, id := range []string{"..%2f..%2fescape", "%2e%2e", "a%2fb", "..%5cx"} {
				r := s.admin("PUT", "/api/v1/apps/"+id, "application/javascript", []byte(okApp))
				if r.status != 400 && r.status != 404 || r.status == 400 && !strings.Contains(r.body, "invalid app id") {
					return fmt.Errorf("PUT %s: %d %.200s", id, r.status, r.body)
				}
			}
			if after := listDir(filepath.Dir(s.dir)); after != before {
				return fmt.Errorf("files appeared next to the data folder: %s -> %s", before, after)
			}
			return nil
		}},
		{name: "app-id-odd", what: "app ids with unicode, NUL, spaces, upper case, 64+ characters", expect: `400 "invalid app id" for each; a 63-character id deploys`, run: func(s *server) error {
			for _, id := range []string{"%C3%BC", "caf%C3%A9", "a%00b", "a%20b", "ABC", strings.Repeat("a", 64), strings.Repeat("a", 300), "-a", "a.b", "%E2%80%AE"} {
				if r := s.admin("PUT", "/api/v1/apps/"+id, "application/javascript", []byte(okApp)); r.status != 400 || !strings.Contains(r.body, "invalid app id") {
					return fmt.Errorf("PUT %s: %d %.200s", id, r.status, r.body)
				}
				if r := do("GET", s.base+"/apps/"+id+"/", nil, nil); r.status != 400 || !strings.Contains(r.body, "invalid app id") {
					return fmt.Errorf("GET %s: %d %.200s", id, r.status, r.body)
				}
			}
			long := strings.Repeat("a", 63)
			if r := s.admin("PUT", "/api/v1/apps/"+long, "application/javascript", []byte(okApp)); r.status != 201 {
				return fmt.Errorf("63 characters: %d %.200s", r.status, r.body)
			}
			if r := do("GET", s.base+"/apps/"+long+"/", nil, nil); r.status != 200 || r.body != "ok" {
				return fmt.Errorf("63 characters: %d %.200s", r.status, r.body)
			}
			return nil
		}},
		{name: "upload-unbounded", what: "a request body that never ends, sent as fast as possible", expect: `status=413 body~"request body"`, run: func(s *server) error {
			if r := s.deployJSON("upload-unbounded", map[string]any{"mainModule": "a.js", "modules": map[string]string{"a.js": `export default { async fetch(req) { const b = await req.arrayBuffer(); return new Response(String(b.byteLength)) } }`}}); r.status != 201 {
				return fmt.Errorf("deploy: %d %s", r.status, r.body)
			}
			r := do("POST", s.base+"/apps/upload-unbounded/", nil, endless{})
			return expectResult(r, `status=413 body~"request body"`)
		}},
		{name: "upload-slow", what: "a request body trickled one byte every 50 ms, never finished", expect: "the server ends the request at its read timeout; the same app serves other requests meanwhile", run: func(s *server) error {
			if r := s.deployJSON("upload-slow", map[string]any{"mainModule": "a.js", "modules": map[string]string{"a.js": `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject { async fetch(req) { if (req.method === "GET") return new Response("still serving"); const t = await req.text(); return new Response("got " + t.length) } }`}}); r.status != 201 {
				return fmt.Errorf("deploy: %d %s", r.status, r.body)
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() { done <- do("POST", s.base+"/apps/upload-slow/", nil, &trickle{}) }()
			time.Sleep(300 * time.Millisecond)
			if r := do("GET", s.base+"/apps/upload-slow/", nil, nil); r.status != 200 || r.body != "still serving" {
				return fmt.Errorf("the app during the upload: %d %q", r.status, r.body)
			}
			select {
			case r := <-done:
				if r.err == nil && r.status == 200 {
					return fmt.Errorf("the endless upload got 200 %q", r.body)
				}
			case <-time.After(readTimeout + 20*time.Second):
				return fmt.Errorf("the slow upload was not ended %v after it began", time.Since(start))
			}
			return nil
		}},
		{name: "request-headers-huge", what: "a request with 100 KB of headers", expect: "status=431", run: func(s *server) error {
			h := http.Header{}
			for i := 0; i < 100; i++ {
				h.Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 1000))
			}
			return expectResult(do("GET", s.base+"/apps/bystander/get", h, nil), "status=431")
		}},
	}
}

// endless is a request body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// trickle is a request body that sends a byte every 50 ms, for 30 s at most.
type trickle struct{ n int }

func (t *trickle) Read(p []byte) (int, error) {
	if t.n > 600 {
		return 0, io.EOF
	}
	time.Sleep(50 * time.Millisecond)
	t.n++
	p[0] = 'x'
	return 1, nil
}

func listDir(dir string) string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}
