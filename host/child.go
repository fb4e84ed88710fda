// Package host runs apps in a pool of host processes: child processes of
// the same binary (`warren host`), each running many apps (their isolates
// and SQLite databases) behind the wire protocol (package wire) on a socket
// pair it inherits, with no
// network of its own. The control plane (Pool, a supervisor.Runner) places
// each app on exactly one host, forwards its requests there, serves the
// hosts' calls back (app code, logs, outbound fetches, which it checks
// against the app's egress policy), and restarts a host that dies.
//
// Two socket pairs connect the control plane and a host:
//
//	fd 3: control (client) → host (server): app requests, /validate, /stop, /running, /stats
//	fd 4: host (client) → control (server): /code, /log, outbound fetches
package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/host/wire"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/respond"
	"github.com/warrenhq/warren/sandbox"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// Protocol headers.
const (
	hdrKind   = "X-Warren-Kind"   // control → host: what a forwarded request is for (kindApp, kindRun, kindProject)
	hdrSpec   = "X-Warren-Spec"   // control → host: the AppSpec (wireSpec.encode)
	hdrHost   = "X-Warren-Host"   // control → host: the request's Host
	hdrScheme = "X-Warren-Scheme" // control → host: http or https
	hdrApp    = "X-Warren-App"    // host → control: the app an outbound fetch is for
	hdrURL    = "X-Warren-Url"    // host → control: the outbound fetch's URL
)

// Protocol signals (wire.SetSignal): facts of the answering end that travel
// in the response's frames apart from its header and trailers, which may be
// an app's (or, for an outbound fetch, a remote server's): an X-Warren-*
// header in them is a plain header, passed on and never obeyed.
const (
	sigError = "Error" // with the head: the body is a *warren.Error (writeErr)
	sigUsage = "Usage" // host → control: RunUsage (usageValue), with the head of an error or the end of a response
)

// ChildOptions configure a host process.
type ChildOptions struct {
	// AppsDir holds one folder per app.
	AppsDir string
	// Root, when set, is the folder (holding AppsDir) the host chroots
	// into as it confines itself, and User the user it then becomes
	// (WARREN_HOST_ROOT, WARREN_HOST_UID, WARREN_HOST_GID: a host
	// started by root). AppsDir is then used by its path inside Root.
	Root string
	User *sandbox.User
	// MemoryBudget of the host's live apps.
	MemoryBudget int64
	// Control is fd 3 (requests from the control plane), Calls fd 4 (the
	// host's calls to it).
	Control, Calls net.Conn
	// Confine, when set, runs after set-up and before serving: the
	// process's sandbox (Landlock, seccomp, rlimits); Confine(opts) is the
	// one warren host uses. It hands its report to the given function.
	Confine func(report func(sandbox.Report)) error
}

// ChildFromEnv builds ChildOptions from the environment warren host
// starts with: fds 3 and 4, WARREN_HOST_APPS, WARREN_HOST_MEMORY.
func ChildFromEnv() (ChildOptions, error) {
	ctl, err := net.FileConn(os.NewFile(3, "control"))
	if err != nil {
		return ChildOptions{}, fmt.Errorf("warren host: fd 3 is not the control socket: %w (this command is started by warren serve)", err)
	}
	calls, err := net.FileConn(os.NewFile(4, "calls"))
	if err != nil {
		return ChildOptions{}, fmt.Errorf("warren host: fd 4 is not the calls socket: %w", err)
	}
	mem, _ := strconv.ParseInt(os.Getenv("WARREN_HOST_MEMORY"), 10, 64)
	opts := ChildOptions{AppsDir: os.Getenv("WARREN_HOST_APPS"), Root: os.Getenv("WARREN_HOST_ROOT"), MemoryBudget: mem, Control: ctl, Calls: calls}
	if v := os.Getenv("WARREN_HOST_UID"); v != "" {
		uid, err1 := strconv.Atoi(v)
		gid, err2 := strconv.Atoi(os.Getenv("WARREN_HOST_GID"))
		if err := errors.Join(err1, err2); err != nil {
			return ChildOptions{}, fmt.Errorf("warren host: WARREN_HOST_UID/GID: %w", err)
		}
		opts.User = &sandbox.User{UID: uid, GID: gid}
	}
	return opts, nil
}

// inside returns the path of AppsDir as the host sees it once chrooted.
func (o ChildOptions) inside() (string, error) {
	if o.Root == "" {
		return o.AppsDir, nil
	}
	rel, err := filepath.Rel(o.Root, o.AppsDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("warren host: the apps folder %s is not inside the root %s", o.AppsDir, o.Root)
	}
	return filepath.Join("/", rel), nil
}

// RunChild serves the control plane until the control socket closes.
func RunChild(opts ChildOptions) error {
	if opts.AppsDir == "" {
		return errors.New("warren host: no apps folder (WARREN_HOST_APPS)")
	}
	// SQLite's temporary files stay inside the one folder a host may write.
	if err := os.MkdirAll(tempDir(opts.AppsDir), 0o700); err != nil {
		return err
	}
	if opts.Confine == nil { // an unconfined host (tests): no chroot or user either
		opts.Root, opts.User = "", nil
	}
	if opts.User != nil {
		if err := os.Lchown(tempDir(opts.AppsDir), opts.User.UID, opts.User.GID); err != nil {
			return err
		}
	}
	dir, err := opts.inside() // the paths below are used once confined (and chrooted)
	if err != nil {
		return err
	}
	os.Setenv("TMPDIR", tempDir(dir))
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		return err
	}
	c := &child{calls: wire.NewConn(opts.Calls, nil), rt: rt, dir: dir}
	c.loader = loader.New(rt, loader.Options{Limits: warren.DefaultLimits})
	defer c.loader.Close()
	defer c.closeProject()
	c.apps = supervisor.NewInProcess(supervisor.InProcessOptions{Runtime: rt, Dir: dir, MemoryBudget: opts.MemoryBudget, Logs: c.log})
	defer c.apps.Close()
	if opts.Confine != nil {
		if err := opts.Confine(c.reportConfinement); err != nil {
			return fmt.Errorf("warren host: confine: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /validate", c.validate)
	mux.HandleFunc("POST /project", c.startProject)
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, r *http.Request) {
		c.apps.Stop(r.URL.Query().Get("app"))
	})
	mux.HandleFunc("GET /running", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(c.apps.RunningApps())
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(c.apps.Stats())
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get(hdrKind) {
		case kindApp:
			c.serve(w, r)
		case kindRun:
			c.run(w, r)
		case kindProject:
			c.serveProject(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
	// Serve until the control plane goes away (its end of either pair
	// closes, or a connection fails: the pool then starts a new host).
	ctl := wire.NewConn(opts.Control, h)
	select {
	case <-ctl.Done():
	case <-c.calls.Done():
	}
	return nil
}

type child struct {
	apps   *supervisor.InProcess // the apps placed on this host
	loader *loader.Loader        // one-shot runs
	rt     *worker.Runtime
	dir    string

	projMu    sync.Mutex
	project   worker.Fetcher // warren serve --config: the project's entrypoint
	projClose func()
	calls     *wire.Conn
}

// log sends an isolate's output to the control plane.
func (c *child) log(app string, e worker.LogEntry) {
	b, _ := json.Marshal(e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a log line never holds an isolate longer
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://control/log?app="+url.QueryEscape(app), bytes.NewReader(b))
	if resp, err := c.calls.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
}

func (c *child) validate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID         string                `json:"id"`
		Deployment supervisor.Deployment `json:"deployment"`
		Quotas     supervisor.Quotas     `json:"quotas"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, &warren.Error{Code: warren.CodeBadRequest, Message: "validate: " + err.Error()})
		return
	}
	class, err := c.apps.Validate(r.Context(), in.ID, &in.Deployment, in.Quotas)
	if err != nil {
		writeErr(w, err)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"class": class})
}

// serve runs one app request and streams the response back, with the
// request's usage in a trailer.
func (c *child) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := decodeSpec(r.Header.Get(hdrSpec))
	if err != nil {
		writeErr(w, &warren.Error{Code: warren.CodeInternal, Message: "bad app spec from the control plane: " + err.Error()})
		return
	}
	spec := &supervisor.AppSpec{ID: ws.ID, ParentID: ws.ParentID, Version: ws.Version, Hash: ws.Hash, Class: ws.Class, Quotas: ws.Quotas,
		Code: func(ctx context.Context) (*warren.WorkerCode, error) { return c.code(ctx, ws.ID, ws.Version) }}
	if ws.Egress {
		spec.Outbound = &viaControl{c: c, app: ws.ID}
	}
	resp, ru, err := c.apps.Serve(r.Context(), spec, appRequest(r, hdrSpec))
	if err != nil {
		wire.SetSignal(w, sigUsage, usageValue(ru))
		writeErr(w, err)
		return
	}
	if err := respond.Copy(w, resp); err != nil {
		panic(http.ErrAbortHandler) // reset the stream: the control plane sees a broken body
	}
	wire.SetSignal(w, sigUsage, usageValue(ru)) // with the end, out of the app's reach
}

// appRequest returns the app's request as the control plane forwarded it:
// its URL and Host restored, the protocol's headers (and extra) removed.
func appRequest(r *http.Request, extra ...string) *http.Request {
	req := r.Clone(r.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.Header.Get(hdrScheme), r.Header.Get(hdrHost), r.Header.Get(hdrHost)
	req.RequestURI = ""
	for _, h := range append([]string{hdrKind, hdrHost, hdrScheme}, extra...) {
		req.Header.Del(h)
	}
	return req
}

// reply copies a Worker's response, or writes its error.
func reply(w http.ResponseWriter, resp *http.Response, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := respond.Copy(w, resp); err != nil {
		panic(http.ErrAbortHandler) // reset the stream: the control plane sees a broken body
	}
}

// code asks the control plane for a version's code.
func (c *child) code(ctx context.Context, app string, version int) (*warren.WorkerCode, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://control/code?app=%s&version=%d", url.QueryEscape(app), version), nil)
	resp, err := c.calls.RoundTrip(req)
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the host could not fetch the app's code: " + err.Error(), Hint: "retry the request"}
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, readErr(resp)
	}
	var wc warren.WorkerCode
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4*warren.MaxCodeSize)).Decode(&wc); err != nil {
		return nil, err
	}
	return &wc, nil
}

// viaControl sends an app's outbound fetch to the control plane, which
// applies the app's egress policy and makes it.
type viaControl struct {
	c   *child
	app string
}

func (v *viaControl) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	out := req.Clone(ctx)
	out.Header.Set(hdrApp, v.app)
	out.Header.Set(hdrURL, req.URL.String())
	out.URL = &url.URL{Scheme: "http", Host: "control", Path: "/fetch"}
	out.Host = "control"
	out.RequestURI = ""
	resp, sig, err := v.c.calls.RoundTripSignals(out)
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeEgress, Message: "outbound fetch failed: " + err.Error()}
	}
	if isErr(sig) {
		defer resp.Body.Close()
		return nil, readErr(resp)
	}
	return resp, nil
}

// writeErr writes err as a protocol error: as every Warren error
// (respond.Error), flagged with sigError.
func writeErr(w http.ResponseWriter, err error) {
	wire.SetSignal(w, sigError, "1")
	respond.Error(w, err)
}

// isErr reports whether a response is a protocol error (writeErr).
func isErr(sig *wire.Signals) bool { return sig.Head.Get(sigError) != "" }

// readErr reads a protocol error.
func readErr(resp *http.Response) error { return respond.ReadError(resp) }
