//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data folder (flock on
// <dir>/warren.lock, which holds the pid of the holder), so that two
// servers never share one folder. The lock lasts until release is called
// or the process ends (the kernel drops it with the file descriptor, even
// after a crash); host processes do not inherit it (the file is opened
// close-on-exec).
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, "warren.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data folder %s: %w", dir, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock the data folder %s (%s): %w", dir, path, err)
		}
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf("another process (pid %d)", pid)
			}
		}
		return nil, fmt.Errorf("the data folder %s is in use by %s: it holds the lock %s, and two servers on one folder would damage its data; stop that server, or give this one another folder with --data (WARREN_DATA)", dir, holder, path)
	}
	// The holder's pid, for the message above; best effort.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
