package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/egress"
	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/sandbox"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// ServeCommand runs the platform.
type ServeCommand struct {
	Listen string
	Data   string
	// Config, when set, is a wrangler.jsonc project that receives all traffic.
	Config string
	// Egress is the outbound network policy of one-shot Workers: "none"
	// (fetch throws) or "public" (public addresses only).
	Egress string
	// AdminToken guards the admin API; empty: read from AdminTokenFile,
	// else from (or generated into) <Data>/admin.token.
	AdminToken string
	// AdminTokenFile is a file that holds the admin token.
	AdminTokenFile string
	// tokenInArgs is set when --admin-token was on the command line,
	// where other users can read it (ps).
	tokenInArgs bool
	// Domain routes {id}.<Domain> to app id.
	Domain string
	// AppMemoryMB is the memory budget of live apps (eviction past it).
	AppMemoryMB int
	// Isolation is "process" (apps run in confined host processes) or
	// "inprocess".
	Isolation string
	// Hosts is the number of host processes with --isolation=process.
	Hosts int
	// AllowUnconfined starts the hosts even when the machine lacks a
	// confinement layer (Landlock, seccomp), with a warning.
	AllowUnconfined bool
	// HostUser is the user the hosts run as when the server runs as root:
	// a name or uid[:gid] ("" or "nobody": 65534; "root": they stay root).
	HostUser string
	// RunAPI says who may use POST /api/v1/run: "token" (the admin token
	// or the run token), "open" or "off".
	RunAPI string
	// RunTokenFile holds a token that allows one-shot runs only.
	RunTokenFile string
	// Defaults are the platform's quotas of every app that does not set
	// its own (--default-rpm, --default-cpu-ms, --default-memory-mb,
	// --default-storage-mb); 0: no quota of the platform's own.
	Defaults supervisor.Quotas
	Stdout   io.Writer
	Stderr   io.Writer

	// Ready, if set, receives the bound address once the server listens.
	Ready func(addr string)
}

// ParseFlags reads flags and WARREN_* environment variables.
func (c *ServeCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("warren serve", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	setUsage(fs, "serve")
	fs.StringVar(&c.Listen, "listen", envOr("WARREN_LISTEN", "127.0.0.1:8080"), "address to listen on (WARREN_LISTEN)")
	fs.StringVar(&c.Data, "data", envOr("WARREN_DATA", "./warren-data"), "data folder (WARREN_DATA)")
	fs.StringVar(&c.Config, "config", envOr("WARREN_CONFIG", ""), "run the Worker project in this wrangler.jsonc; its default fetch receives all traffic (WARREN_CONFIG)")
	fs.StringVar(&c.Egress, "egress", envOr("WARREN_EGRESS", "none"), `outbound network for Workers: "none" or "public" (public addresses only; never loopback, private or metadata) (WARREN_EGRESS)`)
	fs.StringVar(&c.AdminToken, "admin-token", "", "bearer token of the admin API (at least 16 characters); visible to other users in the process list: prefer --admin-token-file or WARREN_ADMIN_TOKEN. If no token is given, <data>/admin.token is used, generated on first start (WARREN_ADMIN_TOKEN)")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", "read the admin token from this file (WARREN_ADMIN_TOKEN_FILE)")
	fs.StringVar(&c.Domain, "domain", envOr("WARREN_DOMAIN", ""), "base domain: requests for {app}.<domain> go to that app (WARREN_DOMAIN)")
	fs.IntVar(&c.AppMemoryMB, "app-memory", envInt("WARREN_APP_MEMORY_MB", 512), "memory budget in MiB for live apps; past it idle apps are closed (WARREN_APP_MEMORY_MB)")
	defIso := "inprocess"
	if runtime.GOOS == "linux" {
		defIso = "process"
	}
	fs.StringVar(&c.Isolation, "isolation", envOr("WARREN_ISOLATION", defIso), `where apps run: "process" (a pool of confined host processes; the default on Linux) or "inprocess" (in this process: for development and embedding) (WARREN_ISOLATION)`)
	fs.IntVar(&c.Hosts, "hosts", envInt("WARREN_HOSTS", max(runtime.NumCPU(), 2)), "host processes with --isolation=process (WARREN_HOSTS)")
	fs.BoolVar(&c.AllowUnconfined, "allow-unconfined", os.Getenv("WARREN_ALLOW_UNCONFINED") == "1", "with --isolation=process, start even if this machine cannot confine the hosts with Landlock or seccomp (a loud warning instead of a refusal; `warren doctor` says what is missing) (WARREN_ALLOW_UNCONFINED=1)")
	fs.StringVar(&c.HostUser, "host-user", envOr("WARREN_HOST_USER", "nobody"), "when run as root, the user the host processes run as, chrooted into their own folders (a name, or uid[:gid]; \"root\" keeps them root, without capabilities) (WARREN_HOST_USER)")
	fs.StringVar(&c.RunAPI, "run-api", envOr("WARREN_RUN_API", "token"), `who may run code with POST /api/v1/run: "token" (a caller with the admin token or the run token), "open" (anyone who reaches the listener) or "off" (WARREN_RUN_API)`)
	fs.StringVar(&c.RunTokenFile, "run-token-file", envOr("WARREN_RUN_TOKEN_FILE", ""), "read a token that allows POST /api/v1/run (and nothing else) from this file (WARREN_RUN_TOKEN_FILE)")
	def := supervisor.DefaultQuotas
	var defStorageMB int
	for _, d := range []struct {
		name, env string
		p         *int
		def       int
		usage     string
	}{
		{"default-rpm", "WARREN_DEFAULT_RPM", &c.Defaults.RequestsPerMinute, def.RequestsPerMinute, "requests per minute of an app that sets none (0: no limit)"},
		{"default-cpu-ms", "WARREN_DEFAULT_CPU_MS", &c.Defaults.CPUMs, def.CPUMs, "CPU time per request of an app that sets none, in milliseconds, up to 300000 (0: the engine's 5 s)"},
		{"default-memory-mb", "WARREN_DEFAULT_MEMORY_MB", &c.Defaults.MemoryMB, def.MemoryMB, "isolate memory of an app that sets none, in MiB, 8 to 4096 (0: the engine's 128)"},
		{"default-storage-mb", "WARREN_DEFAULT_STORAGE_MB", &defStorageMB, int(def.StorageBytes >> 20), "database size of an app that sets none, in MiB (0: the engine's 1024)"},
	} {
		v := d.def
		if e := os.Getenv(d.env); e != "" {
			n, err := strconv.Atoi(strings.TrimSpace(e))
			if err != nil {
				return fmt.Errorf("%s=%q is not a number (it sets --%s)", d.env, e, d.name)
			}
			v = n
		}
		fs.IntVar(d.p, d.name, v, d.usage+" ("+d.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Defaults.StorageBytes = int64(defStorageMB) << 20
	switch q := c.Defaults; {
	case q.RequestsPerMinute < 0:
		return fmt.Errorf("--default-rpm (WARREN_DEFAULT_RPM) must be 0 (no limit) or more, not %d", q.RequestsPerMinute)
	case q.CPUMs < 0 || q.CPUMs > 300000:
		return fmt.Errorf("--default-cpu-ms (WARREN_DEFAULT_CPU_MS) must be 1 to 300000, or 0 (the engine's limit), not %d", q.CPUMs)
	case q.MemoryMB < 0 || q.MemoryMB > 0 && q.MemoryMB < 8 || q.MemoryMB > 4096:
		return fmt.Errorf("--default-memory-mb (WARREN_DEFAULT_MEMORY_MB) must be 8 to 4096, or 0 (the engine's limit), not %d", q.MemoryMB)
	case defStorageMB < 0 || defStorageMB > 1<<30:
		return fmt.Errorf("--default-storage-mb (WARREN_DEFAULT_STORAGE_MB) must be 1 or more, or 0 (the engine's limit), not %d", defStorageMB)
	}
	if _, err := gateway.ParseRunAccess(c.RunAPI); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c.tokenInArgs = set["admin-token"]
	switch {
	case set["admin-token"] && set["admin-token-file"]:
		return fmt.Errorf("give the admin token with --admin-token or --admin-token-file, not both")
	case set["admin-token"] || set["admin-token-file"]: // a flag wins over the environment
	case os.Getenv("WARREN_ADMIN_TOKEN") != "" && os.Getenv("WARREN_ADMIN_TOKEN_FILE") != "":
		return fmt.Errorf("set WARREN_ADMIN_TOKEN or WARREN_ADMIN_TOKEN_FILE, not both")
	default:
		c.AdminToken, c.AdminTokenFile = os.Getenv("WARREN_ADMIN_TOKEN"), os.Getenv("WARREN_ADMIN_TOKEN_FILE")
	}
	if c.Isolation != "process" && c.Isolation != "inprocess" {
		return fmt.Errorf("--isolation must be process or inprocess, not %q", c.Isolation)
	}
	if c.Hosts < 1 || c.Hosts > 256 {
		return fmt.Errorf("--hosts must be 1 to 256, not %d", c.Hosts)
	}
	if _, err := hostUser(c.HostUser); err != nil {
		return err
	}
	if c.Egress != "none" && c.Egress != "public" {
		return fmt.Errorf("--egress must be none or public, not %q", c.Egress)
	}
	return nil
}

func envInt(k string, def int) int {
	if v := os.Getenv(k); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// hostProcs is the GOMAXPROCS of each host: WARREN_HOST_PROCS, else def.
func hostProcs(def int) int {
	if n, err := strconv.Atoi(os.Getenv("WARREN_HOST_PROCS")); err == nil && n > 0 {
		return n
	}
	return def
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Run serves until ctx is cancelled, then shuts down gracefully.
func (c *ServeCommand) Run(ctx context.Context) error {
	log := slog.New(slog.NewJSONHandler(c.Stderr, nil))
	if c.tokenInArgs {
		log.Warn("--admin-token is visible to other users of this machine in the process list (ps): pass the token with --admin-token-file or WARREN_ADMIN_TOKEN instead")
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	unlock, err := lockDataDir(c.Data)
	if err != nil {
		return err
	}
	defer unlock()
	// The address is taken before anything starts (host processes, the
	// supervisor's database): a busy port fails at once, changing nothing.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set --listen or WARREN_LISTEN to a free address)", c.Listen, err)
	}
	defer ln.Close()
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		return err
	}
	ld := loader.New(rt, loader.Options{Limits: warren.DefaultLimits, Logs: func(e worker.LogEntry) {
		log.Info("worker log", "codeId", e.CodeID, "level", e.Level, "message", e.Message)
	}})
	defer ld.Close()
	out := worker.DenyAll
	if c.Egress == "public" {
		out = &worker.Outbound{Direct: egress.New(false, nil)}
	}
	gw := &gateway.Server{Loader: ld, Log: log, Outbound: out, RunAPI: gateway.RunAccess(c.RunAPI)}
	if c.RunTokenFile != "" {
		if gw.RunToken, err = readTokenFile(c.RunTokenFile, "the run token", "--run-token-file (WARREN_RUN_TOKEN_FILE)", log); err != nil {
			return err
		}
	}
	if c.Config != "" && c.Isolation == "process" {
		// The whole project runs in one host process; this process reads
		// and bundles it, serves HTTP and makes its outbound requests.
		cfg, code, err := loadProject(c.Config, log)
		if err != nil {
			return err
		}
		// The one host is all the project has: it may use every core
		// (WARREN_HOST_PROCS overrides; docs/DECISIONS.md).
		procs := hostProcs(runtime.NumCPU())
		pool, err := host.NewPool(host.PoolOptions{AppsDir: c.Data, MemoryBudget: int64(c.AppMemoryMB) << 20, Log: log, HostProcs: procs, AllowUnconfined: c.AllowUnconfined,
			Project: &host.ProjectSpec{Config: cfg, Code: code, Outbound: out, Logs: projectLogs(log)}})
		if err != nil {
			return fmt.Errorf("start the project in a host process: %w (use --isolation=inprocess to run it in this process)", err)
		}
		defer pool.Close()
		gw.Project = pool.Project()
		log.Info("project loaded in a host process", "config", c.Config, "main", cfg.Main, "durableObjectClasses", len(cfg.Classes()), "pids", fmt.Sprint(pool.PIDs()))
	} else if c.Config != "" {
		app, closeProject, err := startProject(c.Config, c.Data, rt, ld, out, log)
		if err != nil {
			return err
		}
		defer closeProject()
		gw.Project = app
	} else {
		token, err := c.adminToken(log)
		if err != nil {
			return err
		}
		opts := supervisor.Options{Runtime: rt, Dir: c.Data, Defaults: c.Defaults,
			Egress: supervisor.PublicEgress, MemoryBudget: int64(c.AppMemoryMB) << 20, Log: log}
		var pool *host.Pool
		if c.Isolation == "process" {
			hu, _ := hostUser(c.HostUser)
			if hu != nil && hu.UID == 0 && os.Geteuid() == 0 {
				log.Warn("--host-user root: the hosts run as root (without capabilities), not as a user of their own")
			}
			runHosts := 1 // one-shot runs never share a host with apps
			if gw.RunAPI == gateway.RunAPIOff {
				runHosts = -1
			}
			pool, err = host.NewPool(host.PoolOptions{Hosts: c.Hosts, AppsDir: filepath.Join(c.Data, "apps"), HostsDir: filepath.Join(c.Data, "hosts"), HostProcs: hostProcs(1), AllowUnconfined: c.AllowUnconfined, HostUser: hu,
				MemoryBudget: int64(c.AppMemoryMB) << 20 / int64(c.Hosts), Log: log,
				RunHosts: runHosts, RunsDir: filepath.Join(c.Data, "runs")})
			if err != nil {
				return fmt.Errorf("start the host processes: %w (use --isolation=inprocess to run apps in this process)", err)
			}
			opts.Runner = pool
		} else if _, err := host.PlaceApps(filepath.Join(c.Data, "apps"), filepath.Join(c.Data, "hosts"), 0); err != nil {
			// Apps last run in host processes: their folders come back to <data>/apps.
			return fmt.Errorf("move the apps' folders out of the hosts' folders: %w", err)
		}
		sup, err := supervisor.New(opts)
		if err != nil {
			if pool != nil {
				pool.Close()
			}
			return err
		}
		if pool != nil {
			pool.Attach(sup)
			gw.Runs = pool
			log.Info("apps run in host processes", "hosts", c.Hosts, "pids", fmt.Sprint(pool.PIDs()), "runPids", fmt.Sprint(pool.RunPIDs()))
		}
		defer sup.Close()
		gw.Apps, gw.AdminToken, gw.Domain = sup, token, strings.ToLower(c.Domain)
	}
	srv := &http.Server{Handler: gw.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	srv.RegisterOnShutdown(gw.Shutdown) // followed logs end at once, cleanly
	c.warnExposure(ln.Addr(), gw, log)
	log.Info("warren listening", "addr", "http://"+ln.Addr().String(), "data", c.Data, "engine", rt.Engine().Name(), "runAPI", string(gw.RunAPI))
	if c.Ready != nil {
		c.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// adminToken returns the admin token: the flag or WARREN_ADMIN_TOKEN, else
// the one saved in the data folder, else a new one, saved and printed once.
func (c *ServeCommand) adminToken(log *slog.Logger) (string, error) {
	if c.AdminToken != "" {
		if len(c.AdminToken) < 16 {
			return "", fmt.Errorf("--admin-token (WARREN_ADMIN_TOKEN) must be at least 16 characters")
		}
		return c.AdminToken, nil
	}
	if c.AdminTokenFile != "" {
		return readTokenFile(c.AdminTokenFile, "the admin token", "--admin-token-file (WARREN_ADMIN_TOKEN_FILE)", log)
	}
	path := filepath.Join(c.Data, "admin.token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save the admin token: %w", err)
	}
	fmt.Fprintf(c.Stderr, "\nAdmin token (saved in %s; shown only this once):\n\n    %s\n\nUse it as: export WARREN_ADMIN_TOKEN=%s\n\n", path, tok, tok)
	log.Info("admin token generated", "file", path)
	return tok, nil
}

// hostUser resolves --host-user: a user name (its uid and primary group),
// or uid[:gid] (gid defaults to uid); nobody is 65534:65534 where the
// system has no such user.
func hostUser(v string) (*sandbox.User, error) {
	if v == "" {
		v = "nobody"
	}
	if id, gid, ok := strings.Cut(v, ":"); ok || isDigits(v) {
		uid, err1 := strconv.Atoi(id)
		g := uid
		var err2 error
		if ok {
			g, err2 = strconv.Atoi(gid)
		}
		if err1 != nil || err2 != nil || uid < 0 || g < 0 {
			return nil, fmt.Errorf("--host-user must be a user name or uid[:gid], not %q", v)
		}
		return &sandbox.User{UID: uid, GID: g}, nil
	}
	u, err := user.Lookup(v)
	if err != nil {
		if v == "nobody" {
			return &sandbox.User{UID: 65534, GID: 65534}, nil
		}
		return nil, fmt.Errorf("--host-user %q: %w (create it, e.g. useradd --system --no-create-home %s, or give uid:gid)", v, err, v)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &sandbox.User{UID: uid, GID: gid}, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// readTokenFile reads a token (what, e.g. "the admin token") from file,
// given by flag: one line of at least 16 characters without spaces; a file
// other users can read is warned about.
func readTokenFile(file, what, flag string, log *slog.Logger) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s from %s: %w", what, flag, err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s in %s must be one line of at least 16 characters, without spaces", what, file)
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn(what+" file can be read by other users: chmod 600 it", "file", file, "mode", fi.Mode().Perm().String())
	}
	return tok, nil
}

// warnExposure warns, loudly, when the listener is not on loopback: Warren
// serves plain HTTP (tokens and app traffic cross the network in clear),
// and with --run-api=open anyone who reaches it can run code.
func (c *ServeCommand) warnExposure(addr net.Addr, gw *gateway.Server, log *slog.Logger) {
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsLoopback() {
		return
	}
	msg := fmt.Sprintf("Warren listens on %s, which is not a loopback address, and serves plain HTTP: the admin token, run tokens and app traffic cross the network unencrypted. Put a TLS-terminating reverse proxy (Caddy, nginx, a load balancer) in front and listen on 127.0.0.1, or firewall the port to the proxy.", addr)
	log.Warn(msg, "listen", addr.String())
	fmt.Fprintf(c.Stderr, "\nWARNING: %s\n", msg)
	if gw.RunAPI == gateway.RunAPIOpen && gw.Project == nil {
		open := "--run-api=open: anyone who reaches this address can run code on this machine with POST /api/v1/run (sandboxed, but with your CPU and memory). Use --run-api=token unless that is what you want."
		log.Warn(open, "listen", addr.String())
		fmt.Fprintf(c.Stderr, "WARNING: %s\n", open)
	}
	fmt.Fprintln(c.Stderr)
}
