//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/psx"
)

// Confine confines the calling process for good: rlimits, capabilities, Landlock, seccomp,
// in that order, each on every thread of the process. It is meant to be called once, by the
// worker process itself, early (before it is given untrusted code, and before it starts
// goroutines that open files). There is no way back.
//
// A mechanism the kernel does not have is skipped and named in the Report. The error is
// non-nil when the policy is invalid (a ReadWrite folder that does not exist) or when an
// available mechanism failed; the process should then exit rather than run untrusted code.
// The Report returned with an error says what was applied before it.
func Confine(p Policy) (Report, error) {
	var r Report

	// Validate before changing anything.
	for _, d := range p.ReadWrite {
		fi, err := os.Stat(d)
		if err != nil {
			return r, fmt.Errorf("sandbox: read-write folder: %w", err)
		}
		if !fi.IsDir() {
			return r, fmt.Errorf("sandbox: read-write path %s is not a folder", d)
		}
	}

	m, err := applyRlimits(p)
	r.Add(m)
	if err != nil {
		return r, err
	}
	m, err = dropCapabilities()
	r.Add(m)
	if err != nil {
		return r, err
	}
	m, err = applyLandlock(p)
	r.Add(m)
	if err != nil {
		return r, err
	}
	m, err = applySeccomp()
	r.Add(m)
	return r, err
}

func applyRlimits(p Policy) (Mechanism, error) {
	m := Mechanism{Name: "rlimits", Applied: true}
	var parts []string
	set := func(res int, name string, v uint64, show string) error {
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			return fmt.Errorf("sandbox: setrlimit %s=%d: %w", name, v, err)
		}
		parts = append(parts, name+"="+show)
		return nil
	}
	if p.MaxAddressSpace > 0 {
		// A Go process reserves about 1.2 GiB of address space as it starts; a limit
		// below what is already mapped would make every later allocation fail.
		if used := vmSize(); used > 0 && p.MaxAddressSpace <= used {
			return m, fmt.Errorf("sandbox: RLIMIT_AS %s is below the %s this process already has mapped", formatBytes(p.MaxAddressSpace), formatBytes(used))
		}
		if err := set(unix.RLIMIT_AS, "RLIMIT_AS", p.MaxAddressSpace, formatBytes(p.MaxAddressSpace)); err != nil {
			return m, err
		}
	}
	if p.MaxOpenFiles > 0 {
		if err := set(unix.RLIMIT_NOFILE, "RLIMIT_NOFILE", p.MaxOpenFiles, fmt.Sprint(p.MaxOpenFiles)); err != nil {
			return m, err
		}
	}
	if p.MaxProcesses > 0 {
		show := fmt.Sprint(p.MaxProcesses)
		if os.Geteuid() == 0 {
			show += " (not enforced: the kernel exempts root)"
		}
		if err := set(unix.RLIMIT_NPROC, "RLIMIT_NPROC", p.MaxProcesses, show); err != nil {
			return m, err
		}
	}
	if err := set(unix.RLIMIT_CORE, "RLIMIT_CORE", 0, "0"); err != nil {
		return m, err
	}
	m.Detail = strings.Join(parts, ", ")
	return m, nil
}

// vmSize is the address space the process has mapped now (0 if unknown).
func vmSize() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmSize:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// dropCapabilities empties the bounding, effective, permitted and inheritable capability
// sets of every thread (capabilities are per thread in Linux, so this goes through psx,
// which runs the system call on all of them). Without capabilities a worker running as
// root cannot override file permissions, raise its rlimits, signal other users' processes,
// load modules or change its credentials.
func dropCapabilities() (Mechanism, error) {
	m := Mechanism{Name: "capabilities", Applied: true}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return m, fmt.Errorf("sandbox: capget: %w", err)
	}
	had := data[0].Effective|data[0].Permitted|data[1].Effective|data[1].Permitted != 0
	if had {
		// The bounding set only matters across execve, which seccomp denies; emptied
		// anyway, while CAP_SETPCAP is still held.
		for c := 0; c <= unix.CAP_LAST_CAP; c++ {
			if _, _, e := psx.Syscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0, 0); e != 0 && e != unix.EINVAL {
				return m, fmt.Errorf("sandbox: dropping capability %d from the bounding set: %w", c, e)
			}
		}
		hdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		data = [2]unix.CapUserData{}
		if _, _, e := psx.Syscall3(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
			return m, fmt.Errorf("sandbox: capset: %w", e)
		}
		m.Detail = "all dropped on every thread (the process had some"
		if os.Geteuid() == 0 {
			m.Detail += ", running as root"
		}
		m.Detail += ")"
	} else {
		m.Detail = "none held"
	}
	return m, nil
}

// loadSeccomp installs a filter on every thread (TSYNC). The calling goroutine stays on
// one OS thread between the no_new_privs check and the seccomp call.
func loadSeccomp(prog []unix.SockFilter) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if e != 0 {
		return fmt.Errorf("sandbox: seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", e)
	}
	if r != 0 {
		// With TSYNC, a positive result is the id of a thread that could not be
		// synchronised (it already has a different filter).
		return fmt.Errorf("sandbox: seccomp TSYNC: thread %d could not take the filter", r)
	}
	return nil
}

// seccompAvailable reports whether the kernel has seccomp filters, and why not.
func seccompAvailable() (bool, string) {
	// SECCOMP_GET_ACTION_AVAIL (Linux 4.14) for ERRNO: ENOSYS/EINVAL without seccomp.
	action := uint32(unix.SECCOMP_RET_ERRNO)
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action)))
	switch {
	case e == 0:
		return true, ""
	case errors.Is(e, syscall.ENOSYS):
		return false, "the kernel has no seccomp system call (seccomp: ENOSYS)"
	case errors.Is(e, syscall.EINVAL):
		return false, "the kernel is built without seccomp filters or is older than 4.14 (SECCOMP_GET_ACTION_AVAIL: EINVAL)"
	default:
		return false, fmt.Sprintf("seccomp(SECCOMP_GET_ACTION_AVAIL): %v", e)
	}
}
