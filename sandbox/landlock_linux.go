//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Access rights granted below the policy's paths. Execution is granted nowhere (seccomp
// denies execve as well; this is the second wall when seccomp is missing). Reparenting
// ("refer"), device ioctls, device nodes, sockets, FIFOs and connecting to pathname Unix
// sockets are not granted either.
const (
	roFileRights = ll.AccessFSReadFile
	roDirRights  = ll.AccessFSReadFile | ll.AccessFSReadDir
	rwDirRights  = ll.AccessFSReadFile | ll.AccessFSReadDir | ll.AccessFSWriteFile |
		ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeDir | ll.AccessFSMakeReg |
		ll.AccessFSMakeSym | ll.AccessFSTruncate
)

// landlockABI returns the kernel's Landlock ABI version (0: none) and why there is none.
func landlockABI() (int, string) {
	v, err := ll.LandlockGetABIVersion()
	if err != nil {
		if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) {
			return 0, "the kernel has no Landlock (needs Linux 5.13+ with CONFIG_SECURITY_LANDLOCK and landlock in the lsm= boot list): " + err.Error()
		}
		return 0, "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION): " + err.Error()
	}
	return v, ""
}

// landlockMissing names what this ABI version lacks of what Warren asks Landlock for.
func landlockMissing(abi int) []string {
	var missing []string
	for _, f := range []struct {
		abi  int
		what string
	}{
		{3, "truncation is not restricted (ABI 3)"},
		{4, "TCP bind/connect are not restricted by Landlock (ABI 4; seccomp still denies new sockets)"},
		{5, "device ioctls are not restricted (ABI 5)"},
		{6, "signals and abstract Unix sockets are not scoped to the sandbox (ABI 6; seccomp still denies signals to other processes)"},
		{9, "connect to pathname Unix sockets is not restricted by Landlock (ABI 9; seccomp still denies new sockets)"},
		{10, "UDP is not restricted by Landlock (ABI 10; seccomp still denies new sockets)"},
	} {
		if abi < f.abi {
			missing = append(missing, f.what)
		}
	}
	return missing
}

// applyLandlock restricts the file system (and on newer kernels TCP, UDP, signals and
// abstract Unix sockets) for every thread of the process. The best-effort mode of
// go-landlock downgrades to what the kernel supports; the Report names what is missing.
func applyLandlock(p Policy) (Mechanism, error) {
	m := Mechanism{Name: "landlock"}
	if disabled("landlock") {
		m.Detail = "skipped: " + DisableEnv + " names it (a test of a machine without it)"
		return m, nil
	}
	abi, why := landlockABI()
	if abi == 0 {
		m.Detail = why
		return m, nil
	}
	var rules []landlock.Rule
	var skipped []string
	nro := 0
	for _, path := range p.ReadOnly {
		fi, err := os.Stat(path)
		if err != nil {
			skipped = append(skipped, path)
			continue
		}
		nro++
		if fi.IsDir() {
			rules = append(rules, landlock.PathAccess(roDirRights, path))
		} else {
			rules = append(rules, landlock.PathAccess(roFileRights, path))
		}
	}
	if len(p.ReadWrite) > 0 {
		rules = append(rules, landlock.PathAccess(rwDirRights, p.ReadWrite...))
	}
	// V11 is the newest ABI go-landlock v0.11.2 knows; BestEffort keeps what this kernel
	// has. No network rules: TCP (and UDP where handled) bind and connect are all denied.
	if err := landlock.V11.BestEffort().Restrict(rules...); err != nil {
		return m, fmt.Errorf("sandbox: landlock: %w", err)
	}
	m.Applied = true
	enforce := "LANDLOCK_RESTRICT_SELF_TSYNC"
	if abi < 8 {
		enforce = "psx (the system call run on every thread)"
	}
	m.Detail = fmt.Sprintf("ABI %d, on every thread through %s: read-only %d paths, read-write %d folders, no execution",
		abi, enforce, nro, len(p.ReadWrite))
	if abi >= 4 {
		m.Detail += ", no TCP bind/connect"
	}
	if abi >= 6 {
		m.Detail += ", signals and abstract Unix sockets scoped to the sandbox"
	}
	missing := landlockMissing(abi)
	if len(skipped) > 0 {
		m.Detail += "; skipped (missing): " + strings.Join(skipped, ", ")
	}
	m.Missing = strings.Join(missing, "; ")
	return m, nil
}
