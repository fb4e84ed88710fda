//go:build linux

package sandbox

// The child side of the tests: the test binary re-executed with WARREN_SANDBOX_CHILD set
// runs one of these entry points instead of the tests. "engine" stands in for a subverted
// engine inside a worker process: it confines itself, then tries what an attacker would.

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite"
)

const childEnv = "WARREN_SANDBOX_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "engine":
		subvertedEngine()
	case "hog":
		memoryHog()
	case "work":
		normalWork()
	default:
		fmt.Fprintln(os.Stderr, "unknown child mode", os.Getenv(childEnv))
		os.Exit(100)
	}
}

// childResult is what a child writes to stdout as JSON.
type childResult struct {
	Report       Report                 `json:"report"`
	ConfineError string                 `json:"confine_error,omitempty"`
	Checks       map[string]checkResult `json:"checks"`
}

type checkResult struct {
	Err     string `json:"err,omitempty"` // "" when the operation succeeded
	Errno   int    `json:"errno,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

func childPolicy() Policy {
	p := Policy{
		ReadOnly:     DefaultReadOnly(),
		ReadWrite:    []string{os.Getenv("WARREN_SANDBOX_DIR")},
		MaxOpenFiles: 256,
		MaxProcesses: 4096,
	}
	if as := os.Getenv("WARREN_SANDBOX_AS"); as != "" {
		n, err := strconv.ParseUint(as, 10, 64)
		if err != nil {
			panic(err)
		}
		p.MaxAddressSpace = n
	}
	return p
}

func writeResult(res childResult) {
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(101)
	}
}

func confineOrExit() Report {
	rep, err := Confine(childPolicy())
	if err != nil {
		writeResult(childResult{Report: rep, ConfineError: err.Error()})
		os.Exit(1)
	}
	return rep
}

func subvertedEngine() {
	rep := confineOrExit()
	dir := os.Getenv("WARREN_SANDBOX_DIR")
	outside := os.Getenv("WARREN_SANDBOX_OUTSIDE")
	seccompOn := false
	if m, ok := rep.Get("seccomp"); ok && m.Applied {
		seccompOn = true
	}
	checks := map[string]checkResult{}
	try := func(name string, f func() error) {
		err := f()
		r := checkResult{}
		if err != nil {
			r.Err = err.Error()
			var errno syscall.Errno
			if errors.As(err, &errno) {
				r.Errno = int(errno)
			}
		}
		checks[name] = r
	}
	// Only tried behind seccomp: were they to succeed they would act on the parent.
	dangerous := func(name string, f func() error) {
		if !seccompOn {
			checks[name] = checkResult{Skipped: "seccomp not applied"}
			return
		}
		try(name, f)
	}
	ppid := os.Getppid()

	// What the engine needs keeps working.
	try("read_write_inside", func() error {
		p := filepath.Join(dir, "a.txt")
		if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if string(b) != "hello" {
			return fmt.Errorf("read back %q", b)
		}
		if err := os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o700); err != nil {
			return err
		}
		if err := os.Rename(p, filepath.Join(dir, "b.txt")); err != nil {
			return err
		}
		if err := os.Truncate(filepath.Join(dir, "b.txt"), 0); err == nil {
			return errors.New("truncate by path was allowed") // denied by seccomp, ftruncate is not
		}
		f, err := os.OpenFile(filepath.Join(dir, "b.txt"), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Truncate(1); err != nil {
			return err
		}
		return os.RemoveAll(filepath.Join(dir, "sub"))
	})
	try("sqlite", func() error { return useSQLite(filepath.Join(dir, "engine.sqlite")) })
	try("threads", func() error { return manyThreads(100) })
	try("timezone", func() error {
		if _, err := os.Stat("/usr/share/zoneinfo/Europe/Paris"); err != nil {
			return nil // no zoneinfo on this machine: nothing to show
		}
		_, err := time.LoadLocation("Europe/Paris")
		return err
	})
	try("no_secret_in_env", func() error {
		if v, ok := os.LookupEnv("WARREN_ADMIN_TOKEN"); ok {
			return fmt.Errorf("WARREN_ADMIN_TOKEN=%q", v)
		}
		return nil
	})
	try("capabilities_dropped", func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		if data[0].Effective|data[0].Permitted|data[1].Effective|data[1].Permitted != 0 {
			return fmt.Errorf("capabilities left: %+v", data)
		}
		return nil
	})
	try("rlimits_set", func() error {
		var l unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
			return err
		}
		if l.Cur != 256 || l.Max != 256 {
			return fmt.Errorf("RLIMIT_NOFILE %+v", l)
		}
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &l); err != nil {
			return err
		}
		if l.Max != 0 {
			return fmt.Errorf("RLIMIT_CORE %+v", l)
		}
		return nil
	})

	// Files outside its folders (Landlock).
	try("read_etc_passwd", func() error { _, err := os.ReadFile("/etc/passwd"); return err })
	try("read_outside", func() error { _, err := os.ReadFile(filepath.Join(outside, "secret.txt")); return err })
	try("write_outside", func() error { return os.WriteFile(filepath.Join(outside, "new.txt"), []byte("x"), 0o600) })
	try("list_root", func() error { _, err := os.ReadDir("/"); return err })
	try("write_cgroup_fs", func() error {
		return os.WriteFile("/sys/fs/cgroup/memory/cgroup.procs", []byte(strconv.Itoa(os.Getpid())), 0)
	})
	try("chmod_outside", func() error { return os.Chmod(filepath.Join(outside, "secret.txt"), 0o777) })

	// Sockets (seccomp, and Landlock's TCP rules behind it).
	try("tcp_socket", func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	})
	try("unix_socket", func() error {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	})
	try("socketpair", func() error {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err == nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
		}
		return err
	})
	try("net_dial", func() error {
		c, err := net.Dial("tcp", "127.0.0.1:9")
		if err == nil {
			c.Close()
		}
		return err
	})

	// Programs and processes (seccomp).
	try("exec", func() error { return syscall.Exec("/bin/true", []string{"true"}, nil) })
	try("fork_exec", func() error {
		cmd := exec.Command("/bin/true")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stderr, os.Stderr // not /dev/null, which is read-only here
		return cmd.Run()
	})
	try("clone3", func() error {
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
	dangerous("ptrace_parent", func() error {
		err := unix.PtraceAttach(ppid)
		if err == nil {
			unix.PtraceDetach(ppid)
		}
		return err
	})
	dangerous("signal_parent", func() error { return unix.Kill(ppid, 0) })
	dangerous("signal_everyone", func() error { return unix.Kill(-1, 0) })
	dangerous("prlimit_parent", func() error {
		var old unix.Rlimit
		return unix.Prlimit(ppid, unix.RLIMIT_NOFILE, nil, &old)
	})
	try("unshare_user_ns", func() error { return unix.Unshare(unix.CLONE_NEWUSER) })
	try("mount", func() error { return unix.Mount("none", dir, "tmpfs", 0, "") })
	try("setuid", func() error {
		_, _, e := unix.RawSyscall(unix.SYS_SETUID, 65534, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
	try("io_uring", func() error {
		var params [120]byte
		fd, _, e := unix.RawSyscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])), 0)
		if e != 0 {
			return e
		}
		unix.Close(int(fd))
		return nil
	})
	try("bpf", func() error {
		_, _, e := unix.RawSyscall(unix.SYS_BPF, 0, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})

	writeResult(childResult{Report: rep, Checks: checks})
	os.Exit(0)
}

// useSQLite creates a database in WAL mode, writes 1,000 rows in one transaction and reads
// them back.
func useSQLite(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	for i := 0; i < 1000; i++ {
		if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprint("row ", i)); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t WHERE v LIKE 'row %'`).Scan(&n); err != nil {
		return err
	}
	if n != 1000 {
		return fmt.Errorf("count %d", n)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode %q", mode)
	}
	return nil
}

// manyThreads runs n goroutines at once, each locked to its own OS thread (so the runtime
// has to create threads after confinement), each allocating and touching 1 MiB.
func manyThreads(n int) error {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	sums := make([]int, n)
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ready.Done()
			<-start
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(i + j)
			}
			for _, c := range b[:4096] {
				sums[i] += int(c)
			}
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for i, s := range sums {
		if s == 0 {
			return fmt.Errorf("goroutine %d did not run", i)
		}
	}
	return nil
}

// memoryHog confines itself and allocates without end, touching every page. It exits with
// status 3 if it was never stopped (8 GiB allocated).
func memoryHog() {
	confineOrExit()
	var keep [][]byte
	for total := 0; total < 8<<30; total += 1 << 20 {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	fmt.Fprintln(os.Stderr, "allocated 8 GiB without being stopped", len(keep))
	os.Exit(3)
}

// normalWork is a worker that stays within its limits: 32 MiB, SQLite, some threads.
func normalWork() {
	rep := confineOrExit()
	checks := map[string]checkResult{}
	b := make([]byte, 32<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	checks["alloc_32MiB"] = checkResult{}
	if err := useSQLite(filepath.Join(os.Getenv("WARREN_SANDBOX_DIR"), fmt.Sprintf("work-%d.sqlite", os.Getpid()))); err != nil {
		checks["sqlite"] = checkResult{Err: err.Error()}
	} else {
		checks["sqlite"] = checkResult{}
	}
	if err := manyThreads(16); err != nil {
		checks["threads"] = checkResult{Err: err.Error()}
	} else {
		checks["threads"] = checkResult{}
	}
	runtime.KeepAlive(b)
	writeResult(childResult{Report: rep, Checks: checks})
	os.Exit(0)
}
