package worker_test

// Benchmarks for isolate start-up, cold load, warm fetch and idle memory.
// Figures and the commands that reproduce them are in docs/BENCHMARKS.md.
// These benchmarks report numbers only; they never assert on timing.

import (
	"context"
	"io"
	"net/http/httptest"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/worker"
)

const benchSmallWorker = `export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    return new Response(JSON.stringify({ path: url.pathname, ok: true }), {
      headers: { "content-type": "application/json" },
    });
  },
};
`

const benchTrivialWorker = `export default { fetch() { return new Response("ok") } }`

// benchFetch sends one GET to in and reads the whole body.
func benchFetch(tb testing.TB, in *worker.Instance, path string) string {
	req := httptest.NewRequest("GET", "http://example.com"+path, nil)
	resp, err := in.Fetch(context.Background(), "", worker.Invoke{}, req)
	if err != nil {
		tb.Fatalf("Fetch %s: %v", path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return string(b)
}

// BenchmarkNewInstanceFromBytecode measures making an Instance from a cached
// Program (prelude + module bytecode evaluation, loop start) and closing it.
func BenchmarkNewInstanceFromBytecode(b *testing.B) {
	rt := runtime(b)
	prog := compile(b, rt, benchSmallWorker)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		in, err := rt.NewInstance(prog, worker.Config{})
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	testrt.ReportLatencies(b, lat)
}

// benchTSModule is a realistic ~200-line TypeScript Worker: a router class,
// interfaces, JSON handling and an HTML template. %d makes it unique.
const benchTSModule = `// Bench Worker: a small TypeScript application.
interface Env {
  APP_NAME?: string;
  GREETING?: string;
}

interface Todo {
  id: number;
  title: string;
  done: boolean;
  tags: string[];
  createdAt: string;
}

interface ApiError {
  error: string;
  detail?: string;
  status: number;
}

interface RouteContext {
  req: Request;
  env: Env;
  url: URL;
  params: Record<string, string>;
}

type Handler = (c: RouteContext) => Response | Promise<Response>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

class Router {
  private routes: Route[] = [];
  private notFound: Handler = (c) => json<ApiError>({ error: "not found", detail: c.url.pathname, status: 404 }, 404);

  add(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const source = path
      .split("/")
      .map((seg) => {
        if (seg.startsWith(":")) {
          keys.push(seg.slice(1));
          return "([^/]+)";
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    this.routes.push({ method, pattern: new RegExp("^" + source + "/?$"), keys, handler });
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.add("GET", path, handler);
  }

  post(path: string, handler: Handler): this {
    return this.add("POST", path, handler);
  }

  delete(path: string, handler: Handler): this {
    return this.add("DELETE", path, handler);
  }

  fallback(handler: Handler): this {
    this.notFound = handler;
    return this;
  }

  async handle(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    for (const r of this.routes) {
      if (r.method !== req.method) continue;
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      try {
        return await r.handler({ req, env, url, params });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        return json<ApiError>({ error: "internal", detail: msg, status: 500 }, 500);
      }
    }
    return this.notFound({ req, env, url, params: {} });
  }
}

function json<T>(body: T, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function escapeHTML(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

class TodoStore {
  private items = new Map<number, Todo>();
  private next = 1;

  constructor(seed: Array<Pick<Todo, "title" | "tags">>) {
    for (const s of seed) this.create(s.title, s.tags);
  }

  create(title: string, tags: string[] = []): Todo {
    const todo: Todo = { id: this.next++, title, done: false, tags, createdAt: new Date(0).toISOString() };
    this.items.set(todo.id, todo);
    return todo;
  }

  list(filter?: { done?: boolean; tag?: string }): Todo[] {
    let out = [...this.items.values()];
    if (filter?.done !== undefined) out = out.filter((t) => t.done === filter.done);
    if (filter?.tag) out = out.filter((t) => t.tags.includes(filter.tag!));
    return out.sort((a, b) => a.id - b.id);
  }

  get(id: number): Todo | undefined {
    return this.items.get(id);
  }

  toggle(id: number): Todo | undefined {
    const t = this.items.get(id);
    if (t) t.done = !t.done;
    return t;
  }

  remove(id: number): boolean {
    return this.items.delete(id);
  }
}

const store = new TodoStore([
  { title: "Write benchmarks", tags: ["work"] },
  { title: "Read the profile", tags: ["work", "perf"] },
  { title: "Buy milk", tags: ["home"] },
]);

function renderPage(title: string, todos: Todo[], greeting: string): string {
  const rows = todos
    .map(
      (t) => ` + "`" + `
      <li class="${t.done ? "done" : "open"}" data-id="${t.id}">
        <input type="checkbox" ${t.done ? "checked" : ""} />
        <span>${escapeHTML(t.title)}</span>
        ${t.tags.map((g) => ` + "`" + `<em>#${escapeHTML(g)}</em>` + "`" + `).join(" ")}
      </li>` + "`" + `,
    )
    .join("");
  return ` + "`" + `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHTML(title)}</title>
    <style>
      body { font-family: system-ui, sans-serif; margin: 2rem; }
      li.done span { text-decoration: line-through; color: #888; }
      em { color: #06c; font-style: normal; margin-left: .25rem; }
    </style>
  </head>
  <body>
    <h1>${escapeHTML(greeting)}</h1>
    <p>${todos.length} item(s), ${todos.filter((t) => t.done).length} done.</p>
    <ul>${rows}
    </ul>
  </body>
</html>` + "`" + `;
}

async function readTodoInput(req: Request): Promise<{ title: string; tags: string[] }> {
  const body = (await req.json()) as Partial<{ title: unknown; tags: unknown }>;
  if (typeof body.title !== "string" || body.title.trim() === "") throw new Error("title must be a non-empty string");
  const tags = Array.isArray(body.tags) ? body.tags.filter((x): x is string => typeof x === "string") : [];
  return { title: body.title.trim(), tags };
}

const router = new Router()
  .get("/", (c) =>
    new Response(renderPage(c.env.APP_NAME ?? "Todos", store.list(), c.env.GREETING ?? "Hello from a Worker"), {
      headers: { "content-type": "text/html; charset=utf-8" },
    }),
  )
  .get("/api/todos", (c) => {
    const done = c.url.searchParams.get("done");
    const tag = c.url.searchParams.get("tag") ?? undefined;
    return json({ items: store.list({ done: done === null ? undefined : done === "true", tag }) });
  })
  .get("/api/todos/:id", (c) => {
    const t = store.get(Number(c.params.id));
    return t ? json(t) : json<ApiError>({ error: "no such todo", status: 404 }, 404);
  })
  .post("/api/todos", async (c) => json(store.create(...Object.values(await readTodoInput(c.req)) as [string, string[]]), 201))
  .post("/api/todos/:id/toggle", (c) => {
    const t = store.toggle(Number(c.params.id));
    return t ? json(t) : json<ApiError>({ error: "no such todo", status: 404 }, 404);
  })
  .delete("/api/todos/:id", (c) => (store.remove(Number(c.params.id)) ? new Response(null, { status: 204 }) : json<ApiError>({ error: "no such todo", status: 404 }, 404)));

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    return router.handle(req, env);
  },
};
// unique: %d
`

// benchTSSource returns the 200-line TypeScript module made unique by n.
func benchTSSource(n int) string {
	return strings.Replace(benchTSModule, "%d", strconv.Itoa(n), 1)
}

// BenchmarkColdLoad200Lines measures a cold load of a ~200-line TypeScript
// Worker: Runtime.Compile on code the program cache has never seen (esbuild
// transform + bundle, bytecode compile), NewInstance, one fetch of "/"
// (the HTML page), then Close.
func BenchmarkColdLoad200Lines(b *testing.B) {
	rt := runtime(b)
	// A process-unique base so that repeated runs (-count) never hit the
	// program cache left over from an earlier run.
	base := int(time.Now().UnixNano())
	if n := strings.Count(benchTSSource(0), "\n"); n < 180 || n > 240 {
		b.Fatalf("module has %d lines, want ~200", n)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		src := benchTSSource(base + i)
		t0 := time.Now()
		prog, err := rt.Compile(warren.SingleModule("index.ts", src))
		if err != nil {
			b.Fatal(err)
		}
		in, err := rt.NewInstance(prog, worker.Config{})
		if err != nil {
			b.Fatal(err)
		}
		body := benchFetch(b, in, "/")
		lat = append(lat, time.Since(t0))
		if !strings.Contains(body, "Write benchmarks") {
			b.Fatalf("unexpected body: %.200s", body)
		}
		in.Close()
	}
	b.StopTimer()
	testrt.ReportLatencies(b, lat)
}

// BenchmarkWarmFetch measures one Fetch (and reading the body) on a warm
// instance of a trivial Worker, sequentially from one goroutine.
func BenchmarkWarmFetch(b *testing.B) {
	in := newInstance(b, benchTrivialWorker, worker.Config{})
	if got := benchFetch(b, in, "/"); got != "ok" {
		b.Fatalf("body = %q", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		benchFetch(b, in, "/")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// benchIdleIsolates is how many idle isolates BenchmarkIdleIsolateRSS keeps.
const benchIdleIsolates = 1000

// BenchmarkIdleIsolateRSS measures the resident memory each idle isolate
// costs: it creates 1,000 instances of a small Worker, each of which has
// served one request, and compares RSS before and after. The measurement is
// done once per benchmark invocation whatever b.N is; run it with
// -benchtime 1x. ns/op is the time to create and warm one isolate.
func BenchmarkIdleIsolateRSS(b *testing.B) {
	rt := runtime(b)
	prog := compile(b, rt, benchSmallWorker)
	// Warm up one-time costs (engine globals, Go runtime, http machinery)
	// with a throwaway instance before the baseline.
	warm, err := rt.NewInstance(prog, worker.Config{})
	if err != nil {
		b.Fatal(err)
	}
	benchFetch(b, warm, "/warm")
	warm.Close()

	b.StopTimer()
	before := testrt.RSS(b)
	var ms0 goruntime.MemStats
	goruntime.ReadMemStats(&ms0)
	b.StartTimer()
	t0 := time.Now()
	ins := make([]*worker.Instance, 0, benchIdleIsolates)
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	for i := range benchIdleIsolates {
		in, err := rt.NewInstance(prog, worker.Config{})
		if err != nil {
			b.Fatalf("instance %d: %v", i, err)
		}
		ins = append(ins, in)
		benchFetch(b, in, "/"+strconv.Itoa(i))
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	after := testrt.RSS(b)
	var ms1 goruntime.MemStats
	goruntime.ReadMemStats(&ms1)
	goruntime.KeepAlive(ins)

	per := float64(after-before) / 1024 / benchIdleIsolates
	b.ReportMetric(per, "KiB/isolate")
	b.ReportMetric(float64(after)/(1<<20), "RSS-MiB")
	b.ReportMetric(float64(int64(ms1.HeapInuse)-int64(ms0.HeapInuse))/1024/benchIdleIsolates, "GoHeapKiB/isolate")
	b.ReportMetric(float64(elapsed.Nanoseconds())/benchIdleIsolates, "ns/op")
}

// BenchmarkNewInstanceRequestPath measures what a request waits for when an
// isolate must be made while the server is not saturated: NewInstance with
// the pool of pre-booted VMs refilled between iterations (the pause and
// Close are outside the timed part).
func BenchmarkNewInstanceRequestPath(b *testing.B) {
	rt := runtime(b)
	prog := compile(b, rt, benchSmallWorker)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	for range b.N {
		time.Sleep(5 * time.Millisecond) // let the pool refill
		t0 := time.Now()
		in, err := rt.NewInstance(prog, worker.Config{})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		in.Close()
	}
	testrt.ReportLatencies(b, lat)
}
