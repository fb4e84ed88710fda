package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/host/wire"
	"github.com/warrenhq/warren/respond"
	"github.com/warrenhq/warren/sandbox"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// PoolOptions configure a Pool.
type PoolOptions struct {
	// Hosts is the number of host processes (0: 2).
	Hosts int
	// AppsDir is the flat apps folder (<data>/apps: one folder per app, the
	// layout of --isolation=inprocess and of earlier versions); with a
	// Project, the one folder its host may write.
	AppsDir string
	// HostsDir holds one folder per host (layout.go): host n keeps its
	// apps in <HostsDir>/<n>/apps/<id> and may write only below
	// <HostsDir>/<n>. NewPool first moves the app folders it finds in
	// AppsDir or under the wrong host there (PlaceApps). Empty: "hosts"
	// beside AppsDir. Unused with a Project.
	HostsDir string
	// MemoryBudget of each host's live apps.
	MemoryBudget int64
	// Command returns the command that starts one host process (its
	// ExtraFiles, Env and the WARREN_HOST_* variables are set by the
	// pool). Nil: this executable with the argument "host".
	Command func() *exec.Cmd
	// Env is added to the host's environment, which is otherwise this
	// process's without secrets (sandbox.CleanEnv).
	Env []string
	// HostMemory is each host's cgroup memory limit (0: 4 × MemoryBudget,
	// at least 512 MiB); a host past it is killed and restarted.
	HostMemory uint64
	// HostProcs is each host's GOMAXPROCS (0: 1; docs/DECISIONS.md).
	HostProcs int
	// HostCPUs is each host's cgroup CPU limit in cores (0: HostProcs).
	HostCPUs float64
	Log      *slog.Logger
	// HostUser is the user hosts run as when this process is root: each
	// host, once set up, chroots into its folder and becomes this user,
	// which the pool makes the owner of the hosts' folders. Nil: nobody
	// (65534:65534); UID 0: hosts stay root (without capabilities). Unused
	// when this process is not root (hosts run as its user) and with a
	// Project.
	HostUser *sandbox.User
	// AllowUnconfined lets hosts run without a layer of sandbox.Required
	// (Landlock, seccomp) they could not apply, with a warning. Otherwise
	// NewPool waits for the first host's confinement report and fails,
	// naming the layer and the fix, when one is missing.
	AllowUnconfined bool
	// Project, when set, is the wrangler project the hosts run (warren
	// serve --config); the pool then has one host, which runs all of it.
	Project *ProjectSpec
	// RunHosts is the number of host processes of one-shot runs (RunOnce),
	// apart from the apps' hosts: a run never shares a process with an
	// app. 0: 1; negative: none (RunOnce then fails). A project's pool
	// has none.
	RunHosts int
	// RunsDir is the one folder the run hosts may write (their temporary
	// files); it holds no app's data. Empty: "runs" beside AppsDir.
	RunsDir string
}

// Pool is a supervisor.Runner that runs apps in host processes. Bind it
// to the supervisor with Attach before serving.
type Pool struct {
	opts     PoolOptions
	slots    []*slot // the apps' hosts
	runSlots []*slot // the hosts of one-shot runs, which never hold an app

	sup      atomic.Pointer[supervisor.Supervisor]
	restarts atomic.Int64
	oomKills atomic.Int64
	closed   atomic.Bool
	reported atomic.Bool                    // a host's sandbox report was logged
	confined atomic.Pointer[sandbox.Report] // the last host's report, with its cgroup
	confOnce sync.Once
	confUp   chan struct{} // closed at the first report
	runs     runs          // one-shot runs in flight
	nextRun  atomic.Uint64 // the host of the next run, in turn
}

// slot is one host position: its current process, replaced on a crash.
type slot struct {
	p   *Pool
	n   int
	run bool            // a host of one-shot runs
	cg  *sandbox.Cgroup // nil where cgroups are not available
	mu  sync.Mutex
	cur *proc
	up  chan struct{} // closed when cur is set after a restart

	counters hostCounters
}

// hostCounters accumulate a host's counters (cold starts, evictions,
// isolates created) across its restarts: a new host process counts from
// zero, so what its earlier processes counted is kept in base, and the
// sums the pool reports (Prometheus counters) never go down.
type hostCounters struct {
	mu   sync.Mutex
	pr   *proc    // the process last read
	last [3]int64 // its counters then
	base [3]int64 // the counts of the slot's earlier processes
}

// read adds what process pr reports (when ok) and returns the slot's
// totals.
func (c *hostCounters) read(pr *proc, v [3]int64, ok bool) [3]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		if pr != c.pr { // a new process: its predecessor's counts are final
			for i := range c.base {
				c.base[i] += c.last[i]
			}
			c.pr, c.last = pr, [3]int64{}
		}
		for i := range v {
			c.last[i] = max(c.last[i], v[i])
		}
	}
	var out [3]int64
	for i := range out {
		out[i] = c.base[i] + c.last[i]
	}
	return out
}

// proc is one running host process.
type proc struct {
	cmd    *exec.Cmd
	client *wire.Conn // requests to the host
	calls  *wire.Conn // the host's calls to the control plane
	dead   chan struct{}
}

var _ supervisor.Runner = (*Pool)(nil)

// NewPool starts the host processes.
func NewPool(opts PoolOptions) (*Pool, error) {
	if opts.Hosts <= 0 {
		opts.Hosts = 2
	}
	if opts.Project != nil {
		opts.Hosts = 1
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Command == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		opts.Command = func() *exec.Cmd { return exec.Command(exe, "host") }
	}
	if err := os.MkdirAll(opts.AppsDir, 0o700); err != nil {
		return nil, err
	}
	if opts.Project == nil {
		if opts.HostsDir == "" {
			opts.HostsDir = filepath.Join(filepath.Dir(opts.AppsDir), "hosts")
		}
		t0 := time.Now()
		moved, err := PlaceApps(opts.AppsDir, opts.HostsDir, opts.Hosts)
		if err != nil {
			return nil, fmt.Errorf("place the apps' folders in their hosts' folders: %w", err)
		}
		if moved > 0 {
			opts.Log.Info("app folders moved to their hosts' folders", "moved", moved, "hosts", opts.Hosts, "ms", time.Since(t0).Milliseconds())
		}
		if os.Geteuid() != 0 {
			opts.HostUser = nil
		} else if opts.HostUser == nil {
			opts.HostUser = &sandbox.User{UID: 65534, GID: 65534}
		}
		if u := opts.HostUser; u != nil && u.UID != 0 {
			t0 := time.Now()
			for n := 0; n < opts.Hosts; n++ {
				if err := chownTree(slotDir(opts.HostsDir, n), u.UID, u.GID); err != nil {
					return nil, fmt.Errorf("give the hosts' folders to user %d:%d: %w", u.UID, u.GID, err)
				}
			}
			if d := time.Since(t0); d > time.Second {
				opts.Log.Info("hosts' folders given to their user", "uid", u.UID, "ms", d.Milliseconds())
			}
		} else {
			opts.HostUser = nil
		}
	} else {
		opts.HostUser = nil
	}
	if opts.HostProcs <= 0 {
		opts.HostProcs = 1
	}
	if opts.HostCPUs <= 0 {
		opts.HostCPUs = float64(opts.HostProcs)
	}
	if opts.HostMemory == 0 {
		opts.HostMemory = max(uint64(opts.MemoryBudget)*4, 512<<20)
	}
	runHosts := opts.RunHosts
	switch {
	case opts.Project != nil || runHosts < 0:
		runHosts = 0
	case runHosts == 0:
		runHosts = 1
	}
	if runHosts > 0 {
		if opts.RunsDir == "" {
			opts.RunsDir = filepath.Join(filepath.Dir(filepath.Clean(opts.AppsDir)), "runs")
		}
		if err := os.MkdirAll(opts.RunsDir, 0o700); err != nil {
			return nil, err
		}
		if u := opts.HostUser; u != nil {
			if err := chownTree(opts.RunsDir, u.UID, u.GID); err != nil {
				return nil, fmt.Errorf("give the run hosts' folder to user %d:%d: %w", u.UID, u.GID, err)
			}
		}
	}
	p := &Pool{opts: opts, confUp: make(chan struct{})}
	cgMech := sandbox.ProbeCgroups()
	// Hosts 0 to Hosts-1 run apps; the ones after them, runs.
	for i := 0; i < opts.Hosts+runHosts; i++ {
		s := &slot{p: p, n: i, run: i >= opts.Hosts}
		if cgMech.Applied {
			cg, err := sandbox.CgroupFor(fmt.Sprintf("host-%d-%d", os.Getpid(), i), sandbox.CgroupLimits{MemoryBytes: opts.HostMemory, CPUs: opts.HostCPUs, MaxPids: 4096})
			if err != nil {
				if i == 0 {
					opts.Log.Warn("hosts run without a cgroup (no memory or CPU limit of their own)", "reason", err.Error())
				}
			} else {
				s.cg = cg
				if m := cg.Missing(); len(m) > 0 && i == 0 {
					opts.Log.Warn("host cgroups lack some controllers", "missing", fmt.Sprint(m))
				}
			}
		} else if i == 0 {
			opts.Log.Warn("hosts run without a cgroup (no memory or CPU limit of their own)", "reason", cgMech.Detail)
		}
		pr, err := p.start(s)
		if err != nil {
			p.Close()
			return nil, err
		}
		s.cur = pr
		if s.run {
			p.runSlots = append(p.runSlots, s)
		} else {
			p.slots = append(p.slots, s)
		}
	}
	if err := p.checkConfinement(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// confinementWait bounds the wait for the first host's confinement report.
const confinementWait = 30 * time.Second

// checkConfinement waits for the first host's confinement report and
// refuses a pool whose hosts lack a required layer, unless the operator
// allowed it (then a warning).
func (p *Pool) checkConfinement() error {
	if p.opts.AllowUnconfined {
		return nil // the report is logged (a warning if a layer is missing) when it comes
	}
	select {
	case <-p.confUp:
	case <-time.After(confinementWait):
		return fmt.Errorf("the hosts did not report their confinement within %v (see their errors above); to run them without it, pass --allow-unconfined (WARREN_ALLOW_UNCONFINED=1)", confinementWait)
	}
	missing := p.confined.Load().Unconfined()
	if len(missing) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("the hosts would run untrusted code without ")
	for i, m := range missing {
		if i > 0 {
			b.WriteString(" and without ")
		}
		fmt.Fprintf(&b, "%s (%s; fix: %s)", m.Name, m.Detail, sandbox.Fix(m.Name))
	}
	b.WriteString("; `warren doctor` says what this machine has. To run them so anyway, pass --allow-unconfined (WARREN_ALLOW_UNCONFINED=1)")
	return errors.New(b.String())
}

// Confinement returns the layers the hosts run with (the last host's
// report, and its cgroup), or nil before any host reported.
func (p *Pool) Confinement() *sandbox.Report { return p.confined.Load() }

// Attach gives the pool the supervisor whose apps it runs (for the hosts'
// calls back: code, logs, outbound fetches).
func (p *Pool) Attach(s *supervisor.Supervisor) { p.sup.Store(s) }

// start launches one host process for slot s.
func (p *Pool) start(s *slot) (*proc, error) {
	ctl, err := socketPair()
	if err != nil {
		return nil, err
	}
	calls, err := socketPair()
	if err != nil {
		return nil, err
	}
	cmd := p.opts.Command()
	dir, root := p.appsDir(s.n), slotDir(p.opts.HostsDir, s.n)
	if s.run {
		dir, root = p.opts.RunsDir, p.opts.RunsDir // a run host sees no app's data
	}
	cmd.Env = append(append(sandbox.CleanEnv(sandbox.DisableEnv), p.opts.Env...), "WARREN_HOST_APPS="+dir, fmt.Sprintf("WARREN_HOST_MEMORY=%d", p.opts.MemoryBudget), fmt.Sprintf("GOMAXPROCS=%d", p.opts.HostProcs))
	if u := p.opts.HostUser; u != nil {
		// The host chroots into its folder and becomes this user as it confines itself.
		cmd.Env = append(cmd.Env, "WARREN_HOST_ROOT="+root, fmt.Sprintf("WARREN_HOST_UID=%d", u.UID), fmt.Sprintf("WARREN_HOST_GID=%d", u.GID))
	}
	cmd.ExtraFiles = []*os.File{ctl[1], calls[1]}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stderr
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := cmd.Start
	if s.cg != nil {
		start = func() error { return s.cg.Start(cmd) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("start host %d: %w", s.n, err)
	}
	ctl[1].Close()
	calls[1].Close()
	ctlConn, err1 := net.FileConn(ctl[0])
	callsConn, err2 := net.FileConn(calls[0])
	ctl[0].Close()
	calls[0].Close()
	if err := errors.Join(err1, err2); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("host %d: its socket pair: %w", s.n, err)
	}
	pr := &proc{cmd: cmd, client: wire.NewConn(ctlConn, nil), calls: wire.NewConn(callsConn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.calls(s, w, r) })), dead: make(chan struct{})}
	if p.opts.Project != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := p.sendProject(ctx, pr)
		cancel()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			pr.client.Close()
			pr.calls.Close()
			return nil, err
		}
	}
	go p.watch(s, pr)
	go p.watchConns(s, pr)
	p.opts.Log.Info("host started", "host", s.n, "pid", cmd.Process.Pid)
	return pr, nil
}

func socketPair() ([2]*os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return [2]*os.File{}, err
	}
	return [2]*os.File{os.NewFile(uintptr(fds[0]), "host-ctl"), os.NewFile(uintptr(fds[1]), "host-peer")}, nil
}

// watch restarts the slot's host when its process exits.
func (p *Pool) watch(s *slot, pr *proc) {
	err := pr.cmd.Wait()
	close(pr.dead)
	pr.client.Close()
	pr.calls.Close()
	if p.closed.Load() {
		return
	}
	p.restarts.Add(1)
	reason := fmt.Sprint(err)
	if s.cg != nil {
		if n, _ := s.cg.OOMKills(); int64(n) > p.oomKills.Load() {
			p.oomKills.Store(int64(n))
			reason = fmt.Sprintf("killed at its memory limit of %d MiB (%v)", p.opts.HostMemory>>20, err)
		}
	}
	p.opts.Log.Error("host process died; restarting it (its apps come back on their next request)", "host", s.n, "pid", pr.cmd.Process.Pid, "reason", reason)
	up := make(chan struct{})
	s.mu.Lock()
	s.up = up
	s.mu.Unlock()
	for delay := 50 * time.Millisecond; !p.closed.Load(); delay = min(delay*2, 5*time.Second) {
		npr, err := p.start(s)
		if err == nil {
			s.mu.Lock()
			if p.closed.Load() {
				// Close ran meanwhile and did not see this host: end it
				// (its own watcher returns, the pool being closed).
				s.mu.Unlock()
				npr.client.Close()
				npr.calls.Close()
				npr.cmd.Process.Kill()
				close(up)
				return
			}
			s.cur, s.up = npr, nil
			s.mu.Unlock()
			close(up)
			return
		}
		p.opts.Log.Error("host restart failed", "host", s.n, "error", err.Error())
		time.Sleep(delay)
	}
}

// watchConns kills a host whose connection ended while its process lives
// (a protocol error, a peer that stopped reading): watch then restarts it.
func (p *Pool) watchConns(s *slot, pr *proc) {
	var why error
	select {
	case <-pr.dead:
		return
	case <-pr.client.Done():
		why = pr.client.Err()
	case <-pr.calls.Done():
		why = pr.calls.Err()
	}
	if p.closed.Load() {
		return
	}
	p.opts.Log.Error("a host's connection ended; killing the host so that it restarts", "host", s.n, "pid", pr.cmd.Process.Pid, "reason", fmt.Sprint(why))
	pr.cmd.Process.Kill()
}

// slotOf places an app on one host, always the same (placement).
func (p *Pool) slotOf(app string) *slot {
	return p.slots[placement(app, p.opts.Hosts)]
}

// appsDir is the folder of host n's apps: the only one it may write.
func (p *Pool) appsDir(n int) string {
	if p.opts.Project != nil {
		return p.opts.AppsDir
	}
	return slotAppsDir(p.opts.HostsDir, n)
}

// AppDir returns the folder of app's data (its host's, layout.go): the
// supervisor measures and removes it there.
func (p *Pool) AppDir(app string) string {
	return filepath.Join(p.appsDir(placement(app, p.opts.Hosts)), app)
}

// proc returns the slot's live process, waiting a little for a restart.
func (s *slot) proc(ctx context.Context) (*proc, error) {
	s.mu.Lock()
	pr, up := s.cur, s.up
	s.mu.Unlock()
	select {
	case <-pr.dead:
	default:
		return pr, nil
	}
	if up != nil {
		select {
		case <-up:
			s.mu.Lock()
			pr = s.cur
			s.mu.Unlock()
			return pr, nil
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
	}
	return nil, hostDown(s.n)
}

func hostDown(n int) error {
	return &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("the app's host process (%d) is restarting", n), Hint: "retry the request in a moment"}
}

// do sends a request to the app's host.
func (p *Pool) do(ctx context.Context, app string, req *http.Request) (*http.Response, *wire.Signals, error) {
	return p.doSlot(ctx, p.slotOf(app), req)
}

// doSlot sends a request to the slot's host; the response's signals say
// whether it is a protocol error and what the request used.
func (p *Pool) doSlot(ctx context.Context, s *slot, req *http.Request) (*http.Response, *wire.Signals, error) {
	pr, err := s.proc(ctx)
	if err != nil {
		return nil, nil, err
	}
	resp, sig, err := pr.client.RoundTripSignals(req)
	if err != nil {
		select {
		case <-pr.dead:
			return nil, nil, &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("the app's host process (%d) crashed while handling the request", s.n), Hint: "retry the request; writes acknowledged before were kept"}
		default:
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, &warren.Error{Code: warren.CodeUnavailable, Message: "the app's host did not answer: " + err.Error(), Hint: "retry the request"}
	}
	return resp, sig, nil
}

// Validate compiles and checks d in the host the app will run on.
func (p *Pool) Validate(ctx context.Context, id string, d *supervisor.Deployment, q supervisor.Quotas) (string, error) {
	b, _ := json.Marshal(map[string]any{"id": id, "deployment": d, "quotas": q})
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://host/validate", bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	resp, sig, err := p.do(ctx, id, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if isErr(sig) {
		return "", readErr(resp)
	}
	var out struct{ Class string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&out); err != nil {
		return "", err
	}
	return out.Class, nil
}

// Serve forwards req to the app's host.
func (p *Pool) Serve(ctx context.Context, spec *supervisor.AppSpec, req *http.Request) (*http.Response, *supervisor.RunUsage, error) {
	ws := (&wireSpec{ID: spec.ID, ParentID: spec.ParentID, Version: spec.Version, Hash: spec.Hash, Class: spec.Class, Quotas: spec.Quotas, Egress: spec.Outbound != nil}).encode()
	out := forward(ctx, req, kindApp)
	out.Header.Set(hdrSpec, ws)
	ru := &supervisor.RunUsage{}
	resp, sig, err := p.do(ctx, spec.ID, out)
	if err != nil {
		return nil, ru, err
	}
	if isErr(sig) {
		defer resp.Body.Close()
		parseUsage(sig.Head.Get(sigUsage), ru)
		return nil, ru, readErr(resp)
	}
	if err := badStatus(resp); err != nil {
		return nil, ru, err
	}
	// The usage comes with the end, once the body has ended (none if it is closed early).
	resp.Body = &hostBody{ReadCloser: resp.Body, what: "the app's response", end: func() { parseUsage(sig.End.Get(sigUsage), ru) }}
	return resp, ru, nil
}

// forward returns a copy of req to send to a host: kind says what it is
// for, set over whatever the client sent; the request's host and scheme
// travel in headers (a server request's URL has neither: its scheme is
// taken from the connection). A request without a body sends none.
func forward(ctx context.Context, req *http.Request, kind string) *http.Request {
	out := req.Clone(ctx)
	scheme := req.URL.Scheme
	if scheme == "" {
		scheme = "http"
		if req.TLS != nil {
			scheme = "https"
		}
	}
	out.Header.Set(hdrKind, kind)
	out.Header.Set(hdrHost, req.Host)
	out.Header.Set(hdrScheme, scheme)
	out.URL = &url.URL{Scheme: "http", Host: "host", Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	out.RequestURI = ""
	if req.ContentLength == 0 {
		out.Body = nil // no data frames
	}
	return out
}

// badStatus refuses a response status the runtime never produces (a
// subverted host could send a 1xx, which net/http would send on as an
// informational response); it closes the body.
func badStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 599 {
		return nil
	}
	resp.Body.Close()
	return &warren.Error{Code: warren.CodeUnavailable, Message: fmt.Sprintf("the host answered with status %d", resp.StatusCode)}
}

// hostBody is a response body from a host: a body that breaks midway (its
// host died) is reported as cut off, and end, if set, runs once when the
// body ends or is closed (reading the usage trailer, forgetting a run).
type hostBody struct {
	io.ReadCloser
	what string // "the app's response"
	end  func()
	once sync.Once
}

func (b *hostBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.finish()
	} else if err != nil {
		err = &warren.Error{Code: warren.CodeUnavailable, Message: b.what + " was cut off: " + err.Error()}
	}
	return n, err
}

func (b *hostBody) Close() error {
	err := b.ReadCloser.Close() // first: the stream's end (and its signals) is then settled
	b.finish()
	return err
}

func (b *hostBody) finish() {
	if b.end != nil {
		b.once.Do(b.end)
	}
}

// Stop closes the app's running code in its host.
func (p *Pool) Stop(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://host/stop?app="+url.QueryEscape(id), nil)
	if resp, _, err := p.do(ctx, id, req); err == nil {
		resp.Body.Close()
	}
}

// adminTimeout bounds the pool's own requests to a host (stop, running,
// stats): a stalled host must not hold the admin API.
const adminTimeout = 10 * time.Second

// maxAnswer bounds what the control plane decodes from a host's answer.
const maxAnswer = 16 << 20

// ask GETs path from slot s's host and decodes its JSON answer into v.
func (p *Pool) ask(s *slot, path string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://host"+path, nil)
	resp, _, err := p.doSlot(ctx, s, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(v)
}

// askProc is ask, and returns the host process that answered.
func (p *Pool) askProc(s *slot, path string, v any) (*proc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	pr, err := s.proc(ctx)
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://host"+path, nil)
	resp, _, err := pr.client.RoundTripSignals(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return pr, json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(v)
}

// RunningApps asks every host which apps have their code in memory.
func (p *Pool) RunningApps() map[string]bool {
	out := map[string]bool{}
	for _, sl := range p.slots {
		var ids map[string]bool
		if p.ask(sl, "/running", &ids) != nil {
			continue
		}
		for id := range ids {
			out[id] = true
		}
	}
	return out
}

// Stats sums the hosts' figures.
func (p *Pool) Stats() supervisor.RunnerStats {
	st := supervisor.RunnerStats{Hosts: int64(len(p.slots)), HostRestarts: p.restarts.Load()}
	if rep := p.confined.Load(); rep != nil {
		st.Confinement = map[string]bool{}
		for _, m := range rep.Mechanisms {
			st.Confinement[m.Name] = m.Applied
		}
	}
	for _, s := range p.slots {
		var h supervisor.RunnerStats
		pr, err := p.askProc(s, "/stats", &h)
		// The counters come from the slot's accumulation (also while its
		// host restarts); the gauges from the host that answered.
		c := s.counters.read(pr, [3]int64{h.ColdStarts, h.Evictions, h.Isolates}, err == nil)
		st.ColdStarts += c[0]
		st.Evictions += c[1]
		st.Isolates += c[2]
		if err != nil {
			continue
		}
		st.Live += h.Live
		st.LoaderWorkers += h.LoaderWorkers
		st.HostRSS += rss(pr.cmd.Process.Pid)
	}
	for _, s := range p.runSlots {
		s.mu.Lock()
		pr := s.cur
		s.mu.Unlock()
		st.HostRSS += rss(pr.cmd.Process.Pid)
	}
	return st
}

// PIDs returns the host processes' ids (for tests and operators).
func (p *Pool) PIDs() []int { return pids(p.slots) }

// RunPIDs returns the process ids of the hosts of one-shot runs.
func (p *Pool) RunPIDs() []int { return pids(p.runSlots) }

func pids(slots []*slot) []int {
	var out []int
	for _, s := range slots {
		s.mu.Lock()
		out = append(out, s.cur.cmd.Process.Pid)
		s.mu.Unlock()
	}
	return out
}

// HostOf returns which host runs app.
func (p *Pool) HostOf(app string) int { return p.slotOf(app).n }

// Close stops the hosts.
func (p *Pool) Close() {
	if p.closed.Swap(true) {
		return
	}
	for _, s := range append(p.slots[:len(p.slots):len(p.slots)], p.runSlots...) {
		s.mu.Lock()
		pr := s.cur
		s.mu.Unlock()
		if pr == nil {
			continue
		}
		pr.client.Close() // the host exits when its control socket closes
		pr.calls.Close()
		select {
		case <-pr.dead:
		case <-time.After(5 * time.Second):
			pr.cmd.Process.Kill()
			<-pr.dead
		}
		if s.cg != nil {
			s.cg.Remove()
		}
	}
}

// calls serves the calls of slot s's host: code, logs and outbound
// fetches. A host is not trusted: it is answered only for the apps placed
// on it and the runs sent to it, so a subverted host cannot read another
// app's code, write to its log or borrow its egress. Calls for a one-shot
// run or the project need no supervisor.
func (p *Pool) calls(s *slot, w http.ResponseWriter, r *http.Request) {
	app := r.URL.Query().Get("app")
	if r.URL.Path == "/fetch" {
		app = r.Header.Get(hdrApp)
	}
	runID, isRun := strings.CutPrefix(app, runPrefix)
	isProject := app == projectApp && p.opts.Project != nil
	if r.URL.Path != "/confined" {
		var mine bool
		switch {
		case isRun:
			mine = p.runs.on(runID, s)
		case isProject:
			mine = true // the project's pool has one host
		default:
			mine = p.slotOf(app) == s
		}
		if !mine {
			p.opts.Log.Warn("a host called for an app or run that is not its own; refused", "host", s.n, "call", r.URL.Path, "app", app)
			writeErr(w, &warren.Error{Code: warren.CodeNotFound, Message: fmt.Sprintf("%q is not on this host", app)})
			return
		}
	}
	sup := p.sup.Load()
	if sup == nil && !isRun && !isProject && r.URL.Path != "/confined" {
		writeErr(w, &warren.Error{Code: warren.CodeUnavailable, Message: "the control plane is starting"})
		return
	}
	switch r.URL.Path {
	case "/code":
		var version int
		fmt.Sscan(r.URL.Query().Get("version"), &version)
		code, err := sup.Code(app, version)
		if err != nil {
			writeErr(w, err)
			return
		}
		json.NewEncoder(w).Encode(code)
	case "/confined":
		var rep sandbox.Report
		if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&rep) != nil {
			return
		}
		cg := sandbox.Mechanism{Name: "cgroup", Applied: s.cg != nil, Detail: "none"}
		if s.cg != nil {
			cg.Detail = s.cg.String()
		}
		rep.Add(cg)
		p.confined.Store(&rep)
		p.confOnce.Do(func() { close(p.confUp) })
		if p.reported.Swap(true) {
			return
		}
		if missing := rep.Unconfined(); len(missing) > 0 {
			var names []string
			for _, m := range missing {
				names = append(names, m.Name)
			}
			p.opts.Log.Warn("HOSTS RUN UNCONFINED: untrusted code runs without "+strings.Join(names, " and ")+" (allowed by --allow-unconfined); `warren doctor` says why and what to do", "report", rep.String())
		} else {
			p.opts.Log.Info("host confinement", "report", rep.String())
		}
	case "/log":
		var e worker.LogEntry
		if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&e) == nil {
			switch {
			case isRun:
				p.runLog(runID, e)
			case isProject:
				if p.opts.Project.Logs != nil {
					p.opts.Project.Logs(e)
				}
			default:
				sup.WorkerLog(app, e)
			}
		}
	case "/fetch":
		var fetch func(context.Context, *http.Request) (*http.Response, error)
		switch {
		case isRun:
			fetch = func(ctx context.Context, req *http.Request) (*http.Response, error) {
				return p.runFetch(ctx, runID, req)
			}
		case isProject:
			fetch = func(ctx context.Context, req *http.Request) (*http.Response, error) {
				return outboundFetch(ctx, p.opts.Project.Outbound, req)
			}
		default:
			if out := sup.Outbound(app); out != nil {
				fetch = out.Fetch
			}
		}
		if fetch == nil {
			writeErr(w, &warren.Error{Code: warren.CodeEgress, Message: fmt.Sprintf("app %q may not make outbound requests", app), Hint: "the operator allows hosts with the deploy's egress list"})
			return
		}
		p.fetch(w, r, fetch)
	default:
		writeErr(w, &warren.Error{Code: warren.CodeNotFound, Message: "no such host call " + r.URL.Path})
	}
}

// fetch makes an outbound request for a host, with fetch (which applies
// the egress policy of the app, run or project it is for).
func (p *Pool) fetch(w http.ResponseWriter, r *http.Request, fetch func(context.Context, *http.Request) (*http.Response, error)) {
	u, err := url.Parse(r.Header.Get(hdrURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		writeErr(w, &warren.Error{Code: warren.CodeBadRequest, Message: "bad outbound URL"})
		return
	}
	req := r.Clone(r.Context())
	req.URL, req.Host, req.RequestURI = u, u.Host, ""
	req.Header.Del(hdrApp)
	req.Header.Del(hdrURL)
	resp, err := fetch(r.Context(), req)
	if err != nil {
		var e *warren.Error
		if !errors.As(err, &e) {
			e = &warren.Error{Code: warren.CodeEgress, Message: err.Error()}
		}
		writeErr(w, e)
		return
	}
	if err := respond.Copy(w, resp); err != nil {
		panic(http.ErrAbortHandler) // reset the stream: the host sees a broken body, not a short one
	}
}

// rss reads a process's resident memory from /proc (0 where unknown).
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	var size, res int64
	fmt.Sscan(string(b), &size, &res)
	return res * int64(os.Getpagesize())
}
