// Package confinetest decides, for the tests, what a confinement layer
// (landlock, seccomp, cgroup) that was not applied means: a skip on a
// machine without it, a failure where it is required.
//
// A layer is required when WARREN_REQUIRE_CONFINEMENT=1 (.ci/run sets it),
// or when CI=true and WARREN_REQUIRE_CONFINEMENT is not 0, and the kernel
// reports the layer available (KernelHas, which looks at the kernel
// directly rather than through the sandbox package under test). There a
// missing layer is a regression, not an environment to tolerate.
package confinetest

import (
	"os"
	"testing"
)

// Required reports whether the environment asks for every layer the
// kernel has.
func Required() bool {
	switch os.Getenv("WARREN_REQUIRE_CONFINEMENT") {
	case "1":
		return true
	case "0":
		return false
	}
	return os.Getenv("CI") == "true"
}

// Missing is called by a test that needs layer and found it not applied
// (detail says why). It fails the test when the layer is Required and the
// kernel has it; it skips it otherwise.
func Missing(tb testing.TB, layer, detail string) {
	tb.Helper()
	has, why := KernelHas(layer)
	if has && Required() {
		tb.Fatalf("%s was not applied although the kernel has it (%s): %s", layer, why, detail)
	}
	if Required() {
		tb.Skipf("%s is not available on this kernel (%s): %s", layer, why, detail)
	}
	tb.Skipf("%s is not available: %s", layer, detail)
}
