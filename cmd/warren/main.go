// Command warren is the Warren platform: one binary that runs untrusted
// JavaScript and TypeScript Workers in sandboxed isolates.
//
//	warren serve [--listen 127.0.0.1:8080] [--data ./warren-data]
//	warren run FILE [--path /x]
//	warren deploy ID FILE | apps | versions ID | limits ID | logs ID [-f] | usage [ID] | rollback ID | rm ID
//	warren help CMD | version | completion bash
//	warren load [--apps M] [--clients N] [--duration T]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/warrenhq/warren/host"
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
  warren serve [--listen 127.0.0.1:8080] [--data ./warren-data] [--admin-token-file F]
               [--domain D] [--egress none|public] [--config wrangler.jsonc]
        Run the platform: apps at /apps/ID/, the admin API under /api/v1 (its
        token is --admin-token-file or WARREN_ADMIN_TOKEN, else <data>/admin.token,
        generated on first start). --config runs one Worker project instead.
        Settings also come from WARREN_LISTEN, WARREN_DATA, WARREN_ADMIN_TOKEN,
        WARREN_ADMIN_TOKEN_FILE, WARREN_DOMAIN, WARREN_EGRESS and WARREN_CONFIG;
        warren serve --help lists them all. The quotas of apps that set none:
        --default-rpm, --default-cpu-ms, --default-memory-mb, --default-storage-mb.
  warren doctor [--host-user U] [--allow-unconfined]
        Check how this machine confines the host processes (Landlock, seccomp,
        cgroups, the hosts' user) and whether warren serve would start; exit 1
        when it would refuse.
  warren run FILE [--path /x] [--method GET] [--json]
        Run FILE (.js or .ts, or a .json bundle) once as a Dynamic Worker and
        print its response and console output.

Apps on a running server (the admin API of warren serve; see docs/API.md):
  warren deploy ID FILE [--class NAME]
        Deploy FILE (.js/.mjs, .ts/.mts/.tsx, or a .json bundle) as app ID,
        served at /apps/ID/. Broken code is refused; the old version keeps serving.
  warren apps [-q]
        List the apps.
  warren versions ID
        List the versions kept of the app.
  warren limits ID [--rpm N] [--cpu-ms N] [--memory-mb N] [--storage-mb N] [--egress HOSTS]
        Print the app's quotas and egress; with flags, set those (the others are kept).
  warren logs ID [-f] [-n 100]
        Print the app's last N log lines; -f follows new ones.
  warren usage [ID] [--period hour|day|month|all] [--csv]
        Print usage (requests, errors, CPU, rows, storage) per app and period.
  warren rollback ID [--version N]
        Go back to version N (default: the one before the current one).
  warren rm ID [--yes]
        Delete the app with its versions and data (asks first, or --yes).

  warren load [--apps 16] [--clients 16] [--duration 10s] [--writes 0.5] [--soak]
        Load a server (--url, or a child warren serve it starts): N clients over
        M apps, mixed reads and writes; reports p50/p99, errors, server RSS, and
        checks that every acknowledged write was stored.

  These take --url (WARREN_URL, default http://127.0.0.1:8080), --token-file
  (WARREN_ADMIN_TOKEN_FILE) or --token (WARREN_ADMIN_TOKEN; else the admin.token
  file in WARREN_DATA or ./warren-data) and --json (print the API's JSON
  instead of a table).

  warren help COMMAND       the help of a command (as warren COMMAND --help)
  warren version            the version and VCS revision of this binary
  warren completion bash    a bash completion script (also zsh)
`

// Run runs the command line args.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := run(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) { // the help, asked for, was printed
		return nil
	}
	return err
}

// flagCommand is a command of warren with flags.
type flagCommand interface {
	ParseFlags(args []string) error
	Run(ctx context.Context) error
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	flagOut := stderr // where a command's flag errors go, or its help when asked for
	if helpAsked(args[1:]) {
		flagOut = stdout
	}
	// parseAndRun parses the command's flags, its Stderr (*cerr) at flagOut
	// meanwhile, then runs it with its Stderr at stderr.
	parseAndRun := func(c flagCommand, cerr *io.Writer) error {
		*cerr = flagOut
		if err := c.ParseFlags(args[1:]); err != nil {
			return err
		}
		*cerr = stderr
		return c.Run(ctx)
	}
	switch args[0] {
	case "serve":
		c := &ServeCommand{Stdout: stdout}
		return parseAndRun(c, &c.Stderr)
	case "run":
		c := &RunCommand{Stdout: stdout}
		return parseAndRun(c, &c.Stderr)
	case "deploy", "apps", "versions", "limits", "logs", "usage", "rollback", "rm":
		c := &AdminCommand{Name: args[0], Stdout: stdout}
		return parseAndRun(c, &c.Stderr)
	case "load":
		c := &LoadCommand{Stdout: stdout}
		return parseAndRun(c, &c.Stderr)
	case "doctor":
		c := &DoctorCommand{Stdout: stdout}
		return parseAndRun(c, &c.Stderr)
	case "host": // internal: a host process started by warren serve
		return host.Main()
	case "version", "--version", "-version":
		if len(args) > 1 && !(args[0] == "version" && helpAsked(args[1:])) {
			fmt.Fprintf(stderr, "usage: %s\n", commandHelps["version"].Usage)
			return errUsage
		}
		if len(args) > 1 {
			return simpleHelp(stdout, "version")
		}
		fmt.Fprint(stdout, versionString())
		return nil
	case "completion":
		if helpAsked(args[1:]) {
			return simpleHelp(stdout, "completion")
		}
		if len(args) != 2 {
			fmt.Fprintf(stderr, "usage: %s\n", commandHelps["completion"].Usage)
			return errUsage
		}
		script, err := completionScript(args[1])
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, script)
		return nil
	case "help", "-h", "--help", "-help":
		if len(args) == 1 || args[0] != "help" {
			fmt.Fprint(stdout, usage)
			return nil
		}
		if len(args) > 2 {
			fmt.Fprintf(stderr, "usage: %s\n", commandHelps["help"].Usage)
			return errUsage
		}
		if _, ok := commandHelps[args[1]]; !ok || args[1] == "help" {
			if args[1] == "help" || helpAsked(args[1:]) {
				return simpleHelp(stdout, "help")
			}
			fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[1], usage)
			return errUsage
		}
		return run(ctx, []string{args[1], "--help"}, stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

// simpleHelp prints the help of a command without flags.
func simpleHelp(w io.Writer, name string) error {
	writeHelp(w, flag.NewFlagSet(name, flag.ContinueOnError), name)
	return flag.ErrHelp
}
