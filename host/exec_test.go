package host_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/supervisor"
)

type osExecCmd = exec.Cmd

func command(exe string) *exec.Cmd { return exec.Command(exe, "-test.run=^$") }

func newPool(apps, exe string, hosts int) (*host.Pool, error) {
	return host.NewPool(host.PoolOptions{Hosts: hosts, AppsDir: apps, MemoryBudget: 256 << 20,
		Command: func() *exec.Cmd { return command(exe) }, Env: []string{"WARREN_HOST_TEST_CHILD=1", "WARREN_HOST_TEST_NOCONFINE=" + os.Getenv("WARREN_HOST_TEST_NOCONFINE"), "WARREN_HOST_TEST_PROFILE=" + os.Getenv("WARREN_HOST_TEST_PROFILE")}})
}

func deployB(b *testing.B, s *supervisor.Supervisor, id, src string) {
	if _, _, err := s.Deploy(context.Background(), id, &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src)}); err != nil {
		b.Fatal(err)
	}
}
