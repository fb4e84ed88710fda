package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const wranglerJSONC = `{
  // A Worker project as Cloudflare users have it.
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "counter-app",
  "main": "src/index.ts",
  "compatibility_date": "2026-04-01",
  "observability": { "enabled": true }, /* not supported: reported, not fatal */
  "vars": { "GREETING": "hello", },
  "durable_objects": {
    "bindings": [ { "name": "COUNTER", "class_name": "Counter" }, ],
  },
  "migrations": [ { "tag": "v1", "new_sqlite_classes": ["Counter"] } ],
}
`

const indexTS = `import { DurableObject } from "cloudflare:workers";
import { label } from "./label";

interface Env { COUNTER: DurableObjectNamespace<Counter>; GREETING: string }

export class Counter extends DurableObject<Env> {
  increment(): number {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (1)");
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM c").one().n as number;
  }
}

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const name = new URL(req.url).pathname.slice(1) || "root";
    const n = await env.COUNTER.getByName(name).increment();
    // ctx.exports gives the same namespace without a binding.
    if (name === "via-exports") return new Response("exports " + await (ctx as any).exports.Counter.getByName(name).increment());
    return new Response(label(env.GREETING, name, n));
  },
};
`

const labelTS = `export function label(g: string, name: string, n: number): string { return g + " " + name + " #" + n }`

func writeProject(t *testing.T) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "wrangler.jsonc"), []byte(wranglerJSONC), 0o644)
	os.WriteFile(filepath.Join(dir, "src", "index.ts"), []byte(indexTS), 0o644)
	os.WriteFile(filepath.Join(dir, "src", "label.ts"), []byte(labelTS), 0o644)
	return dir
}

// serveProject runs `warren serve --config config` on the data folder
// data; it returns the base URL, the server's log and stop.
func serveProject(t *testing.T, config, data string) (string, *syncBuffer, func() error) {
	t.Helper()
	logs := &syncBuffer{}
	url, stop := runServe(t, io.Discard, logs, "--listen", "127.0.0.1:0", "--data", data, "--config", config)
	return url, logs, stop
}

func body(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestServeWranglerProject(t *testing.T) {
	dir := writeProject(t)
	data := t.TempDir()
	base, logs, stop := serveProject(t, filepath.Join(dir, "wrangler.jsonc"), data)
	if got := body(t, base+"/alice"); got != "hello alice #1" {
		t.Fatalf("first = %q", got)
	}
	if got := body(t, base+"/alice"); got != "hello alice #2" {
		t.Fatalf("second = %q", got)
	}
	if got := body(t, base+"/bob"); got != "hello bob #1" {
		t.Fatalf("bob = %q", got)
	}
	if got := body(t, base+"/via-exports"); got != "exports 2" {
		t.Fatalf("ctx.exports.Counter = %q", got)
	}
	stop()
	if !strings.Contains(logs.String(), `"key":"observability"`) {
		t.Errorf("the unsupported key was not reported: %s", logs.String())
	}
	// Restart on the same data: the object's SQLite data is still there.
	base, _, stop = serveProject(t, filepath.Join(dir, "wrangler.jsonc"), data)
	defer stop()
	if got := body(t, base+"/alice"); got != "hello alice #3" {
		t.Fatalf("after restart = %q", got)
	}
}

func TestServeWranglerProjectErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		`{"main": "x.js", "durable_objects": {"bindings": [{"name": "A", "class_name": "A"}]}}`: "migration",
		`{"compatibility_date": "2026-01-01"}`:                                                  `"main" is missing`,
		`{"main": "missing.js"}`:                                                                "main module",
		`{"main": "x.js", /* unterminated`:                                                      "unterminated",
	}
	os.WriteFile(filepath.Join(dir, "x.js"), []byte("export default {}"), 0o644)
	for cfg, want := range cases {
		p := filepath.Join(dir, "wrangler.jsonc")
		os.WriteFile(p, []byte(cfg), 0o644)
		c := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard}
		c.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data", t.TempDir(), "--config", p})
		err := c.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", cfg, err, want)
		}
	}
}

// The example project in the repository runs, with its config given by a
// relative path as a newcomer types it.
func TestServeExampleProject(t *testing.T) {
	base, _, stop := serveProject(t, filepath.Join("..", "..", "examples", "counter", "wrangler.jsonc"), t.TempDir())
	defer stop()
	if got := body(t, base+"/alice"); got != `{"greeting":"hello","name":"alice","count":1}` {
		t.Fatalf("got %q", got)
	}
	if got := body(t, base+"/alice"); got != `{"greeting":"hello","name":"alice","count":2}` {
		t.Fatalf("got %q", got)
	}
}

// Cloudflare's supervisor sample (blog post of 2026-04-13, condensed in
// shared/reference/workers-api.md) under warren serve --config, unmodified
// apart from AGENT_CODE being defined.
const supervisorSample = `import { DurableObject } from "cloudflare:workers";
const AGENT_CODE = ` + "`" + `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(request) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counter (value INTEGER)");
    let row = this.ctx.storage.sql.exec("SELECT value FROM counter").toArray()[0];
    let value = row ? row.value + 1 : 1;
    this.ctx.storage.sql.exec("DELETE FROM counter");
    this.ctx.storage.sql.exec("INSERT INTO counter VALUES (?)", value);
    return new Response("You've visited this page " + value + " times.");
  }
}` + "`" + `;
export class AppRunner extends DurableObject {
  async fetch(request) {
    let facet = this.ctx.facets.get("app", async () => {
      let worker = this.#loadDynamicWorker();
      return { class: worker.getDurableObjectClass("App") };
    });
    return await facet.fetch(request);
  }
  setCode(code) {
    this.ctx.storage.kv.put("codeId", crypto.randomUUID());
    this.ctx.storage.kv.put("code", code);
  }
  #loadDynamicWorker() {
    let codeId = this.ctx.storage.kv.get("codeId");
    return this.env.LOADER.get(codeId, async () => ({
      compatibilityDate: "2026-04-01", mainModule: "worker.js",
      modules: { "worker.js": this.ctx.storage.kv.get("code") },
      globalOutbound: null }));
  }
}
export default { async fetch(req, env, ctx) {
  let obj = ctx.exports.AppRunner.getByName("my-app");
  await obj.setCode(AGENT_CODE);
  return await obj.fetch(req);
} }
`

// serveSupervisor serves a project whose main module, worker.js, is src: a
// supervisor with a Durable Object class AppRunner and a Worker Loader
// binding LOADER. It returns the base URL.
func serveSupervisor(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "worker.js"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(dir, "wrangler.jsonc"), []byte(`{ "compatibility_date": "2026-04-01", "main": "worker.js",
  "migrations": [ { "tag": "v1", "new_sqlite_classes": ["AppRunner"] } ],
  "worker_loaders": [ { "binding": "LOADER" } ] }`), 0o644)
	base, _, _ := serveProject(t, filepath.Join(dir, "wrangler.jsonc"), t.TempDir())
	return base
}

func TestServeSupervisorSample(t *testing.T) {
	base := serveSupervisor(t, supervisorSample)
	for i := 1; i <= 3; i++ {
		if got, want := body(t, base+"/"), fmt.Sprintf("You've visited this page %d times.", i); got != want {
			t.Fatalf("request %d: got %q, want %q", i, got, want)
		}
	}
}

// The documented supervisor pattern with a deploy route: new code takes
// effect after ctx.facets.abort(), the facet's data is kept, and the app
// cannot see the supervisor's own storage.
const swapSupervisor = `import { DurableObject } from "cloudflare:workers";
export class AppRunner extends DurableObject {
  async fetch(request) {
    if (request.method === "PUT") {
      this.ctx.storage.kv.put("codeId", crypto.randomUUID());
      this.ctx.storage.kv.put("code", await request.text());
      this.ctx.facets.abort("app", "new code");
      return new Response("deployed");
    }
    const facet = this.ctx.facets.get("app", async () => {
      const codeId = this.ctx.storage.kv.get("codeId");
      const worker = this.env.LOADER.get(codeId, async () => ({
        compatibilityDate: "2026-04-01", mainModule: "app.js",
        modules: { "app.js": this.ctx.storage.kv.get("code") }, globalOutbound: null }));
      return { class: worker.getDurableObjectClass("App") };
    });
    return facet.fetch(request);
  }
}
export default { fetch(req, env, ctx) { return ctx.exports.AppRunner.getByName(new URL(req.url).hostname).fetch(req); } }
`

func TestServeSupervisorCodeSwap(t *testing.T) {
	base := serveSupervisor(t, swapSupervisor)
	put := func(code string) {
		req, _ := http.NewRequest("PUT", base+"/", strings.NewReader(code))
		if _, body := send(t, req); body != "deployed" {
			t.Fatalf("deploy: %s", body)
		}
	}
	put(`import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (1)");
    return new Response("v1 " + this.ctx.storage.sql.exec("SELECT count(*) AS n FROM c").one().n);
  }
}`)
	for i := 1; i <= 2; i++ {
		if got := body(t, base+"/"); got != fmt.Sprintf("v1 %d", i) {
			t.Fatalf("v1 request %d: %q", i, got)
		}
	}
	put(`import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch() {
    const n = this.ctx.storage.sql.exec("SELECT count(*) AS n FROM c").one().n;
    const peek = this.ctx.storage.kv.get("code") ?? "nothing";
    const tables = this.ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\_cf\_%' ESCAPE '\\'").toArray().map(r => r.name).join(",");
    return new Response("v2 " + n + " kv:" + peek + " tables:" + tables);
  }
}`)
	if got := body(t, base+"/"); got != "v2 2 kv:nothing tables:c" {
		t.Fatalf("after swap: %q", got)
	}
}
