// Package sandbox confines a worker process of Warren (issue 5): the process that runs
// untrusted isolates calls Confine on itself, early, before it is handed any untrusted
// code; the parent (the control plane) puts it in a cgroup with CgroupFor and gives it an
// environment without secrets with CleanEnv.
//
// The layers, applied by Confine in this order:
//
//   - rlimits: RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_NPROC as the Policy says, RLIMIT_CORE 0.
//   - capabilities: every capability dropped on every thread (matters when the process
//     runs as root: no CAP_DAC_OVERRIDE, CAP_SYS_ADMIN, CAP_KILL, CAP_SYS_RESOURCE...).
//   - Landlock (github.com/landlock-lsm/go-landlock, best effort): reads only below
//     Policy.ReadOnly, reads and writes only below Policy.ReadWrite, no execution anywhere,
//     no TCP/UDP bind or connect, no signals to processes outside the sandbox, no abstract
//     Unix sockets outside it. Enforced on every thread of the process.
//   - seccomp (github.com/elastic/go-seccomp-bpf, SECCOMP_FILTER_FLAG_TSYNC so that every
//     thread gets the filter): a deny-list answering EPERM (the engine sees an error, the
//     process is not killed) for exec, ptrace, new sockets, mounts, namespaces, privilege
//     changes, kernel-facing calls, signals to other processes, and more; see
//     seccompRules for the list and the reason of each group.
//
// A mechanism the kernel lacks is skipped and named in the Report; Confine fails only when
// a mechanism that is available could not be applied.
package sandbox

import (
	"fmt"
	"os"
	"strings"
)

// Policy is what a confined process may do. The zero value confines the most: no
// files at all, rlimits left as they are.
type Policy struct {
	// ReadOnly are files and folders (with everything below them) the process may read.
	// Paths that do not exist are skipped and named in the Report. DefaultReadOnly gives
	// the ones every Go host needs.
	ReadOnly []string
	// ReadWrite are folders (with everything below them) the process may read, create,
	// write, truncate and remove files and folders in. They must exist.
	ReadWrite []string

	// User, when set, is the user the process becomes (all threads: supplementary groups
	// dropped, real, effective and saved ids set). It needs the process to start as root (or
	// with CAP_SETUID and CAP_SETGID); a process already running as that user is left as it
	// is.
	User *User
	// Root, when set, is a folder the process is chrooted into, after Landlock (so the paths
	// of the Policy are the ones outside) and before it changes its user: it then sees
	// nothing else of the file system, even by permission bits. It needs the process to start
	// as root (CAP_SYS_CHROOT), and is useful only with User (root could leave it).
	Root string

	// MaxAddressSpace is RLIMIT_AS in bytes (0: unchanged). It bounds address space, not
	// memory: a Go process maps about 1.2 GiB as it starts, and, built with cgo (the
	// default where gcc is installed), 8 MiB more per OS thread for its stack and, unless
	// MALLOC_ARENA_MAX=1 (which CleanEnv sets), 64 MiB per thread for glibc's malloc
	// arenas. Confine refuses a limit below what is already mapped. The cgroup memory
	// limit is the one that measures memory.
	MaxAddressSpace uint64
	// MaxOpenFiles is RLIMIT_NOFILE (0: unchanged).
	MaxOpenFiles uint64
	// MaxProcesses is RLIMIT_NPROC (0: unchanged). The kernel counts every process and
	// thread of the user, not of this process, and does not enforce it for root; a cgroup's
	// pids limit (CgroupLimits.MaxPids) is the limit that holds for root.
	MaxProcesses uint64
}

// User is a numeric user and group.
type User struct {
	UID, GID int
}

// DefaultReadOnly returns the read-only paths a Go host process needs after it has started:
// its own executable, the time zone database (time.Local is loaded lazily), and the
// random and null devices (SQLite's unix VFS reads /dev/urandom).
func DefaultReadOnly() []string {
	paths := []string{"/etc/localtime", "/usr/share/zoneinfo", "/dev/urandom", "/dev/null"}
	if exe, err := os.Executable(); err == nil {
		paths = append([]string{exe}, paths...)
	}
	return paths
}

// Mechanism is one confinement layer and what became of it.
type Mechanism struct {
	Name    string `json:"name"`              // landlock, seccomp, rlimits, capabilities, user, cgroup
	Applied bool   `json:"applied"`           // false: not available on this machine
	Detail  string `json:"detail"`            // what was applied, or why it is not available
	Missing string `json:"missing,omitempty"` // applied, but parts the kernel does not have
}

// Report lists each mechanism: applied, or not available and why. It is meant for the
// operator's start-up log (String) and travels from the worker process to its parent as
// JSON.
type Report struct {
	Mechanisms []Mechanism `json:"mechanisms"`
}

// Add appends a mechanism (the parent adds its cgroup line to the worker's report).
func (r *Report) Add(m Mechanism) { r.Mechanisms = append(r.Mechanisms, m) }

// Get returns the named mechanism.
func (r Report) Get(name string) (Mechanism, bool) {
	for _, m := range r.Mechanisms {
		if m.Name == name {
			return m, true
		}
	}
	return Mechanism{}, false
}

// Complete reports whether every mechanism was applied in full.
func (r Report) Complete() bool {
	for _, m := range r.Mechanisms {
		if !m.Applied || m.Missing != "" {
			return false
		}
	}
	return len(r.Mechanisms) > 0
}

// String is one line per mechanism, for the operator:
//
//	landlock: applied: ...; missing: ...
//	seccomp: NOT AVAILABLE: ...
func (r Report) String() string {
	var b strings.Builder
	for _, m := range r.Mechanisms {
		state := "applied"
		if !m.Applied {
			state = "NOT AVAILABLE"
		}
		fmt.Fprintf(&b, "%s: %s: %s", m.Name, state, m.Detail)
		if m.Missing != "" {
			fmt.Fprintf(&b, "; missing: %s", m.Missing)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Required are the layers without which a host must not run untrusted code unless the
// operator says so (warren serve --allow-unconfined): the file system and system call walls.
var Required = []string{"landlock", "seccomp"}

// Unconfined returns the Required layers that the report does not show applied (absent
// from it, or not available).
func (r Report) Unconfined() []Mechanism {
	var out []Mechanism
	for _, name := range Required {
		m, ok := r.Get(name)
		if !ok {
			m = Mechanism{Name: name, Detail: "not reported"}
		}
		if !m.Applied {
			out = append(out, m)
		}
	}
	return out
}

// Fix says what gives this machine a missing layer.
func Fix(layer string) string {
	switch layer {
	case "landlock":
		return "run a kernel with Landlock (Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK=y, with landlock in the lsm= boot parameter or CONFIG_LSM; check: cat /sys/kernel/security/lsm)"
	case "seccomp":
		return "run a kernel with seccomp filters (CONFIG_SECCOMP_FILTER=y, Linux 4.14 or later), and outside a container whose own seccomp profile refuses the seccomp system call"
	case "cgroup":
		return "run warren serve as root with the cgroup v1 memory, cpu and pids controllers, or on cgroup v2 with the memory, cpu and pids controllers delegated to its cgroup (systemd: Delegate=yes)"
	case "user":
		return "run warren serve as root (it starts the hosts as --host-user), or as a user of its own"
	}
	return ""
}

// DisableEnv names layers (comma-separated: landlock, seccomp) that Confine skips and
// reports NOT AVAILABLE, as on a kernel without them: for tests of what happens then
// (warren serve refusing to start). A host is given it only through its parent.
const DisableEnv = "WARREN_SANDBOX_DISABLE"

// disabled reports whether DisableEnv names layer.
func disabled(layer string) bool {
	for _, l := range strings.Split(os.Getenv(DisableEnv), ",") {
		if strings.TrimSpace(l) == layer {
			return true
		}
	}
	return false
}

// safeEnv are the variables CleanEnv always passes on when they are set: time zone, locale
// and the Go runtime's own settings.
var safeEnv = []string{"TZ", "LANG", "LC_ALL", "LC_CTYPE", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "GOTRACEBACK"}

// secretMarkers are parts of variable names that CleanEnv never passes on, even when
// asked to: the worker process must not hold the control plane's secrets.
var secretMarkers = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "API_KEY", "ACCESS_KEY", "AUTH", "COOKIE", "SESSION"}

// IsSecretName reports whether CleanEnv treats the variable name as a secret (for example
// WARREN_ADMIN_TOKEN, AWS_SECRET_ACCESS_KEY, DATABASE_PASSWORD).
func IsSecretName(name string) bool {
	up := strings.ToUpper(name)
	for _, m := range secretMarkers {
		if strings.Contains(up, m) {
			return true
		}
	}
	return false
}

// CleanEnv returns the environment for a worker process: the variables of this process
// named in keep (an exact name, or a prefix ending in '*', such as "WARREN_HOST_*"), plus
// TZ, LANG, LC_ALL, LC_CTYPE and the Go runtime's GOMAXPROCS, GOGC, GOMEMLIMIT, GODEBUG and
// GOTRACEBACK. Everything else is dropped (PATH and HOME too: the worker cannot exec), and
// a name that looks like a secret (IsSecretName) is dropped even when keep names it.
// MALLOC_ARENA_MAX=1 is added unless kept from this process: glibc (in binaries built
// with cgo) would otherwise map a 64 MiB arena per thread, which RLIMIT_AS counts.
func CleanEnv(keep ...string) []string {
	env := cleanEnv(os.Environ(), keep)
	for _, kv := range env {
		if strings.HasPrefix(kv, "MALLOC_ARENA_MAX=") {
			return env
		}
	}
	return append(env, "MALLOC_ARENA_MAX=1")
}

func cleanEnv(environ, keep []string) []string {
	wanted := func(name string) bool {
		for _, k := range append(keep, safeEnv...) {
			if p, ok := strings.CutSuffix(k, "*"); ok {
				if strings.HasPrefix(name, p) {
					return true
				}
			} else if name == k {
				return true
			}
		}
		return false
	}
	out := []string{}
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || IsSecretName(name) || !wanted(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
