package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/project"
	"github.com/warrenhq/warren/worker"
)

// Kinds of forwarded requests (hdrKind).
const (
	kindApp     = "app"     // an app's request (hdrSpec says which)
	kindRun     = "run"     // a one-shot run (hdrRun)
	kindProject = "project" // a request for the project (warren serve --config)

	projectApp = "project:" // the "app" of the project's calls back
)

// ProjectSpec is a wrangler project for the hosts to run (warren serve
// --config). The control plane reads and bundles it, since hosts cannot
// read the project's files; every host start (a restart too) is given it
// before any request.
type ProjectSpec struct {
	Config *project.Config
	Code   *warren.WorkerCode
	// Outbound is the project's egress policy, applied in the control plane.
	Outbound *worker.Outbound
	// Logs receives the project's console output and exceptions.
	Logs worker.LogSink
}

// projectStart is the body of the host's POST /project.
type projectStart struct {
	Config *project.Config    `json:"config"`
	Code   *warren.WorkerCode `json:"code"`
	Egress bool               `json:"egress"`
}

// sendProject starts the project in a newly started host.
func (p *Pool) sendProject(ctx context.Context, pr *proc) error {
	b, err := json.Marshal(projectStart{Config: p.opts.Project.Config, Code: p.opts.Project.Code, Egress: mayFetch(p.opts.Project.Outbound)})
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://host/project", nil)
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	resp, sig, err := pr.client.RoundTripSignals(req)
	if err != nil {
		return fmt.Errorf("start the project in the host: %w", err)
	}
	defer resp.Body.Close()
	if isErr(sig) {
		return readErr(resp)
	}
	return nil
}

// Project returns the entrypoint of the project the hosts run: requests go
// to the first host, which runs every object of the project (objects of
// one project call each other synchronously, so they share a host).
func (p *Pool) Project() worker.Fetcher {
	return worker.FetcherFunc(func(ctx context.Context, req *http.Request) (*http.Response, error) {
		fwd := forward(ctx, req, kindProject)
		resp, sig, err := p.doSlot(ctx, p.slots[0], fwd)
		if err != nil {
			return nil, err
		}
		if isErr(sig) {
			defer resp.Body.Close()
			return nil, readErr(resp)
		}
		if err := badStatus(resp); err != nil {
			return nil, err
		}
		resp.Body = &hostBody{ReadCloser: resp.Body, what: "the project's response"}
		return resp, nil
	})
}

// startProject runs the project in this host.
func (c *child) startProject(w http.ResponseWriter, r *http.Request) {
	var in projectStart
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Config == nil || in.Code == nil {
		writeErr(w, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("project: bad start message (%v)", err)})
		return
	}
	out := worker.DenyAll
	if in.Egress {
		out = &worker.Outbound{Via: &viaControl{c: c, app: projectApp}}
	}
	logs := func(e worker.LogEntry) { c.log(projectApp, e) }
	// A loader of its own, whose Workers (the entrypoint, and those the
	// project loads) log to the project's log.
	ld := loader.New(c.rt, loader.Options{Limits: warren.DefaultLimits, Logs: logs})
	stub, closeObjects, err := project.Run(project.RunOptions{Config: in.Config, Code: in.Code, Runtime: c.rt, Loader: ld, Outbound: out, Dir: c.dir, Logs: logs})
	if err != nil {
		ld.Close()
		writeErr(w, err)
		return
	}
	closeFn := func() { closeObjects(); ld.Close() }
	c.projMu.Lock()
	old := c.projClose
	c.project, c.projClose = stub, closeFn
	c.projMu.Unlock()
	if old != nil {
		old()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *child) closeProject() {
	c.projMu.Lock()
	f := c.projClose
	c.project, c.projClose = nil, nil
	c.projMu.Unlock()
	if f != nil {
		f()
	}
}

// serveProject runs one request of the project.
func (c *child) serveProject(w http.ResponseWriter, r *http.Request) {
	c.projMu.Lock()
	stub := c.project
	c.projMu.Unlock()
	if stub == nil {
		writeErr(w, &warren.Error{Code: warren.CodeUnavailable, Message: "the project has not started in this host", Hint: "retry the request"})
		return
	}
	resp, err := stub.Fetch(r.Context(), appRequest(r))
	reply(w, resp, err)
}
