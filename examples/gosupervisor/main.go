// Command gosupervisor is a supervisor written in Go on top of Warren's
// supervisor package: it deploys one app at start, serves every app at
// /{id}/..., refuses requests without an X-Tenant header, gives paying
// tenants a higher request quota, and prints each request's usage as a
// JSON line (where a billing system would take it).
//
//	go run ./examples/gosupervisor -listen 127.0.0.1:8090
//	curl -H 'X-Tenant: acme' localhost:8090/hello/anything
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// helloApp is deployed at start as app "hello".
const helloApp = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  fetch(req) {
    const n = this.ctx.storage.kv.get("n") ?? 0;
    this.ctx.storage.kv.put("n", n + 1);
    return new Response("hello #" + (n + 1) + " at " + new URL(req.url).pathname);
  }
}`

// New returns the supervisor and its HTTP handler; usage lines go to out.
func New(dir string, out *json.Encoder) (*supervisor.Supervisor, http.Handler, error) {
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		return nil, nil, err
	}
	sup, err := supervisor.New(supervisor.Options{
		Runtime:  rt,
		Dir:      dir,
		Defaults: supervisor.DefaultQuotas,
		Hooks: supervisor.Hooks{
			BeforeRequest: func(ctx context.Context, app string, req *supervisor.RequestInfo) error {
				if len(req.Header["X-Tenant"]) == 0 {
					return &warren.Error{Code: warren.CodeUnauthorized, Message: "missing X-Tenant header", Hint: "send X-Tenant: <your tenant>"}
				}
				return nil
			},
			AfterRequest: func(app string, req *supervisor.RequestInfo, u supervisor.RequestUsage) {
				out.Encode(map[string]any{"app": app, "tenant": strings.Join(req.Header["X-Tenant"], ","), "path": req.Path,
					"status": u.Status, "cpuMs": u.CPU.Seconds() * 1000, "rowsWritten": u.RowsWritten})
			},
			Quotas: func(app string, q supervisor.Quotas) supervisor.Quotas {
				if strings.HasPrefix(app, "pro-") {
					q.RequestsPerMinute *= 10
				}
				return q
			},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := sup.Deploy(context.Background(), "hello", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", helloApp)}); err != nil {
		sup.Close()
		return nil, nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		sup.ServeApp(w, r, id, "/"+rest)
	})
	return sup, h, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	dir := flag.String("data", "./gosupervisor-data", "data folder")
	flag.Parse()
	sup, h, err := New(*dir, json.NewEncoder(os.Stdout))
	if err != nil {
		log.Fatal(err)
	}
	defer sup.Close()
	log.Printf("serving apps at http://%s/{app}/...", *listen)
	if err := http.ListenAndServe(*listen, h); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
