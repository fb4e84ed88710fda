//go:build linux

package confinetest

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// KernelHas reports whether the kernel offers layer to this process, and
// what it saw: Landlock (an ABI version above 0), seccomp filters
// (SECCOMP_GET_ACTION_AVAIL answers for SECCOMP_RET_ERRNO), cgroup (the
// memory controller enabled in /proc/cgroups, and a cgroup hierarchy that
// has it mounted read-write).
func KernelHas(layer string) (bool, string) {
	switch layer {
	case "landlock":
		v, err := ll.LandlockGetABIVersion()
		if err != nil {
			return false, "landlock_create_ruleset: " + err.Error()
		}
		return v > 0, fmt.Sprintf("Landlock ABI %d", v)
	case "seccomp":
		action := uint32(unix.SECCOMP_RET_ERRNO)
		if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action))); e != 0 {
			return false, "seccomp(SECCOMP_GET_ACTION_AVAIL): " + e.Error()
		}
		return true, "seccomp filters"
	case "cgroup":
		return cgroupMemory()
	}
	return false, "no layer named " + layer
}

func cgroupMemory() (bool, string) {
	b, err := os.ReadFile("/proc/cgroups")
	if err != nil {
		return false, err.Error()
	}
	enabled := false
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "memory" && f[3] == "1" {
			enabled = true
		}
	}
	if !enabled {
		return false, "the memory controller is not enabled in /proc/cgroups"
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err.Error()
	}
	for _, line := range strings.Split(string(mi), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 6 || len(b) < 3 || !hasOpt(a[5], "rw") {
			continue
		}
		switch {
		case b[0] == "cgroup" && hasOpt(b[2], "memory"):
			return true, "memory controller mounted read-write at " + a[4]
		case b[0] == "cgroup2" && hasMemory(a[4]):
			return true, "cgroup v2 with memory mounted read-write at " + a[4]
		}
	}
	return false, "no cgroup hierarchy with the memory controller is mounted read-write"
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

func hasMemory(mnt string) bool {
	b, err := os.ReadFile(mnt + "/cgroup.controllers")
	return err == nil && hasOpt(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", ","), "memory")
}
