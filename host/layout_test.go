package host_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/supervisor"
	"github.com/warrenhq/warren/worker"
)

// Data written before hosts had folders of their own (the flat layout, as
// --isolation=inprocess and earlier versions keep it) is read by a pool,
// by a pool with another host count, and in process again.
func TestUpgradeKeepsData(t *testing.T) {
	dir := t.TempDir()
	flat, hosts := filepath.Join(dir, "apps"), filepath.Join(dir, "hosts")
	rt, err := worker.NewRuntime(&quickjs.Engine{})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"a1", "b2", "c3", "d4", "e5"}
	sup, err := supervisor.New(supervisor.Options{Runtime: rt, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		deploy(t, sup, id, counter)
		if code, _ := do(sup, "POST", id, "/?k="+id); code != 200 {
			t.Fatal(code)
		}
	}
	sup.Close()
	if _, err := os.Stat(filepath.Join(flat, "a1")); err != nil {
		t.Fatalf("the in-process layout changed: %v", err)
	}
	check := func(sup *supervisor.Supervisor, how string) {
		t.Helper()
		for _, id := range ids {
			if code, body := do(sup, "GET", id, "/keys"); code != 200 || body != id {
				t.Fatalf("%s: %s has %d %q, want its key", how, id, code, body)
			}
		}
	}
	for _, n := range []int{3, 2} {
		pool, err := newPool(flat, n, 64<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		sup := host.Supervise(t, pool, supervisor.Options{Dir: dir})
		check(sup, fmt.Sprintf("%d hosts", n))
		for _, id := range ids {
			if want := filepath.Join(hosts, strconv.Itoa(pool.HostOf(id)), "apps", id); pool.AppDir(id) != want {
				t.Fatalf("%s is in %s, want %s", id, pool.AppDir(id), want)
			} else if _, err := os.Stat(want); err != nil {
				t.Fatal(err)
			}
		}
		// The supervisor measures and removes the app's folder where it is.
		if err := sup.Delete("e5"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(pool.AppDir("e5")); !os.IsNotExist(err) {
			t.Fatalf("the deleted app's folder is still there: %v", err)
		}
		deploy(t, sup, "e5", counter)
		do(sup, "POST", "e5", "/?k=e5")
		sup.Close()
	}
	if _, err := os.Stat(filepath.Join(hosts, "2")); !os.IsNotExist(err) {
		t.Fatalf("the folder of the host that no longer exists is still there: %v", err)
	}
	if _, err := host.PlaceApps(flat, hosts, 0); err != nil { // what warren serve --isolation=inprocess does
		t.Fatal(err)
	}
	sup, err = supervisor.New(supervisor.Options{Runtime: rt, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	check(sup, "in process again")
}

// PlaceApps moves app folders between layouts, leaves what is not an app
// alone, and refuses an app found in two places.
func TestPlaceApps(t *testing.T) {
	dir := t.TempDir()
	flat, hosts := filepath.Join(dir, "apps"), filepath.Join(dir, "hosts")
	n := 200
	if s := os.Getenv("WARREN_PLACE_APPS"); s != "" { // measure: WARREN_PLACE_APPS=10000
		n, _ = strconv.Atoi(s)
	}
	for i := 0; i < n; i++ {
		d := filepath.Join(flat, fmt.Sprintf("app-%d", i), "facets", "x")
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "facet.sqlite"), []byte("db"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(flat, ".tmp"), 0o700)
	os.WriteFile(filepath.Join(flat, "Not-An-App"), nil, 0o600)
	for _, hostsN := range []int{4, 4, 3, 0} {
		t0 := time.Now()
		moved, err := host.PlaceApps(flat, hosts, hostsN)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d apps onto %d hosts: %d moved in %v", n, hostsN, moved, time.Since(t0))
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("app-%d", i)
			var where string
			if hostsN == 0 {
				where = filepath.Join(flat, id)
			} else {
				where = filepath.Join(hosts, strconv.Itoa(placementOf(id, hostsN)), "apps", id)
			}
			if b, err := os.ReadFile(filepath.Join(where, "facets", "x", "facet.sqlite")); err != nil || string(b) != "db" {
				t.Fatalf("%d hosts: %s: %v", hostsN, id, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(flat, "Not-An-App")); err != nil {
		t.Fatal("a file that is not an app was moved")
	}
	// An app in two places.
	os.MkdirAll(filepath.Join(hosts, "1", "apps", "app-0"), 0o700)
	if _, err := host.PlaceApps(flat, hosts, 0); err == nil || !strings.Contains(err.Error(), "two places") {
		t.Fatalf("an app in two places: %v", err)
	}
}

// placementOf is the pool's placement (FNV-1a of the id, as layout.go
// computes it), without starting hosts.
func placementOf(id string, hosts int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(hosts))
}
