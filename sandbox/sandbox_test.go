//go:build linux

package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/warrenhq/warren/internal/confinetest"
)

// startChild returns the test binary re-executed as a worker of the given mode, with an
// environment made by CleanEnv, in its own process group, killed if the test dies.
func childCmd(t *testing.T, mode string, env ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(CleanEnv("WARREN_SANDBOX_*"), childEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func parseResult(t *testing.T, stdout, stderr *bytes.Buffer) childResult {
	t.Helper()
	var res childResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("child output %q (stderr %q): %v", stdout.String(), tail(stderr.String()), err)
	}
	if res.ConfineError != "" {
		t.Fatalf("Confine: %s\nreport:\n%s", res.ConfineError, res.Report)
	}
	return res
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// TestConfinedEngine runs a "subverted engine" in a confined child: what an engine needs
// works (its folder, SQLite, 100 goroutines on their own threads), what an attacker wants
// fails with the error of the layer that stops it.
func TestConfinedEngine(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WARREN_ADMIN_TOKEN", "must-not-reach-the-worker")
	cmd, stdout, stderr := childCmd(t, "engine",
		"WARREN_SANDBOX_DIR="+dir, "WARREN_SANDBOX_OUTSIDE="+outside,
		fmt.Sprintf("WARREN_SANDBOX_AS=%d", uint64(8)<<30))
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout %s\nstderr %s", err, stdout, tail(stderr.String()))
	}
	res := parseResult(t, stdout, stderr)
	t.Logf("report of this machine:\n%s", res.Report)

	mech := func(name string) (Mechanism, bool) {
		m, ok := res.Report.Get(name)
		return m, ok && m.Applied
	}
	const (
		ok      = 0
		EPERM   = int(syscall.EPERM)
		EACCES  = int(syscall.EACCES)
		ENOSYS  = int(syscall.ENOSYS)
		landloc = "landlock"
		seccomp = "seccomp"
	)
	for _, c := range []struct {
		name  string
		needs string // the mechanism that makes it fail ("" for the ones that must work)
		errno int
	}{
		{"read_write_inside", "", ok},
		{"sqlite", "", ok},
		{"threads", "", ok},
		{"timezone", "", ok},
		{"no_secret_in_env", "", ok},
		{"capabilities_dropped", "", ok},
		{"rlimits_set", "", ok},

		{"read_etc_passwd", landloc, EACCES},
		{"read_outside", landloc, EACCES},
		{"write_outside", landloc, EACCES},
		{"list_root", landloc, EACCES},
		{"write_cgroup_fs", landloc, EACCES},
		{"chmod_outside", seccomp, EPERM},

		{"tcp_socket", seccomp, EPERM},
		{"unix_socket", seccomp, EPERM},
		{"socketpair", seccomp, EPERM},
		{"net_dial", seccomp, EPERM},

		{"exec", seccomp, EPERM},
		{"fork_exec", seccomp, EPERM},
		{"clone3", seccomp, ENOSYS},
		{"ptrace_parent", seccomp, EPERM},
		{"signal_parent", seccomp, EPERM},
		{"signal_everyone", seccomp, EPERM},
		{"prlimit_parent", seccomp, EPERM},
		{"unshare_user_ns", seccomp, EPERM},
		{"mount", seccomp, EPERM},
		{"setuid", seccomp, EPERM},
		{"io_uring", seccomp, EPERM},
		{"bpf", seccomp, EPERM},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, found := res.Checks[c.name]
			if !found {
				t.Fatalf("the child did not run %s", c.name)
			}
			if c.needs != "" {
				if m, applied := mech(c.needs); !applied {
					confinetest.Missing(t, c.needs, m.Detail)
				}
			}
			if got.Skipped != "" {
				t.Fatalf("skipped in the child: %s", got.Skipped)
			}
			if c.errno == ok {
				if got.Err != "" {
					t.Fatalf("failed inside the sandbox: %s", got.Err)
				}
				return
			}
			if got.Err == "" {
				t.Fatalf("succeeded; want %v", syscall.Errno(c.errno))
			}
			if got.Errno != c.errno {
				t.Fatalf("failed with %q (errno %d); want %v", got.Err, got.Errno, syscall.Errno(c.errno))
			}
		})
	}
	// The only file the child made outside its folder would be this one (without Landlock
	// it did: write_outside said so above).
	if _, applied := mech(landloc); applied {
		if _, err := os.Stat(filepath.Join(outside, "new.txt")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("new.txt outside the folder: %v", err)
		}
	}
	if _, applied := mech(seccomp); applied {
		if fi, err := os.Stat(filepath.Join(outside, "secret.txt")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("secret.txt changed: %v %v", fi.Mode(), err)
		}
	}
}

// waitStatus returns how a finished child ended.
func waitStatus(err error) (exitCode int, signal syscall.Signal) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return -1, ws.Signal()
		}
		return ws.ExitStatus(), 0
	}
	if err == nil {
		return 0, 0
	}
	return -2, 0
}

func runWork(t *testing.T, cg *Cgroup, env ...string) {
	t.Helper()
	cmd, stdout, stderr := childCmd(t, "work", env...)
	var err error
	if cg != nil {
		if err = cg.Start(cmd); err == nil {
			err = cmd.Wait()
		}
	} else {
		err = cmd.Run()
	}
	if err != nil {
		t.Fatalf("the next worker failed: %v\nstderr %s", err, tail(stderr.String()))
	}
	res := parseResult(t, stdout, stderr)
	for name, c := range res.Checks {
		if c.Err != "" {
			t.Errorf("next worker: %s: %s", name, c.Err)
		}
	}
}

// TestMemoryLimitCgroup: a worker that allocates without end in a 128 MiB cgroup is killed
// by the kernel; the parent sees it (SIGKILL, the group's OOM counter) and starts a new
// worker in the same group, which works.
func TestMemoryLimitCgroup(t *testing.T) {
	name := fmt.Sprintf("test-%d", os.Getpid())
	cg, err := CgroupFor(name, CgroupLimits{MemoryBytes: 128 << 20, CPUs: 1, MaxPids: 1024})
	if err != nil {
		confinetest.Missing(t, "cgroup", "no cgroup memory limit: "+err.Error())
	}
	t.Cleanup(func() {
		cg.Kill()
		if err := cg.Remove(); err != nil {
			t.Errorf("Remove: %v", err)
		}
	})
	t.Logf("%s (missing: %v)", cg, cg.Missing())
	dir := t.TempDir()

	cmd, _, stderr := childCmd(t, "hog", "WARREN_SANDBOX_DIR="+dir)
	if err := cg.Start(cmd); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	code, sig := waitStatus(err)
	if code == 3 {
		t.Fatalf("the hog was never stopped: %s", stderr)
	}
	if sig != syscall.SIGKILL {
		t.Fatalf("the hog ended with %v (exit %d, signal %v); want SIGKILL from the OOM killer\nstderr %s", err, code, sig, tail(stderr.String()))
	}
	if n, err := cg.OOMKills(); err != nil {
		t.Logf("OOM counter not readable: %v", err)
	} else if n < 1 {
		t.Errorf("OOM kills %d; want at least 1", n)
	}

	// The platform carries on: a new worker in the same group.
	runWork(t, cg, "WARREN_SANDBOX_DIR="+dir)
	if u, err := cg.MemoryUsage(); err == nil {
		t.Logf("memory charged to the group after the second worker: %d KiB", u>>10)
	}
}

// TestMemoryLimitAddressSpace: without a cgroup, RLIMIT_AS stops a worker that allocates
// without end (Go's runtime exits with "out of memory"); the next worker works.
func TestMemoryLimitAddressSpace(t *testing.T) {
	dir := t.TempDir()
	// A Go process maps about 1.2 GiB of address space as it starts: 2 GiB leaves it
	// some 800 MiB to allocate.
	as := fmt.Sprintf("WARREN_SANDBOX_AS=%d", 2<<30)
	cmd, _, stderr := childCmd(t, "hog", "WARREN_SANDBOX_DIR="+dir, as)
	err := cmd.Run()
	code, sig := waitStatus(err)
	switch {
	case code == 3:
		t.Fatalf("the hog was never stopped: %s", stderr)
	case code == 0:
		t.Fatalf("the hog exited normally")
	}
	first, _, _ := strings.Cut(stderr.String(), "\n")
	t.Logf("the hog ended with exit %d signal %v: %s", code, sig, first)
	if !strings.Contains(stderr.String(), "out of memory") {
		t.Errorf("stderr does not say out of memory: %s", tail(stderr.String()))
	}
	runWork(t, nil, "WARREN_SANDBOX_DIR="+dir, as)
}

func TestProbeCgroups(t *testing.T) {
	m := ProbeCgroups()
	t.Logf("%s", Report{Mechanisms: []Mechanism{m}})
	if !m.Applied {
		if m.Detail == "" {
			t.Fatal("no reason given")
		}
		confinetest.Missing(t, "cgroup", m.Detail)
	}
}

// A group that was removed takes no more processes, and Remove may run while another
// goroutine starts a process in the group (a pool closing while it restarts a host: the
// race detector caught Start reading the group's folders as Remove deleted them).
func TestCgroupRemoveWhileStarting(t *testing.T) {
	cg, err := CgroupFor(fmt.Sprintf("test-removed-%d", os.Getpid()), CgroupLimits{MemoryBytes: 128 << 20, CPUs: 1, MaxPids: 1024})
	if err != nil {
		confinetest.Missing(t, "cgroup", "no cgroup memory limit: "+err.Error())
	}
	cmd, _, _ := childCmd(t, "work", "WARREN_SANDBOX_DIR="+t.TempDir())
	done := make(chan error, 1)
	go func() {
		err := cg.Start(cmd)
		if err == nil {
			err = cmd.Wait()
		}
		done <- err
	}()
	removeErr := cg.Remove()
	startErr := <-done
	t.Logf("Remove: %v; Start and Wait: %v", removeErr, startErr)
	if removeErr != nil { // the child was in the group; it has exited now
		if err := cg.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cg.Add(os.Getpid()); !errors.Is(err, errRemoved) {
		t.Fatalf("Add after Remove: %v; want %v", err, errRemoved)
	}
	if err := cg.Start(exec.Command("/bin/true")); err == nil {
		t.Fatal("Start after Remove succeeded")
	}
	t.Log(cg)
}
