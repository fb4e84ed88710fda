package actor_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/worker"
)

const benchApp = `
import { DurableObject } from "cloudflare:workers";
export class Store extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)");
  }
  async fetch(req) {
    if (req.url.endsWith("/nop")) return new Response("ok");
    const path = new URL(req.url).pathname;
    if (path === "/fill") {
      for (let k = 0; k < 1000; k++) this.ctx.storage.sql.exec("INSERT OR REPLACE INTO t VALUES (?, ?)", k, "value " + k);
      return new Response("ok");
    }
    if (path.startsWith("/read/")) {
      const n = Number(path.slice(6));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += this.ctx.storage.sql.exec("SELECT v FROM t WHERE k=?", i % 1000).one().v.length;
      return new Response(String(sum));
    }
    if (path.startsWith("/now/")) {
      const n = Number(path.slice(5));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += performance.now();
      return new Response(String(sum));
    }
    if (path.startsWith("/noop/")) {
      const n = Number(path.slice(6));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.max(i, 3);
      return new Response(String(sum));
    }
    if (path === "/write") {
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO t VALUES (1, 'one')");
      return new Response("ok");
    }
    this.ctx.storage.sql.exec("INSERT INTO t VALUES (1, '1') ON CONFLICT(k) DO UPDATE SET v = v + 1");
    return new Response(String(this.ctx.storage.sql.exec("SELECT v FROM t WHERE k = 1").one().v));
  }
}
export default {
  fetch(req, env) { return env.STORE.getByName(new URL(req.url).pathname).fetch(req); },
};
`

func benchNamespace(b *testing.B) *actor.Namespace {
	rt := testrt.Runtime(b)
	prog, err := rt.Compile(warren.SingleModule("app.js", benchApp))
	if err != nil {
		b.Fatal(err)
	}
	ns, err := actor.New(rt, prog, actor.Options{Name: "Store", Class: "Store", Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ns.SetEnv(map[string]any{"STORE": ns})
	b.Cleanup(ns.Close)
	return ns
}

func benchGet(b *testing.B, ep worker.Fetcher, path string) string {
	resp, err := ep.Fetch(context.Background(), httptest.NewRequest("GET", "http://x"+path, nil))
	if err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
	}
	return string(body)
}

// BenchmarkSQLPointReadJS times ctx.storage.sql.exec("SELECT v FROM t WHERE
// k=?", k).one() from JavaScript: one request runs 10,000 point reads of a
// 1,000-row table; the time of a request with no reads is subtracted.
// ns/exec is the cost of one read as an app sees it.
func BenchmarkSQLPointReadJS(b *testing.B) {
	ns := benchNamespace(b)
	obj := ns.Object(ns.IDFromName("reader"))
	benchGet(b, obj, "/fill")
	benchGet(b, obj, "/read/1000")
	const n = 10000
	var with, without []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		benchGet(b, obj, "/read/0")
		t1 := time.Now()
		benchGet(b, obj, "/read/"+strconv.Itoa(n))
		with = append(with, time.Since(t1))
		without = append(without, t1.Sub(t0))
	}
	b.StopTimer()
	sort.Slice(with, func(i, j int) bool { return with[i] < with[j] })
	sort.Slice(without, func(i, j int) bool { return without[i] < without[j] })
	b.ReportMetric(float64((with[len(with)/2]-without[len(without)/2]).Nanoseconds())/n, "ns/exec")
}

// BenchmarkObjectFetch is one request straight to a live object (no
// project isolate, no HTTP): an SQL upsert and a point read.
func BenchmarkObjectFetch(b *testing.B) {
	ns := benchNamespace(b)
	obj := ns.Object(ns.IDFromName("one"))
	benchGet(b, obj, "/one")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchGet(b, obj, "/one")
	}
}

// BenchmarkFrontFetch is one request through the project's fetch isolate
// to a live object (no HTTP).
func BenchmarkFrontFetch(b *testing.B) {
	ns := benchNamespace(b)
	rt := testrt.Runtime(b)
	prog, _ := rt.Compile(warren.SingleModule("app.js", benchApp))
	front, err := rt.NewInstance(prog, worker.Config{Env: map[string]any{"STORE": ns}})
	if err != nil {
		b.Fatal(err)
	}
	defer front.Close()
	f := worker.FetcherFunc(func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return front.Fetch(ctx, "", worker.Invoke{}, req)
	})
	benchGet(b, f, "/one")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchGet(b, f, "/one")
	}
}

// BenchmarkIdleObjectRSS measures the resident memory of each idle active
// Durable Object (its isolate, its open database, the namespace's record):
// 1,000 objects each serve one request that makes one SQL write, and RSS
// is compared before and after. Measured once whatever b.N is: run it with
// -benchtime 1x. ns/op is the time to create one object and serve its
// request.
func BenchmarkIdleObjectRSS(b *testing.B) {
	const objects = 1000
	ns := benchNamespace(b)
	// One-time costs (engine, SQLite, template file) before the baseline.
	benchGet(b, ns.Object(ns.IDFromName("warm")), "/write")
	b.StopTimer()
	before := testrt.RSS(b)
	b.StartTimer()
	t0 := time.Now()
	for i := 0; i < objects; i++ {
		benchGet(b, ns.Object(ns.IDFromName("o"+strconv.Itoa(i))), "/write")
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	after := testrt.RSS(b)
	if n := ns.Len(); n != objects+1 {
		b.Fatalf("%d objects live, want %d", n, objects+1)
	}
	b.ReportMetric(float64(after-before)/1024/objects, "KiB/object")
	b.ReportMetric(float64(after)/(1<<20), "RSS-MiB")
	b.ReportMetric(float64(elapsed.Nanoseconds())/objects, "ns/op")
}
