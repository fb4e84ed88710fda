package actor_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/worker"
)

// The supervisor pattern from Cloudflare's documentation: AppRunner keeps
// the app's code in its own KV storage, loads it with the Worker Loader and
// runs the app's class as a facet with a database of its own.
const supervisorApp = `
import { DurableObject } from "cloudflare:workers";
export class AppRunner extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/abort") { this.ctx.facets.abort("app", "new code"); return new Response("aborted"); }
    if (url.pathname === "/delete") { this.ctx.facets.delete("app"); return new Response("deleted"); }
    if (url.pathname === "/wipe") { await this.ctx.storage.deleteAll(); return new Response("wiped " + this.ctx.storage.kv.get("code")); }
    const facet = this.ctx.facets.get("app", async () => {
      const worker = this.#loadDynamicWorker();
      return { class: worker.getDurableObjectClass("App") };
    });
    return await facet.fetch(request);
  }
  setCode(code) {
    this.ctx.storage.kv.put("codeId", crypto.randomUUID());
    this.ctx.storage.kv.put("code", code);
  }
  #loadDynamicWorker() {
    const codeId = this.ctx.storage.kv.get("codeId");
    return this.env.LOADER.get(codeId, async () => ({
      compatibilityDate: "2026-04-01", mainModule: "worker.js",
      modules: { "worker.js": this.ctx.storage.kv.get("code") },
      globalOutbound: null,
    }));
  }
}
export default {};
`

func appCode(version string) string {
	return `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  async fetch(req) {
    const p = new URL(req.url).pathname;
    if (p === "/peek") {
      let parent = "hidden";
      try { this.ctx.storage.sql.exec("SELECT * FROM _cf_KV"); parent = "visible" } catch {}
      return new Response("kv:" + this.ctx.storage.kv.get("code") + " parent:" + parent);
    }
    if (p === "/alarm") {
      try { await this.ctx.storage.setAlarm(Date.now() + 1000); return new Response("set") } catch (e) { return new Response(e.message) }
    }
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (1)");
    const n = this.ctx.storage.sql.exec("SELECT count(*) AS n FROM c").one().n;
    return new Response("` + version + ` " + n);
  }
}`
}

func TestSupervisorWithFacets(t *testing.T) {
	rtOnce.Do(func() { rt, _ = worker.NewRuntime(&quickjs.Engine{}) })
	prog, err := rt.Compile(warren.SingleModule("sup.js", supervisorApp))
	if err != nil {
		t.Fatal(err)
	}
	ld := loader.New(rt, loader.Options{})
	defer ld.Close()
	ns, err := actor.New(rt, prog, actor.Options{Name: "AppRunner", Class: "AppRunner", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	ns.SetEnv(map[string]any{"LOADER": ld.Binding(worker.DenyAll)})
	obj := ns.Object(ns.IDFromName("my-app"))
	get := func(path string) string {
		resp, err := obj.Fetch(context.Background(), httptest.NewRequest("GET", "http://x"+path, nil))
		if err != nil {
			return "error: " + err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if _, err := obj.Call(context.Background(), "setCode", []any{appCode("v1")}); err != nil {
		t.Fatal(err)
	}
	if got := get("/"); got != "v1 1" {
		t.Fatalf("first = %q", got)
	}
	if got := get("/"); got != "v1 2" {
		t.Fatalf("second = %q", got)
	}
	// The facet has its own database: it sees neither the parent's KV nor
	// its runtime tables.
	if got := get("/peek"); got != "kv:undefined parent:hidden" {
		t.Fatalf("peek = %q", got)
	}
	if got := get("/alarm"); !strings.Contains(got, "facet cannot set alarms") {
		t.Fatalf("alarm = %q", got)
	}
	// New code takes effect after abort; the facet's data is kept.
	obj.Call(context.Background(), "setCode", []any{appCode("v2")})
	if got := get("/"); got != "v1 3" {
		t.Fatalf("before abort the running facet keeps its code: %q", got)
	}
	get("/abort")
	if got := get("/"); got != "v2 4" {
		t.Fatalf("after abort = %q", got)
	}
	// delete removes the facet's data.
	get("/delete")
	if got := get("/"); got != "v2 1" {
		t.Fatalf("after delete = %q", got)
	}
	get("/")
	// The parent's deleteAll removes its own storage and its facets'.
	if got := get("/wipe"); got != "wiped undefined" {
		t.Fatalf("wipe = %q", got)
	}
	obj.Call(context.Background(), "setCode", []any{appCode("v3")})
	if got := get("/"); got != "v3 1" {
		t.Fatalf("after deleteAll = %q", got)
	}
}
