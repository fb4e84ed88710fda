package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/sandbox"
)

// DoctorCommand says how well this machine confines warren serve's host
// processes: each layer the kernel offers, what a test host really applied,
// the cgroups, and whether warren serve --isolation=process would start.
type DoctorCommand struct {
	HostUser        string
	AllowUnconfined bool
	Stdout, Stderr  io.Writer
}

// errDoctor is the error of a machine where warren serve would refuse to
// start (exit status 1; the report says why).
var errDoctor = errors.New("warren serve would refuse to start on this machine (see above)")

// ParseFlags reads the flags (the ones of warren serve that change the answer).
func (c *DoctorCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("warren doctor", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	setUsage(fs, "doctor")
	fs.StringVar(&c.HostUser, "host-user", envOr("WARREN_HOST_USER", "nobody"), "as warren serve --host-user: the user the test host runs as when run as root (WARREN_HOST_USER)")
	fs.BoolVar(&c.AllowUnconfined, "allow-unconfined", os.Getenv("WARREN_ALLOW_UNCONFINED") == "1", "as warren serve --allow-unconfined: answer whether the server would start with it (WARREN_ALLOW_UNCONFINED=1)")
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	_, err := hostUser(c.HostUser)
	return err
}

// Run prints the report; it returns errDoctor when warren serve would refuse.
func (c *DoctorCommand) Run(ctx context.Context) error {
	w := c.Stdout
	who := fmt.Sprintf("uid %d", os.Geteuid())
	if os.Geteuid() == 0 {
		who = "root"
	}
	fmt.Fprintf(w, "warren doctor: %s/%s, kernel %s, running as %s\n\n", runtime.GOOS, runtime.GOARCH, kernelRelease(), who)

	fmt.Fprintln(w, "The kernel offers:")
	for _, m := range sandbox.Available() {
		state := "yes"
		if !m.Applied {
			state = "NO"
		}
		fmt.Fprintf(w, "  %-9s %s: %s", m.Name, state, m.Detail)
		if m.Missing != "" {
			fmt.Fprintf(w, " (lacks: %s)", m.Missing)
		}
		fmt.Fprintln(w)
	}

	// A real host, as warren serve starts it, in a scratch data folder.
	fmt.Fprintln(w, "\nA test host (started as warren serve starts one) applied:")
	rep, err := c.testHost()
	if err != nil {
		fmt.Fprintf(w, "  it did not start: %v\n", err)
		fmt.Fprintf(w, "\nwarren serve --isolation=process: would REFUSE to start (its hosts do not start here).\n")
		return errDoctor
	}
	for _, m := range rep.Mechanisms {
		state := "applied"
		if !m.Applied {
			state = "NOT APPLIED"
		}
		fmt.Fprintf(w, "  %-12s %s: %s\n", m.Name, state, m.Detail)
	}

	missing := rep.Unconfined()
	fmt.Fprintln(w)
	switch {
	case len(missing) == 0:
		fmt.Fprintln(w, "warren serve --isolation=process: would start, every required layer (landlock, seccomp) applied.")
	case c.AllowUnconfined:
		fmt.Fprintf(w, "warren serve --isolation=process: would start WITHOUT %s, with a warning, because --allow-unconfined (WARREN_ALLOW_UNCONFINED=1) is set.\n", names(missing))
	default:
		fmt.Fprintf(w, "warren serve --isolation=process: would REFUSE to start: its hosts would run without %s.\n", names(missing))
	}
	var todo []string
	for _, m := range rep.Mechanisms {
		if !m.Applied && sandbox.Fix(m.Name) != "" {
			todo = append(todo, fmt.Sprintf("%s: %s", m.Name, sandbox.Fix(m.Name)))
		}
	}
	if len(missing) > 0 && !c.AllowUnconfined {
		todo = append(todo, "or, knowing that the hosts are then less confined, pass --allow-unconfined (WARREN_ALLOW_UNCONFINED=1)")
	}
	if len(todo) > 0 {
		fmt.Fprintln(w, "\nWhat to do:")
		for _, t := range todo {
			fmt.Fprintf(w, "  - %s\n", t)
		}
	}
	if len(missing) > 0 && !c.AllowUnconfined {
		return errDoctor
	}
	return nil
}

// testHost starts one host in a scratch folder, waits for its confinement
// report and stops it.
func (c *DoctorCommand) testHost() (*sandbox.Report, error) {
	dir, err := os.MkdirTemp("", "warren-doctor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	hu, err := hostUser(c.HostUser)
	if err != nil {
		return nil, err
	}
	pool, err := host.NewPool(host.PoolOptions{Hosts: 1, AppsDir: filepath.Join(dir, "apps"), HostsDir: filepath.Join(dir, "hosts"),
		MemoryBudget: 64 << 20, HostUser: hu, AllowUnconfined: true})
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	deadline := time.Now().Add(30 * time.Second)
	for pool.Confinement() == nil {
		if time.Now().After(deadline) {
			return nil, errors.New("it did not report its confinement within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return pool.Confinement(), nil
}

func names(ms []sandbox.Mechanism) string {
	var n []string
	for _, m := range ms {
		n = append(n, m.Name)
	}
	return strings.Join(n, " and ")
}

// kernelRelease is the running kernel's release ("" where unknown).
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
