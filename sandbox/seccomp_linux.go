//go:build linux

package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The filter is a deny-list: everything Go's runtime, modernc's libc and SQLite use stays
// allowed (futex, mmap, clone of threads, epoll, file I/O, signals to itself...), and the
// calls below answer EPERM so that a subverted engine sees an error rather than a dead
// process (and the test can tell a refusal from a crash).
type denyGroup struct {
	why   string
	names []string
}

var seccompDenied = []denyGroup{
	{"running other programs", []string{"execve", "execveat"}},
	{"new processes (threads stay allowed: clone is checked on its flags)", []string{"fork", "vfork"}},
	{"reading or steering other processes", []string{"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill"}},
	{"new sockets (the worker's only channel is the one it inherited)", []string{"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4"}},
	{"mounting and changing the root", []string{"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr"}},
	{"namespaces", []string{"unshare", "setns"}},
	{"changing credentials", []string{"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capset"}},
	{"kernel interfaces an engine never needs", []string{"bpf", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
		"init_module", "finit_module", "delete_module", "perf_event_open", "userfaultfd", "personality", "acct", "swapon", "swapoff",
		"reboot", "syslog", "quotactl", "quotactl_fd", "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
		"sethostname", "setdomainname", "vhangup", "name_to_handle_at", "open_by_handle_at", "fanotify_init", "lookup_dcookie",
		"uselib", "nfsservctl", "lsm_set_self_attr"}},
	{"io_uring (its operations would bypass this filter)", []string{"io_uring_setup", "io_uring_enter", "io_uring_register"}},
	{"metadata changes by path, which Landlock does not cover (fd-based fchmod/fchown stay)", []string{"chmod", "fchmodat", "fchmodat2",
		"chown", "lchown", "fchownat", "setxattr", "lsetxattr", "removexattr", "lremovexattr", "setxattrat", "removexattrat",
		"utime", "utimes", "futimesat", "truncate"}},
}

// seccompRules builds the go-seccomp-bpf policy for this process (pid: the calls that take
// a process id are allowed only on the process itself).
func seccompRules(info *arch.Info, pid int) (seccomp.Policy, int) {
	var names []string
	for _, g := range seccompDenied {
		for _, n := range g.names {
			if _, ok := info.SyscallNames[n]; ok { // not every architecture has every call
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	self := uint64(pid)
	notSelf := seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.NotEqual, Value: self}}
	// Namespace flags of clone(2) (CLONE_NEWTIME is 0x80, which clone reads as part of
	// the exit signal, so it is only reachable through clone3 and unshare, both denied).
	const cloneNS = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET
	conditional := []seccomp.NameWithConditions{
		// clone: Go (and glibc's pthread_create after clone3 says ENOSYS) create threads
		// with CLONE_THREAD; without it clone would make a process.
		{Name: "clone", Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsNotSet, Value: unix.CLONE_THREAD}}},
		{Name: "clone", Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsSet, Value: cloneNS}}},
		// Signals only to itself: Go's runtime sends SIGURG to its threads with tgkill
		// and raises crash signals with kill(getpid()). kill(0) and kill(-1) (the process
		// group, every process of the user) are refused.
		{Name: "kill", Conditions: notSelf},
		{Name: "tgkill", Conditions: notSelf},
		{Name: "rt_sigqueueinfo", Conditions: notSelf},
		{Name: "rt_tgsigqueueinfo", Conditions: notSelf},
		// Its own rlimits only (pid 0 or its own pid).
		{Name: "prlimit64", Conditions: seccomp.ArgumentConditions{
			{Argument: 0, Operation: seccomp.NotEqual, Value: 0},
			{Argument: 0, Operation: seccomp.NotEqual, Value: self}}},
		// utimensat with a path (futimens passes NULL and stays allowed).
		{Name: "utimensat", Conditions: seccomp.ArgumentConditions{{Argument: 1, Operation: seccomp.NotEqual, Value: 0}}},
	}
	var conds []seccomp.NameWithConditions
	for _, c := range conditional {
		if _, ok := info.SyscallNames[c.Name]; ok {
			conds = append(conds, c)
		}
	}
	groups := []seccomp.SyscallGroup{
		{Names: names, NamesWithCondtions: conds, Action: seccomp.ActionErrno}, // EPERM
	}
	if _, ok := info.SyscallNames["clone3"]; ok {
		// ENOSYS, not EPERM: glibc's pthread_create then falls back to clone, whose
		// flags the filter can read (clone3 passes them in memory).
		groups = append(groups, seccomp.SyscallGroup{Names: []string{"clone3"}, Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS)})
	}
	distinct := map[string]bool{}
	for _, g := range groups {
		for _, n := range g.Names {
			distinct[n] = true
		}
		for _, c := range g.NamesWithCondtions {
			distinct[c.Name] = true
		}
	}
	return seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}, len(distinct)
}

// seccompProgram assembles the filter: a prologue of ours, then go-seccomp-bpf's program.
//
// The prologue does two things the library does not: a system call made with a foreign
// calling convention (int 0x80, the i386 ABI on x86_64) answers ENOSYS, where the
// library's program would fall through to its default action, which for a deny-list is
// "allow"; and ioctl(TIOCSTI) / ioctl(TIOCLINUX) (typing into a terminal) answer EPERM,
// compared on the low 32 bits of the command as the kernel reads it.
func seccompProgram(pid int) ([]bpf.Instruction, int, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return nil, 0, err
	}
	policy, n := seccompRules(info, pid)
	body, err := policy.Assemble()
	if err != nil {
		return nil, 0, err
	}
	const (
		offNr    = 0
		offArch  = 4
		retErrno = unix.SECCOMP_RET_ERRNO
	)
	argLo := uint32(16 + 8*1) // seccomp_data.args[1], low half on little-endian
	if bigEndian {
		argLo += 4
	}
	ioctlNr, hasIoctl := info.SyscallNames["ioctl"]
	pro := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(info.ID), SkipTrue: 1},
		bpf.RetConstant{Val: retErrno | uint32(unix.ENOSYS)},
	}
	if hasIoctl {
		pro = append(pro,
			bpf.LoadAbsolute{Off: offNr, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ioctlNr), SkipFalse: 4},
			bpf.LoadAbsolute{Off: argLo, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.TIOCSTI, SkipTrue: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.TIOCLINUX, SkipFalse: 1},
			bpf.RetConstant{Val: retErrno | uint32(unix.EPERM)},
		)
	}
	if hasIoctl {
		n++
	}
	return append(pro, body...), n, nil
}

var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

func applySeccomp() (Mechanism, error) {
	m := Mechanism{Name: "seccomp"}
	if disabled("seccomp") {
		m.Detail = "skipped: " + DisableEnv + " names it (a test of a machine without it)"
		return m, nil
	}
	if ok, why := seccompAvailable(); !ok {
		m.Detail = why
		return m, nil
	}
	insts, n, err := seccompProgram(os.Getpid())
	if err != nil {
		return m, fmt.Errorf("sandbox: seccomp filter: %w", err)
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return m, fmt.Errorf("sandbox: seccomp filter: %w", err)
	}
	prog := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	if err := loadSeccomp(prog); err != nil {
		return m, err
	}
	m.Applied = true
	m.Detail = fmt.Sprintf("deny-list of %d system calls (EPERM; clone3 ENOSYS; foreign ABIs ENOSYS) on every thread through SECCOMP_FILTER_FLAG_TSYNC: exec, new processes, ptrace, new sockets, mount, namespaces, credentials, io_uring, kernel interfaces, signals to other processes", n)
	return m, nil
}
