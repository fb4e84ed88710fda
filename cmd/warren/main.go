// Command warren is the Warren platform: one binary that runs untrusted
// JavaScript and TypeScript Workers in sandboxed isolates.
//
//	warren serve [--listen 127.0.0.1:8080] [--data ./warren-data]
//	warren run FILE [--path /x]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "warren:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `Warren runs untrusted JavaScript/TypeScript Workers in sandboxed isolates.

Usage:
  warren serve [--listen 127.0.0.1:8080] [--data ./warren-data]
        Run the platform. Settings also come from WARREN_LISTEN and WARREN_DATA.
  warren run FILE [--path /x] [--method GET] [--json]
        Run FILE (.js or .ts, or a .json bundle) once as a Dynamic Worker and
        print its response and console output.
`

// Run runs the command line args.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		c := &ServeCommand{Stdout: stdout, Stderr: stderr}
		if err := c.ParseFlags(args[1:]); err != nil {
			return err
		}
		return c.Run(ctx)
	case "run":
		c := &RunCommand{Stdout: stdout, Stderr: stderr}
		if err := c.ParseFlags(args[1:]); err != nil {
			return err
		}
		return c.Run(ctx)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
