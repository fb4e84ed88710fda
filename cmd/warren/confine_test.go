package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren/internal/confinetest"
	"github.com/warrenhq/warren/sandbox"
)

// With --isolation=process, a machine without Landlock or seccomp
// (simulated: the hosts' sandbox skips the layer) makes warren serve refuse
// to start, naming the layer and the fix; --allow-unconfined (or
// WARREN_ALLOW_UNCONFINED=1) starts it with a loud warning.
func TestServeRefusesUnconfinedHosts(t *testing.T) {
	t.Setenv(sandbox.DisableEnv, "seccomp")
	_, err := serveFails(t, "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--isolation", "process", "--hosts", "2")
	if err == nil || !strings.Contains(err.Error(), "without seccomp") || !strings.Contains(err.Error(), "--allow-unconfined") {
		t.Fatalf("serve without seccomp: %v", err)
	}
	t.Setenv("WARREN_ALLOW_UNCONFINED", "1")
	_, stderr, stop := serveWith(t, "--data", t.TempDir(), "--isolation", "process", "--hosts", "2")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "HOSTS RUN UNCONFINED") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), `"level":"WARN","msg":"HOSTS RUN UNCONFINED: untrusted code runs without seccomp`) {
		t.Fatalf("no warning:\n%s", stderr)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// warren serve run by root starts its hosts as --host-user (nobody by
// default), never as root.
func TestServeHostsRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: hosts run as the server's user otherwise")
	}
	for _, tc := range []struct{ flag, want string }{{"", "65534"}, {"12345:23456", "12345"}} {
		args := []string{"--data", t.TempDir(), "--isolation", "process", "--hosts", "2"}
		if tc.flag != "" {
			args = append(args, "--host-user", tc.flag)
		}
		_, _, stop := serveWith(t, args...)
		// Two apps' hosts and one run host.
		var uids []string
		all := func() bool {
			for _, u := range uids {
				if u != tc.want {
					return false
				}
			}
			return len(uids) == 3
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			uids = childUIDs(t)
			if all() {
				break
			}
			time.Sleep(50 * time.Millisecond) // a host becomes the user as it confines itself
		}
		if !all() {
			t.Errorf("--host-user %q: the hosts' real, effective, saved uids: %v, want %s", tc.flag, uids, tc.want)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	if err := (&ServeCommand{Stderr: io.Discard}).ParseFlags([]string{"--host-user", "no-such-user-here"}); err == nil || !strings.Contains(err.Error(), "useradd") {
		t.Fatalf("an unknown user: %v", err)
	}
}

// childUIDs returns, for each child process of this one, its uid when its
// real, effective and saved uids agree ("mixed" otherwise).
func childUIDs(t *testing.T) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var ppid, uid string
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				ppid = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				f := strings.Fields(v)
				uid = f[0]
				if f[1] != f[0] || f[2] != f[0] {
					uid = "mixed"
				}
			}
		}
		if ppid == strconv.Itoa(os.Getpid()) {
			out = append(out, uid)
		}
	}
	return out
}

// warren doctor reports each layer and whether warren serve would start:
// exit status 0 on this machine, 1 when a required layer is missing
// (simulated), 0 again with --allow-unconfined.
func TestDoctor(t *testing.T) {
	doctor := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), append([]string{"doctor"}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := doctor()
	t.Logf("%s", out)
	for _, want := range []string{"The kernel offers:", "landlock", "seccomp", "cgroup", "A test host", "capabilities"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if err != nil {
		if strings.Contains(out, "would REFUSE") {
			confinetest.Missing(t, "landlock", out)
		}
		t.Fatalf("doctor: %v", err)
	}
	if !strings.Contains(out, "would start") {
		t.Fatalf("doctor does not say the server would start:\n%s", out)
	}
	t.Setenv(sandbox.DisableEnv, "landlock")
	out, err = doctor()
	if err == nil || !strings.Contains(out, "would REFUSE to start: its hosts would run without landlock") || !strings.Contains(out, "landlock: run a kernel with Landlock") || !strings.Contains(out, "--allow-unconfined") {
		t.Fatalf("doctor without landlock: %v\n%s", err, out)
	}
	out, err = doctor("--allow-unconfined")
	if err != nil || !strings.Contains(out, "would start WITHOUT landlock") {
		t.Fatalf("doctor --allow-unconfined without landlock: %v\n%s", err, out)
	}
}
