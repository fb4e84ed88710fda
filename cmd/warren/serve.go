package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/egress"
	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
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
	Stdout io.Writer
	Stderr io.Writer

	// Ready, if set, receives the bound address once the server listens.
	Ready func(addr string)
}

// ParseFlags reads flags and WARREN_* environment variables.
func (c *ServeCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("warren serve", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.StringVar(&c.Listen, "listen", envOr("WARREN_LISTEN", "127.0.0.1:8080"), "address to listen on (WARREN_LISTEN)")
	fs.StringVar(&c.Data, "data", envOr("WARREN_DATA", "./warren-data"), "data folder (WARREN_DATA)")
	fs.StringVar(&c.Config, "config", envOr("WARREN_CONFIG", ""), "run the Worker project in this wrangler.jsonc; its default fetch receives all traffic (WARREN_CONFIG)")
	fs.StringVar(&c.Egress, "egress", envOr("WARREN_EGRESS", "none"), `outbound network for Workers: "none" or "public" (public addresses only; never loopback, private or metadata) (WARREN_EGRESS)`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Egress != "none" && c.Egress != "public" {
		return fmt.Errorf("--egress must be none or public, not %q", c.Egress)
	}
	return nil
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
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
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
	gw := &gateway.Server{Loader: ld, Log: log, Outbound: out}
	if c.Config != "" {
		app, closeProject, err := startProject(c.Config, c.Data, rt, ld, out, log)
		if err != nil {
			return err
		}
		defer closeProject()
		gw.Project = app
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set --listen or WARREN_LISTEN to a free address)", c.Listen, err)
	}
	srv := &http.Server{Handler: gw.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	log.Info("warren listening", "addr", "http://"+ln.Addr().String(), "data", c.Data, "engine", rt.Engine().Name())
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
