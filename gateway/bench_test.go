package gateway_test

// End-to-end benchmark of POST /api/v1/run over real loopback HTTP.
// Figures and the commands that reproduce them are in docs/BENCHMARKS.md.
// This benchmark reports numbers only; it never asserts on timing.

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/internal/testrt"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/worker"
)

const benchRunModule = `export default {
  async fetch(req) {
    const url = new URL(req.url);
    return new Response("hello " + url.pathname, { headers: { "content-type": "text/plain" } });
  },
};
`

// BenchmarkRunEndToEnd POSTs the same small JavaScript module to
// /api/v1/run each iteration and reads the reply. Each run is a one-shot
// Worker: a new isolate is made and discarded per request; the compiled
// Program is cached by the runtime after the first request (same code).
func BenchmarkRunEndToEnd(b *testing.B) {
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		b.Fatal(err)
	}
	ld := loader.New(rt, loader.Options{})
	defer ld.Close()
	ts := serve(b, &gateway.Server{Loader: ld, RunAPI: gateway.RunAPIOpen})
	client := ts.Client()
	url := ts.URL + "/api/v1/run"

	post := func() string {
		resp, err := client.Post(url, "application/javascript", strings.NewReader(benchRunModule))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		return string(body)
	}
	if got := post(); got != "hello /" {
		b.Fatalf("body = %q", got)
	}

	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		post()
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	testrt.ReportLatencies(b, lat)
}
