package main

import (
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren/sandbox"
)

// With --isolation=process, a machine without Landlock or seccomp
// (simulated: the hosts' sandbox skips the layer) makes warren serve refuse
// to start, naming the layer and the fix; --allow-unconfined (or
// WARREN_ALLOW_UNCONFINED=1) starts it with a loud warning.
func TestServeRefusesUnconfinedHosts(t *testing.T) {
	t.Setenv(sandbox.DisableEnv, "seccomp")
	err, _ := serveFails(t, "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--isolation", "process", "--hosts", "2")
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
