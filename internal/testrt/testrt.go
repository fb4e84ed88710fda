// Package testrt holds what the tests and benchmarks of several packages
// share: one worker.Runtime per test process (compiling the prelude and
// starting the pool of pre-booted VMs once), latency percentiles and the
// process's resident memory.
package testrt

import (
	"sync"
	"testing"

	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/worker"
)

var (
	once sync.Once
	rt   *worker.Runtime
	err  error
)

// Runtime returns the process's shared Runtime, failing tb if it cannot be
// made.
func Runtime(tb testing.TB) *worker.Runtime {
	tb.Helper()
	once.Do(func() { rt, err = worker.NewRuntime(&quickjs.Engine{}) })
	if err != nil {
		tb.Fatalf("NewRuntime: %v", err)
	}
	return rt
}
