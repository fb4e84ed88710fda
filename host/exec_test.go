package host_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/supervisor"
)

// newPool starts hosts that are this test binary (see TestMain); the
// WARREN_HOST_TEST_* switches pass through to them.
func newPool(apps string, hosts int, memoryBudget int64, hostMemory uint64) (*host.Pool, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	procs, _ := strconv.Atoi(os.Getenv("WARREN_HOST_TEST_PROCS")) // benchmarks: the hosts' GOMAXPROCS (default 1)
	return host.NewPool(host.PoolOptions{Hosts: hosts, AppsDir: apps, MemoryBudget: memoryBudget, HostMemory: hostMemory, HostProcs: procs,
		AllowUnconfined: os.Getenv("WARREN_HOST_TEST_NOCONFINE") != "", // such hosts report nothing
		Command:         func() *exec.Cmd { return exec.Command(exe, "-test.run=^$") },
		Env:             []string{"WARREN_HOST_TEST_CHILD=1", "WARREN_HOST_TEST_NOCONFINE=" + os.Getenv("WARREN_HOST_TEST_NOCONFINE"), "WARREN_HOST_TEST_PROFILE=" + os.Getenv("WARREN_HOST_TEST_PROFILE")}})
}

func deployB(b *testing.B, s *supervisor.Supervisor, id, src string) {
	if _, _, err := s.Deploy(context.Background(), id, &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", src)}); err != nil {
		b.Fatal(err)
	}
}
