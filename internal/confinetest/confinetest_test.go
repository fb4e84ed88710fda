package confinetest

import "testing"

// TestKernelHas logs what this machine offers; with the layers required it
// also checks that the probes do not contradict each other's premises.
func TestKernelHas(t *testing.T) {
	for _, layer := range []string{"landlock", "seccomp", "cgroup"} {
		has, why := KernelHas(layer)
		t.Logf("%s: %v (%s)", layer, has, why)
		if why == "" {
			t.Errorf("%s: no reason given", layer)
		}
	}
	if has, _ := KernelHas("nonsense"); has {
		t.Error("a layer that does not exist is available")
	}
}
