package host

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/warrenhq/warren/supervisor"
)

// The data layout of a pool of hosts (docs/DECISIONS.md, "One folder per
// host"): host n keeps the folders of the apps placed on it in
//
//	<HostsDir>/<n>/apps/<id>/      (HostsDir is <data>/hosts under warren serve)
//
// and may read and write only below <HostsDir>/<n>: its Landlock rule covers
// that folder alone, and a host started by root is chrooted into it. The
// layout before (and of --isolation=inprocess) is flat, <data>/apps/<id>;
// PlaceApps moves folders between the two, and between hosts when the host
// count changed, before any host starts.

// placement is the host (of hosts) that runs app: the FNV-1a hash of its id
// modulo the host count, so an app is only ever open in one process.
func placement(app string, hosts int) int {
	h := fnv.New32a()
	h.Write([]byte(app))
	return int(h.Sum32() % uint32(hosts))
}

// slotDir is host n's folder, the one it may write.
func slotDir(hostsDir string, n int) string { return filepath.Join(hostsDir, strconv.Itoa(n)) }

// slotAppsDir holds the folders of host n's apps.
func slotAppsDir(hostsDir string, n int) string { return filepath.Join(slotDir(hostsDir, n), "apps") }

// PlaceApps puts every app folder where a pool of hosts hosts expects it:
// <hostsDir>/<n>/apps/<id> for the n that placement gives, or, with hosts
// 0, flat in <flat>/<id> (the in-process layout). It looks in flat and in
// every <hostsDir>/<k>/apps, renames what is elsewhere (a rename within one
// file system: the cost is a directory read per host and a rename per
// moved app), removes the folders of hosts that no longer exist once they
// are empty, and returns how many apps it moved. Names that are not app ids
// are left alone; an app found in two places is an error naming both (one
// has to be moved aside by hand). It must run while no host or in-process
// runner has the apps open (warren serve holds the data folder's lock).
func PlaceApps(flat, hostsDir string, hosts int) (int, error) {
	want := func(id string) string {
		if hosts <= 0 {
			return filepath.Join(flat, id)
		}
		return filepath.Join(slotAppsDir(hostsDir, placement(id, hosts)), id)
	}
	// Every folder that may hold apps: the flat one, and each host's.
	sources := []string{flat}
	var stale []string // host folders past the host count
	entries, err := os.ReadDir(hostsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n < 0 || !e.IsDir() || strconv.Itoa(n) != e.Name() {
			continue
		}
		sources = append(sources, slotAppsDir(hostsDir, n))
		if n >= hosts {
			stale = append(stale, slotDir(hostsDir, n))
		}
	}
	for n := 0; n < hosts; n++ {
		if err := os.MkdirAll(slotAppsDir(hostsDir, n), 0o700); err != nil {
			return 0, err
		}
	}
	if hosts <= 0 {
		if err := os.MkdirAll(flat, 0o700); err != nil {
			return 0, err
		}
	}
	moved := 0
	for _, src := range sources {
		entries, err := os.ReadDir(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return moved, err
		}
		for _, e := range entries {
			id := e.Name()
			if !e.IsDir() || supervisor.ValidateID(id) != nil {
				continue // .tmp (SQLite's temporary files), or not an app's
			}
			from, to := filepath.Join(src, id), want(id)
			if from == to {
				continue
			}
			if _, err := os.Lstat(to); err == nil {
				return moved, fmt.Errorf("app %q has a folder in two places, %s and %s: move the one that is not current aside, then start again", id, from, to)
			}
			if err := os.Rename(from, to); err != nil {
				return moved, fmt.Errorf("move app %q to its host's folder: %w", id, err)
			}
			moved++
		}
	}
	// Folders of hosts that no longer exist: their apps have moved; what is
	// left is SQLite's temporary files.
	for _, d := range stale {
		os.RemoveAll(filepath.Join(d, "apps", ".tmp"))
		os.Remove(filepath.Join(d, "apps"))
		os.Remove(d)
	}
	return moved, nil
}

// chownTree makes uid:gid the owner of a host's folder dir and everything
// below it (what an older version, or a host that ran as root, made). An
// app's folder that already has that owner is taken as done (a host that
// runs as the user makes only files of its own; moves keep owners), so a
// start where nothing changed costs an lstat per app, not per file.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == gid {
			if rel, _ := filepath.Rel(dir, p); d.IsDir() && strings.Count(rel, string(filepath.Separator)) == 1 {
				return fs.SkipDir // apps/<id>, done before
			}
			return nil
		}
		return os.Lchown(p, uid, gid)
	})
}
