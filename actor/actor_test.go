package actor_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/worker"
)

var (
	rtOnce sync.Once
	rt     *worker.Runtime
)

const counterApp = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER)");
    this.boots = (ctx.storage.kv.get("boots") || 0) + 1;
    ctx.storage.kv.put("boots", this.boots);
  }
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/fail") {
      this.ctx.storage.sql.exec("INSERT INTO c VALUES (2, 100)");
      try { this.ctx.storage.transactionSync(() => { this.ctx.storage.sql.exec("UPDATE c SET n = n + 1000 WHERE id = 1"); throw new Error("undo") }) } catch {}
      return new Response("ok");
    }
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1");
    const n = this.ctx.storage.sql.exec("SELECT n FROM c WHERE id = 1").one().n;
    return Response.json({ n, boots: this.boots, id: this.ctx.id.toString().slice(0, 8) });
  }
  add(a, b) { return a + b + this.ctx.storage.sql.exec("SELECT count(*) AS k FROM c").one().k }
  peek() { return this.ctx.storage.sql.exec("SELECT id, n FROM c ORDER BY id").toArray() }
  tryAttach() { try { this.ctx.storage.sql.exec("ATTACH DATABASE 'x' AS y"); return "attached" } catch (e) { return e.message } }
}
export default {
  async fetch(req, env) {
    const name = new URL(req.url).searchParams.get("name") || "a";
    return env.COUNTER.getByName(name).fetch(req);
  },
};
`

func setup(t *testing.T, dir string) (*actor.Namespace, *worker.Instance) {
	t.Helper()
	rtOnce.Do(func() {
		var err error
		rt, err = worker.NewRuntime(&quickjs.Engine{})
		if err != nil {
			t.Fatal(err)
		}
	})
	prog, err := rt.Compile(warren.SingleModule("app.js", counterApp))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := actor.New(rt, prog, actor.Options{Name: "Counter", Class: "Counter", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ns.SetEnv(map[string]any{"COUNTER": ns})
	front, err := rt.NewInstance(prog, worker.Config{Env: map[string]any{"COUNTER": ns}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close(); ns.Close() })
	return ns, front
}

func get(t *testing.T, in *worker.Instance, path string) string {
	t.Helper()
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, httptest.NewRequest("GET", "http://x"+path, nil))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestCounterPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ns, front := setup(t, dir)
	get(t, front, "/?name=a")
	get(t, front, "/?name=a")
	if got := get(t, front, "/?name=a"); !strings.Contains(got, `"n":3`) || !strings.Contains(got, `"boots":1`) {
		t.Fatalf("third = %s", got)
	}
	if got := get(t, front, "/?name=b"); !strings.Contains(got, `"n":1`) {
		t.Fatalf("other object = %s", got)
	}
	idA := ns.IDFromName("a")
	front.Close()
	ns.Close()
	// A new namespace over the same folder: same ids, data intact.
	ns2, front2 := setup(t, dir)
	if ns2.IDFromName("a") != idA {
		t.Fatal("idFromName changed across restart")
	}
	if got := get(t, front2, "/?name=a"); !strings.Contains(got, `"n":4`) || !strings.Contains(got, `"boots":2`) {
		t.Fatalf("after restart = %s", got)
	}
}

func TestRPCAndTransactionRollback(t *testing.T) {
	ns, front := setup(t, t.TempDir())
	get(t, front, "/?name=r")
	get(t, front, "/fail?name=r")
	obj := ns.Object(ns.IDFromName("r"))
	rows, err := obj.Call(context.Background(), "peek", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != "[map[id:1 n:1] map[id:2 n:100]]" {
		t.Fatalf("rows = %v (the transactionSync write must be rolled back, the rest kept)", rows)
	}
	r, err := obj.Call(context.Background(), "add", []any{1, 2})
	if err != nil || r != float64(5) {
		t.Fatalf("add = %v %v", r, err)
	}
	msg, _ := obj.Call(context.Background(), "tryAttach", nil)
	if !strings.Contains(fmt.Sprint(msg), "ATTACH") {
		t.Fatalf("attach: %v", msg)
	}
}

func TestIdsValidated(t *testing.T) {
	dir := t.TempDir()
	ns, _ := setup(t, dir)
	if _, err := ns.ParseID("../../etc"); err == nil {
		t.Fatal("bad id accepted")
	}
	if _, err := ns.Object("zz").Call(context.Background(), "peek", nil); err == nil || !strings.Contains(err.Error(), "64 hexadecimal") {
		t.Fatalf("err = %v", err)
	}
	// An id in upper case is the same object (before, it opened a second
	// database for it).
	id := ns.IDFromName("case")
	if p, err := ns.ParseID(strings.ToUpper(id)); err != nil || p != id {
		t.Fatalf("ParseID(upper) = %q, %v; want %q", p, err, id)
	}
	if _, err := ns.Object(id).Call(context.Background(), "add", []any{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Object(strings.ToUpper(id)).Call(context.Background(), "add", []any{1, 2}); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(dir, "Counter", "*"+id[len(id)-8:]))
	upper, _ := filepath.Glob(filepath.Join(dir, "Counter", "*"+strings.ToUpper(id[len(id)-8:])))
	if len(dirs) != 1 || len(upper) != 0 {
		t.Fatalf("folders for one object: %v %v", dirs, upper)
	}
	a, b := ns.NewUniqueID(), ns.NewUniqueID()
	if a == b || len(a) != 64 {
		t.Fatalf("unique ids %q %q", a, b)
	}
}

func TestConcurrentRequestsShareOneInstancePerID(t *testing.T) {
	_, front := setup(t, t.TempDir())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); get(t, front, "/?name=c") }()
	}
	wg.Wait()
	if got := get(t, front, "/?name=c"); !strings.Contains(got, `"n":21`) || !strings.Contains(got, `"boots":1`) {
		t.Fatalf("after 20 concurrent increments: %s", got)
	}
}

func TestIdleObjectsAreClosedAndReactivated(t *testing.T) {
	rtOnce.Do(func() { rt, _ = worker.NewRuntime(&quickjs.Engine{}) })
	prog, _ := rt.Compile(warren.SingleModule("app.js", counterApp))
	ns, err := actor.New(rt, prog, actor.Options{Name: "Counter", Class: "Counter", Dir: t.TempDir(), IdleTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	obj := ns.Object(ns.IDFromName("idle"))
	resp, err := obj.Fetch(context.Background(), httptest.NewRequest("GET", "http://x/", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for i := 0; i < 200 && ns.Len() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if ns.Len() != 0 {
		t.Fatal("idle object was not closed")
	}
	resp, err = obj.Fetch(context.Background(), httptest.NewRequest("GET", "http://x/", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"n":2`) || !strings.Contains(string(b), `"boots":2`) {
		t.Fatalf("reactivated: %s", b)
	}
}

const gateApp = `
import { DurableObject } from "cloudflare:workers";
export class G extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (i INTEGER PRIMARY KEY, what TEXT)");
    ctx.blockConcurrencyWhile(async () => {
      await scheduler.wait(30);
      this.ready = "yes";
    });
  }
  async fetch(req) {
    const p = new URL(req.url).pathname;
    const log = (w) => this.ctx.storage.sql.exec("INSERT INTO log (what) VALUES (?)", w);
    if (p === "/slow") {
      log("slow:before");
      await scheduler.wait(600);
      log("slow:after");
    } else {
      log("fast");
    }
    return Response.json({ ready: this.ready, log: this.ctx.storage.sql.exec("SELECT what FROM log ORDER BY i").toArray().map(r => r.what) });
  }
}
export default {};
`

// Two requests to one object interleave at an await that is not storage:
// the fast one runs while the slow one waits and sees the slow one's first
// write (committed at the end of its turn). Neither runs before the
// constructor's blockConcurrencyWhile finishes.
func TestGatesInterleaveAtAwait(t *testing.T) {
	rtOnce.Do(func() { rt, _ = worker.NewRuntime(&quickjs.Engine{}) })
	prog, err := rt.Compile(warren.SingleModule("g.js", gateApp))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := actor.New(rt, prog, actor.Options{Name: "G", Class: "G", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	obj := ns.Object(ns.IDFromName("g"))
	fetch := func(path string) string {
		resp, err := obj.Fetch(context.Background(), httptest.NewRequest("GET", "http://x"+path, nil))
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var slow string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); slow = fetch("/slow") }()
	time.Sleep(45 * time.Millisecond) // the slow request is waiting at its await
	fast := fetch("/fast")
	wg.Wait()
	if fast != `{"ready":"yes","log":["slow:before","fast"]}` {
		t.Fatalf("fast = %s", fast)
	}
	if slow != `{"ready":"yes","log":["slow:before","fast","slow:after"]}` {
		t.Fatalf("slow = %s", slow)
	}
}

// Live objects stay under MaxLive: the least recently used idle ones are
// closed, and come back from disk with their data.
func TestMaxLiveEvictsLRU(t *testing.T) {
	rtOnce.Do(func() { rt, _ = worker.NewRuntime(&quickjs.Engine{}) })
	prog, _ := rt.Compile(warren.SingleModule("app.js", counterApp))
	ns, err := actor.New(rt, prog, actor.Options{Name: "Counter", Class: "Counter", Dir: t.TempDir(), MaxLive: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	hit := func(name string) string {
		resp, err := ns.Object(ns.IDFromName(name)).Fetch(context.Background(), httptest.NewRequest("GET", "http://x/", nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for i := 0; i < 10; i++ {
		hit(fmt.Sprint("o", i))
	}
	waitLive := func() {
		for i := 0; i < 200 && ns.Len() > 3; i++ {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitLive()
	if ns.Len() > 3 || ns.Evictions() < 7 {
		t.Fatalf("live %d, evictions %d", ns.Len(), ns.Evictions())
	}
	if got := hit("o0"); !strings.Contains(got, `"n":2`) || !strings.Contains(got, `"boots":2`) {
		t.Fatalf("o0 after eviction: %s", got)
	}
}
