package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/gateway"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/worker"
)

// RunCommand runs a file once as a Dynamic Worker.
type RunCommand struct {
	File   string
	Path   string
	Method string
	JSON   bool
	Stdout io.Writer
	Stderr io.Writer
}

// ParseFlags reads the file argument and flags (in any order).
func (c *RunCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("warren run", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	setUsage(fs, "run")
	fs.StringVar(&c.Path, "path", "/", "request path (and query) to send")
	fs.StringVar(&c.Method, "method", "GET", "request method")
	fs.BoolVar(&c.JSON, "json", false, "print a JSON envelope instead of text")
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return parseError(err)
		}
		args = fs.Args()
		if len(args) > 0 {
			rest = append(rest, args[0])
			args = args[1:]
		}
	}
	if len(rest) != 1 {
		fmt.Fprintln(c.Stderr, "usage: "+commandHelps["run"].Usage)
		return errUsage
	}
	c.File = rest[0]
	return nil
}

// Run loads the file, sends one request and prints the outcome.
func (c *RunCommand) Run(ctx context.Context) error {
	src, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	var code *warren.WorkerCode
	rq := &gateway.RunHTTPRequest{Method: c.Method, URL: c.Path}
	switch strings.ToLower(filepath.Ext(c.File)) {
	case ".json":
		rr, err := gateway.ParseRun("application/json", src)
		if err != nil {
			return err
		}
		code = &rr.WorkerCode
		if rr.Request != nil && c.Path == "/" {
			rq = rr.Request
		}
	default:
		code = warren.SingleModule(filepath.Base(c.File), string(src))
	}
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		return err
	}
	ld := loader.New(rt, loader.Options{})
	defer ld.Close()
	var mu sync.Mutex
	var logs []worker.LogEntry
	resp, err := gateway.RunOnce(ctx, ld, &worker.LoadCode{Code: code, Outbound: worker.DenyAll}, rq, func(e worker.LogEntry) {
		mu.Lock()
		logs = append(logs, e)
		mu.Unlock()
	})
	env := gateway.Envelope{}
	var body []byte
	if err == nil {
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		env.Status, env.Headers, env.Body = resp.StatusCode, resp.Header, string(body)
	}
	mu.Lock()
	env.Logs = logs
	mu.Unlock()
	if c.JSON {
		if err != nil {
			var we *warren.Error
			if e, ok := err.(*warren.Error); ok {
				we = e
			} else {
				we = &warren.Error{Code: warren.ErrorCode(err), Message: err.Error()}
			}
			env.Error = we
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(env)
		if err != nil {
			return fmt.Errorf("the Worker failed")
		}
		return nil
	}
	for _, l := range env.Logs {
		fmt.Fprintf(c.Stderr, "[%s] %s\n", l.Level, l.Message)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "HTTP %d\n", env.Status)
	c.Stdout.Write(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		fmt.Fprintln(c.Stdout)
	}
	return nil
}
