//go:build linux

package sandbox

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestSeccompFilterProgram runs the assembled filter in a BPF interpreter on made-up
// system calls, including the ones a running test cannot make safely (a foreign ABI,
// kill(-1), a TIOCSTI with garbage in the upper bits).
func TestSeccompFilterProgram(t *testing.T) {
	info, err := arch.GetInfo("")
	if err != nil {
		t.Skipf("go-seccomp-bpf has no syscall table for this architecture: %v", err)
	}
	const pid = 4242
	insts, n, err := seccompProgram(pid)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d instructions, %d system calls", len(insts), n)

	const (
		allow = unix.SECCOMP_RET_ALLOW
		eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
		enosy = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	)
	nr := func(name string) uint32 {
		n, ok := info.SyscallNames[name]
		if !ok {
			t.Fatalf("no %s on %s", name, info.Name)
		}
		return uint32(n)
	}
	// seccomp_data as the interpreter reads it: x/net/bpf loads words big-endian, the
	// kernel native-endian, so each 32-bit word is written big-endian at the offset where
	// the kernel has it.
	data := func(archID uint32, nr uint32, args ...uint64) []byte {
		b := make([]byte, 64)
		binary.BigEndian.PutUint32(b[0:], nr)
		binary.BigEndian.PutUint32(b[4:], archID)
		for i, a := range args {
			lo, hi := 16+8*i, 16+8*i+4
			if bigEndian {
				lo, hi = hi, lo
			}
			binary.BigEndian.PutUint32(b[lo:], uint32(a))
			binary.BigEndian.PutUint32(b[hi:], uint32(a>>32))
		}
		return b
	}
	native := uint32(info.ID)
	goThread := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM | unix.CLONE_THREAD)
	minus1 := ^uint64(0)
	cases := []struct {
		name string
		in   []byte
		want uint32
	}{
		{"read", data(native, nr("read"), 0, 0, 0), allow},
		{"futex", data(native, nr("futex")), allow},
		{"mmap", data(native, nr("mmap")), allow},
		{"execve", data(native, nr("execve")), eperm},
		{"socket", data(native, nr("socket"), unix.AF_INET, unix.SOCK_STREAM), eperm},
		{"ptrace", data(native, nr("ptrace")), eperm},
		{"clone of a Go thread", data(native, nr("clone"), goThread), allow},
		{"clone of a process (fork)", data(native, nr("clone"), uint64(unix.SIGCHLD)), eperm},
		{"clone of a thread in a new user namespace", data(native, nr("clone"), goThread|unix.CLONE_NEWUSER), eperm},
		{"clone3", data(native, nr("clone3")), enosy},
		{"kill(self)", data(native, nr("kill"), pid, uint64(unix.SIGABRT)), allow},
		{"kill(other)", data(native, nr("kill"), 1, uint64(unix.SIGKILL)), eperm},
		{"kill(0): the process group", data(native, nr("kill"), 0, uint64(unix.SIGKILL)), eperm},
		{"kill(-1): every process", data(native, nr("kill"), minus1, uint64(unix.SIGKILL)), eperm},
		{"kill(pid with upper bits set)", data(native, nr("kill"), 1<<32|pid, uint64(unix.SIGKILL)), eperm},
		{"tgkill(self, thread)", data(native, nr("tgkill"), pid, 4243, uint64(unix.SIGURG)), allow},
		{"tgkill(other)", data(native, nr("tgkill"), 1, 1, uint64(unix.SIGKILL)), eperm},
		{"prlimit64(0)", data(native, nr("prlimit64"), 0), allow},
		{"prlimit64(self)", data(native, nr("prlimit64"), pid), allow},
		{"prlimit64(other)", data(native, nr("prlimit64"), 1), eperm},
		{"ioctl(FIONREAD)", data(native, nr("ioctl"), 0, unix.TIOCINQ), allow},
		{"ioctl(TIOCSTI)", data(native, nr("ioctl"), 0, unix.TIOCSTI), eperm},
		{"ioctl(TIOCSTI with upper bits)", data(native, nr("ioctl"), 0, 0xffffffff00000000|unix.TIOCSTI), eperm},
		{"utimensat(fd, NULL): futimens", data(native, nr("utimensat"), 3, 0), allow},
		{"utimensat(dirfd, path)", data(native, nr("utimensat"), uint64(0xffffff9c), 0x7fff0000), eperm},
	}
	if info.ID == arch.X86_64.ID {
		cases = append(cases,
			struct {
				name string
				in   []byte
				want uint32
			}{"i386 execve through int 0x80", data(uint32(arch.I386.ID), 11), enosy},
			struct {
				name string
				in   []byte
				want uint32
			}{"x32 execve", data(native, 0x40000000|520), enosy},
		)
	}
	for _, c := range cases {
		got, err := vm.Run(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if uint32(got) != c.want {
			t.Errorf("%s: filter returns %#x; want %#x", c.name, uint32(got), c.want)
		}
	}
}

func TestCleanEnv(t *testing.T) {
	env := cleanEnv([]string{
		"PATH=/usr/bin", "HOME=/root", "TZ=UTC", "GOMAXPROCS=2",
		"WARREN_ADMIN_TOKEN=s3cret", "WARREN_HOST_ID=7", "WARREN_HOST_API_KEY=k",
		"AWS_SECRET_ACCESS_KEY=x", "DATABASE_PASSWORD=y", "WARREN_DATA=/d", "=odd", "noequals",
	}, []string{"WARREN_HOST_*", "WARREN_ADMIN_TOKEN", "WARREN_DATA"})
	got := strings.Join(env, " ")
	want := "TZ=UTC GOMAXPROCS=2 WARREN_HOST_ID=7 WARREN_DATA=/d"
	if got != want {
		t.Fatalf("cleanEnv = %q; want %q", got, want)
	}
	t.Setenv("WARREN_ADMIN_TOKEN", "s3cret")
	for _, kv := range CleanEnv("WARREN_*") {
		if strings.HasPrefix(kv, "WARREN_ADMIN_TOKEN=") {
			t.Fatal("CleanEnv passed the admin token on")
		}
	}
	if !strings.Contains(strings.Join(CleanEnv(), " "), "MALLOC_ARENA_MAX=1") {
		t.Fatal("no MALLOC_ARENA_MAX=1")
	}
}

func TestReportString(t *testing.T) {
	var r Report
	r.Add(Mechanism{Name: "landlock", Applied: true, Detail: "ABI 7", Missing: "UDP (ABI 10)"})
	r.Add(Mechanism{Name: "seccomp", Detail: "no seccomp"})
	want := "landlock: applied: ABI 7; missing: UDP (ABI 10)\nseccomp: NOT AVAILABLE: no seccomp\n"
	if r.String() != want {
		t.Fatalf("String = %q; want %q", r.String(), want)
	}
	if r.Complete() {
		t.Fatal("Complete with a missing mechanism")
	}
	if (Report{Mechanisms: []Mechanism{{Name: "x", Applied: true}}}).Complete() != true {
		t.Fatal("not Complete")
	}
}

func TestConfineRejectsBadPolicy(t *testing.T) {
	// Validation happens before anything is applied, so this runs in the test process.
	if _, err := Confine(Policy{ReadWrite: []string{"/nonexistent/warren-sandbox"}}); err == nil {
		t.Fatal("Confine accepted a read-write folder that does not exist")
	}
}
