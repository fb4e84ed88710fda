package host_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warrenhq/warren/host"
	"github.com/warrenhq/warren/internal/confinetest"
	"github.com/warrenhq/warren/sandbox"
	"github.com/warrenhq/warren/supervisor"
)

// probeEnv names a JSON file of paths (probeSpec) that a test host, once
// confined, tries to open as a subverted engine would; it prints what
// happened (probeResult) as one JSON line on its stdout. Without the file
// (or the variable) the host does nothing of the kind.
const probeEnv = "WARREN_HOST_TEST_PROBE"

type probeSpec struct {
	Paths map[string]string `json:"paths"` // name → absolute path, as the control plane sees it
}

type probeResult struct {
	Apps    string            `json:"apps"`    // the host's WARREN_HOST_APPS
	Report  sandbox.Report    `json:"report"`  // its confinement
	Opened  map[string]string `json:"opened"`  // name → "" (opened for reading and writing) or the error
	UID     int               `json:"uid"`     // real and effective uid once confined
	EUID    int               `json:"euid"`    //
	Confine string            `json:"confine"` // Confine's error
}

// probeConfine wraps a host's confinement with the probe when probeEnv
// names a file (read now, before the host confines itself).
func probeConfine(confine func(func(sandbox.Report)) error) func(func(sandbox.Report)) error {
	b, err := os.ReadFile(os.Getenv(probeEnv))
	if err != nil || confine == nil {
		return confine
	}
	var spec probeSpec
	json.Unmarshal(b, &spec)
	return func(report func(sandbox.Report)) error {
		res := probeResult{Apps: os.Getenv("WARREN_HOST_APPS"), Opened: map[string]string{}}
		cerr := confine(func(r sandbox.Report) {
			res.Report = r
			if report != nil {
				report(r)
			}
		})
		if cerr != nil {
			res.Confine = cerr.Error()
		}
		root := os.Getenv("WARREN_HOST_ROOT") // a host chrooted there sees its paths below /
		for name, p := range spec.Paths {
			if rel, ok := strings.CutPrefix(p, root+"/"); ok && root != "" {
				p = "/" + rel
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err == nil {
				f.Close()
				res.Opened[name] = ""
			} else {
				res.Opened[name] = err.Error()
			}
		}
		res.UID, res.EUID = os.Getuid(), os.Geteuid()
		json.NewEncoder(os.Stdout).Encode(res)
		return cerr
	}
}

// appFile finds a regular file of app id (its database) under dir,
// whatever the layout.
func appFile(t *testing.T, dir, id string) string {
	t.Helper()
	var found string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".sqlite") && strings.Contains(p, string(filepath.Separator)+id+string(filepath.Separator)) {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no database of %s under %s", id, dir)
	}
	return found
}

// A subverted engine in one host cannot open the database of an app on
// another host, while it opens its own apps' databases: each host may
// write (and read) only its own folder. "landlock" keeps the hosts root
// (without capabilities), so that Landlock alone stops it; "user" is the
// default, where a host started by root also chroots into its folder and
// runs as nobody.
func TestHostReachesOnlyItsApps(t *testing.T) {
	t.Run("landlock", func(t *testing.T) { reachesOnlyItsApps(t, &sandbox.User{UID: 0}) })
	t.Run("user", func(t *testing.T) { reachesOnlyItsApps(t, nil) })
}

func reachesOnlyItsApps(t *testing.T, user *sandbox.User) {
	dir := t.TempDir()
	spec, out := filepath.Join(dir, "probe.json"), filepath.Join(dir, "probe.out")
	outf, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer outf.Close()
	exe, _ := os.Executable()
	pool, err := host.NewPool(host.PoolOptions{Hosts: 2, AppsDir: filepath.Join(dir, "apps"), MemoryBudget: 64 << 20, HostUser: user,
		Command: func() *exec.Cmd {
			c := exec.Command(exe, "-test.run=^$")
			c.Stdout = outf
			return c
		},
		Env: []string{"WARREN_HOST_TEST_CHILD=1", probeEnv + "=" + spec}})
	if err != nil {
		t.Fatal(err)
	}
	sup := host.Supervise(t, pool, supervisor.Options{Dir: dir})
	onA, onB := host.OneAppPerHost(pool)
	for _, id := range []string{onA, onB} {
		deploy(t, sup, id, counter)
		if code, body := do(sup, "POST", id, "/?k=x"); code != 200 {
			t.Fatalf("write %s: %d %s", id, code, body)
		}
	}
	own, other := appFile(t, dir, onA), appFile(t, dir, onB)
	b, _ := json.Marshal(probeSpec{Paths: map[string]string{"own": own, "other": other, "supervisor": filepath.Join(dir, "supervisor.sqlite")}})
	if err := os.WriteFile(spec, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Host 0 (onA's) restarts, and its new process probes once confined.
	victim := pool.PIDs()[0]
	syscall.Kill(victim, syscall.SIGKILL)
	res := readProbe(t, out)
	if m, ok := res.Report.Get("landlock"); (!ok || !m.Applied) && (user != nil || os.Geteuid() != 0) {
		confinetest.Missing(t, "landlock", m.Detail)
	}
	t.Logf("host %s as uid %d: opened %v", res.Apps, res.EUID, res.Opened)
	if os.Geteuid() == 0 && user == nil {
		// A host started by root runs as nobody: seen from inside and from /proc.
		if res.UID == 0 || res.EUID == 0 {
			t.Errorf("the host runs as uid %d (effective %d)", res.UID, res.EUID)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pool.PIDs()[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
				if f := strings.Fields(line); len(f) != 5 || f[1] != "65534" || f[2] != "65534" || f[3] != "65534" || f[4] != "65534" {
					t.Errorf("the host's %q, want 65534 for each", line)
				}
			}
		}
	}
	if res.Opened["own"] != "" {
		t.Errorf("the host cannot open its own app's database %s: %s", own, res.Opened["own"])
	}
	if res.Opened["other"] == "" {
		t.Errorf("the host opened the database of an app on another host: %s", other)
	}
	if res.Opened["supervisor"] == "" {
		t.Errorf("the host opened the supervisor's database")
	}
	// The restarted host still serves its app, with its data.
	if code, body := do(sup, "GET", onA, "/keys"); code != 200 || body != "x" {
		t.Fatalf("after the restart: %d %s", code, body)
	}
}

// readProbe waits for the probe's line.
func readProbe(t *testing.T, out string) probeResult {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if f, err := os.Open(out); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var res probeResult
				if json.Unmarshal(sc.Bytes(), &res) == nil && res.Opened != nil {
					f.Close()
					return res
				}
			}
			f.Close()
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the restarted host printed no probe result")
	return probeResult{}
}

// Hosts without a required confinement layer (simulated: the sandbox
// skips it) are refused, naming the layer and the fix, unless the operator
// allows them; the state of each layer is a metric either way.
func TestUnconfinedHostsRefused(t *testing.T) {
	exe, _ := os.Executable()
	start := func(dir string, allow bool, disable string) (*host.Pool, error) {
		return host.NewPool(host.PoolOptions{Hosts: 1, AppsDir: filepath.Join(dir, "apps"), MemoryBudget: 64 << 20, AllowUnconfined: allow,
			Command: func() *exec.Cmd { return exec.Command(exe, "-test.run=^$") },
			Env:     []string{"WARREN_HOST_TEST_CHILD=1", sandbox.DisableEnv + "=" + disable}})
	}
	metrics := func(pool *host.Pool, dir string) string {
		t.Helper()
		sup := host.Supervise(t, pool, supervisor.Options{Dir: dir})
		defer sup.Close()
		rec := httptest.NewRecorder()
		sup.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	for _, layer := range []string{"landlock", "seccomp"} {
		_, err := start(t.TempDir(), false, layer)
		if err == nil || !strings.Contains(err.Error(), "without "+layer) || !strings.Contains(err.Error(), "--allow-unconfined") || !strings.Contains(err.Error(), "fix: ") {
			t.Fatalf("hosts without %s: %v", layer, err)
		}
		t.Logf("refused: %v", err)
	}
	// Allowed: the hosts run, and the metric says which layer is missing.
	dir := t.TempDir()
	pool, err := start(dir, true, "seccomp")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pool.Confinement() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	m := metrics(pool, dir)
	for _, want := range []string{`warren_host_confinement{layer="seccomp"} 0`, `warren_host_confinement{layer="rlimits"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(m, "confinement"))
		}
	}
	if !strings.Contains(m, `warren_host_confinement{layer="landlock"} 1`) {
		if rep := pool.Confinement(); rep != nil {
			lm, _ := rep.Get("landlock")
			confinetest.Missing(t, "landlock", lm.Detail)
		}
	}
	// Fully confined hosts start, with every layer at 1.
	dir = t.TempDir()
	pool, err = start(dir, false, "")
	if err != nil {
		if strings.Contains(err.Error(), "without") {
			confinetest.Missing(t, "landlock", err.Error())
		}
		t.Fatal(err)
	}
	if m := metrics(pool, dir); strings.Contains(m, `warren_host_confinement{layer="landlock"} 0`) || strings.Contains(m, `warren_host_confinement{layer="seccomp"} 0`) || !strings.Contains(m, `warren_host_confinement{layer="seccomp"} 1`) {
		t.Errorf("confined hosts:\n%s", grepLines(m, "confinement"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
