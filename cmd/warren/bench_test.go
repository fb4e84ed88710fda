package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

const counterProject = `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER)"); }
  async fetch() {
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1");
    return new Response(String(this.ctx.storage.sql.exec("SELECT n FROM c WHERE id = 1").one().n));
  }
}
export default { fetch(req, env) { return env.COUNTER.getByName(new URL(req.url).pathname).fetch(req); } };
`

func benchServer(b *testing.B) string {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "index.js"), []byte(counterProject), 0o644)
	os.WriteFile(filepath.Join(dir, "wrangler.jsonc"), []byte(`{"name": "bench", "main": "src/index.js",
	  "durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]},
	  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Counter"]}]}`), 0o644)
	args := benchIsolation("--listen", "127.0.0.1:0", "--config", filepath.Join(dir, "wrangler.jsonc"))
	return startServeWith(b, b.TempDir(), io.Discard, args...)
}

// benchIsolation returns args with --isolation WARREN_BENCH_ISOLATION when
// that is set (else the server's default: a host process on Linux).
func benchIsolation(args ...string) []string {
	if iso := os.Getenv("WARREN_BENCH_ISOLATION"); iso != "" {
		args = append(args, "--isolation", iso)
	}
	return args
}

func hit(b *testing.B, client *http.Client, url string) {
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkCounterOneAtATime: one client increments one Durable Object's
// SQLite counter through HTTP on loopback (workerd: ~1.4 ms, ~640 req/s).
func BenchmarkCounterOneAtATime(b *testing.B) {
	base := benchServer(b)
	client := &http.Client{}
	hit(b, client, base+"/one")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		hit(b, client, base+"/one")
		lat = append(lat, time.Since(t0))
	}
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
}

// BenchmarkCounter16Clients64Objects: 16 clients over 64 objects
// (workerd: ~665 req/s).
func BenchmarkCounter16Clients64Objects(b *testing.B) {
	base := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for o := 0; o < 64; o++ {
		hit(b, client, fmt.Sprintf("%s/o%d", base, o))
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N / 16
	if per == 0 {
		per = 1
	}
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				hit(b, client, fmt.Sprintf("%s/o%d", base, (c*per+i)%64))
			}
		}(c)
	}
	wg.Wait()
	b.ReportMetric(float64(per*16)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkCreate1000Objects: 1,000 new objects created and touched once,
// one at a time (workerd: ~15 s for 1,000 apps).
func BenchmarkCreate1000Objects(b *testing.B) {
	base := benchServer(b)
	client := &http.Client{}
	hit(b, client, base+"/warm")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		for o := 0; o < 1000; o++ {
			hit(b, client, fmt.Sprintf("%s/n%d-%d", base, i, o))
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/1000")
	}
}
