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

// Confine confines the calling process for good: rlimits, the capability bounding set,
// Landlock, the chroot and the user (Policy.Root, Policy.User), the remaining capabilities,
// seccomp, in that order, each on every thread of the process. It is meant to be called once, by the
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
	if p.Root != "" {
		if p.User == nil || p.User.UID == 0 {
			return r, errors.New("sandbox: Policy.Root needs a Policy.User other than root (root could leave the chroot, and psx, which drops root's capabilities, needs /proc)")
		}
		if fi, err := os.Stat(p.Root); err != nil || !fi.IsDir() {
			return r, fmt.Errorf("sandbox: root folder %s: not a folder (%v)", p.Root, err)
		}
	}

	m, err := applyRlimits(p)
	r.Add(m)
	if err != nil {
		return r, err
	}
	// The bounding set needs CAP_SETPCAP, which a change of user takes away; the other
	// sets are emptied after it, since changing the user needs CAP_SETUID and CAP_SETGID
	// (and the chroot CAP_SYS_CHROOT).
	had, err := dropBoundingSet()
	if err != nil {
		r.Add(Mechanism{Name: "capabilities"})
		return r, err
	}
	m, err = applyLandlock(p)
	r.Add(m)
	if err != nil {
		return r, err
	}
	m, err = changeUser(p)
	r.Add(m)
	if err != nil {
		return r, err
	}
	m, err = dropCapabilities(had)
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
func dropCapabilities(had bool) (Mechanism, error) {
	m := Mechanism{Name: "capabilities", Applied: true}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return m, fmt.Errorf("sandbox: capget: %w", err)
	}
	if data[0].Effective|data[0].Permitted|data[1].Effective|data[1].Permitted != 0 {
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
	} else if had {
		m.Detail = "all dropped on every thread (the change of user took them; the bounding set emptied before)"
	} else {
		m.Detail = "none held"
	}
	return m, nil
}

// dropBoundingSet empties the capability bounding set of every thread when the process
// holds capabilities (it then has CAP_SETPCAP), and reports whether it held any. The
// bounding set only matters across execve, which seccomp denies; emptied anyway.
func dropBoundingSet() (bool, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false, fmt.Errorf("sandbox: capget: %w", err)
	}
	if data[0].Effective|data[0].Permitted|data[1].Effective|data[1].Permitted == 0 {
		return false, nil
	}
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if _, _, e := psx.Syscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0, 0); e != 0 && e != unix.EINVAL {
			return true, fmt.Errorf("sandbox: dropping capability %d from the bounding set: %w", c, e)
		}
	}
	return true, nil
}

// changeUser chroots the process into Policy.Root and makes it Policy.User, on every thread
// (psx). A change of credentials clears the parent-death signal, so it is set again.
func changeUser(p Policy) (Mechanism, error) {
	m := Mechanism{Name: "user"}
	if p.Root != "" {
		if err := unix.Chroot(p.Root); err != nil {
			return m, fmt.Errorf("sandbox: chroot %s: %w", p.Root, err)
		}
		if err := unix.Chdir("/"); err != nil {
			return m, fmt.Errorf("sandbox: chdir / in the chroot: %w", err)
		}
	}
	var pdeath int32
	unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&pdeath)), 0, 0, 0)
	if u := p.User; u != nil && (os.Getuid() != u.UID || os.Geteuid() != u.UID || os.Getgid() != u.GID || os.Getegid() != u.GID) {
		if u.UID == 0 {
			return m, errors.New("sandbox: Policy.User is root")
		}
		// Go's syscall package changes the ids of every thread (through the C library's
		// broadcast in a cgo build), without /proc, which psx needs and a chroot hides.
		// The group first: setresgid needs CAP_SETGID, which setresuid takes away.
		if err := syscall.Setgroups(nil); err != nil {
			return m, fmt.Errorf("sandbox: setgroups: %w", err)
		}
		if err := syscall.Setresgid(u.GID, u.GID, u.GID); err != nil {
			return m, fmt.Errorf("sandbox: setresgid %d: %w", u.GID, err)
		}
		if err := syscall.Setresuid(u.UID, u.UID, u.UID); err != nil {
			return m, fmt.Errorf("sandbox: setresuid %d: %w", u.UID, err)
		}
		// The parent-death signal is per thread, and any thread that has it gets the
		// process killed with its parent: setting it on this one is enough.
		if pdeath != 0 {
			if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(pdeath), 0, 0, 0); err != nil {
				return m, fmt.Errorf("sandbox: prctl(PR_SET_PDEATHSIG) after the change of user: %w", err)
			}
		}
	}
	uid, gid := os.Geteuid(), os.Getegid()
	m.Applied = uid != 0 && os.Getuid() != 0
	m.Detail = fmt.Sprintf("uid %d, gid %d", uid, gid)
	if !m.Applied {
		m.Detail += ": runs as root (capabilities dropped)"
	}
	if p.Root != "" {
		m.Detail += ", chrooted into " + p.Root
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

// Available reports, without confining anything, which layers this kernel offers (landlock
// with its ABI, seccomp) and whether this process may make cgroups: what Confine and
// CgroupFor would find (warren doctor).
func Available() []Mechanism {
	ll := Mechanism{Name: "landlock"}
	if abi, why := landlockABI(); abi > 0 {
		ll.Applied, ll.Detail = true, fmt.Sprintf("ABI %d", abi)
		ll.Missing = strings.Join(landlockMissing(abi), "; ")
	} else {
		ll.Detail = why
	}
	sc := Mechanism{Name: "seccomp", Detail: "filters with SECCOMP_RET_ERRNO and TSYNC"}
	if ok, why := seccompAvailable(); ok {
		sc.Applied = true
	} else {
		sc.Detail = why
	}
	return []Mechanism{ll, sc, ProbeCgroups()}
}
