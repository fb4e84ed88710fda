package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashApp = `import { DurableObject } from "cloudflare:workers";
export class Log extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS w (k TEXT PRIMARY KEY, v TEXT)"); }
  async fetch(req) {
    const u = new URL(req.url);
    if (u.pathname === "/put") {
      this.ctx.storage.sql.exec("INSERT INTO w VALUES (?, ?)", u.searchParams.get("k"), "x".repeat(200));
      return new Response("ok");
    }
    if (u.pathname === "/keys") return new Response(this.ctx.storage.sql.exec("SELECT k FROM w").toArray().map(r => r.k).join("\n"));
    if (u.pathname === "/check") return new Response(this.ctx.storage.sql.exec("PRAGMA integrity_check").one().integrity_check);
    return new Response("?", { status: 404 });
  }
}
export default { fetch(req, env) { return env.LOG.getByName(new URL(req.url).searchParams.get("o") || "a").fetch(req); } };
`

// TestCrashKeepsAcknowledgedWrites runs the real binary under a write load,
// kills it with SIGKILL at a random moment, restarts it on the same data and
// checks that every acknowledged write is there and the databases are sound.
// WARREN_CRASH_ROUNDS sets the number of kills (default 3).
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	bin := buildWarren(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "index.js"), []byte(crashApp), 0o644)
	os.WriteFile(filepath.Join(dir, "wrangler.jsonc"), []byte(`{"name": "crash", "main": "src/index.js",
	  "durable_objects": {"bindings": [{"name": "LOG", "class_name": "Log"}]},
	  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Log"]}]}`), 0o644)
	data := t.TempDir()
	rounds := 3
	fmt.Sscan(os.Getenv("WARREN_CRASH_ROUNDS"), &rounds)
	objects := []string{"a", "b", "c", "d"}
	acked := newAcks(objects)
	for round := 0; round < rounds; round++ {
		cmd, base := startBinary(t, bin, dir, data)
		// Everything acknowledged so far must be there.
		verify(t, base, objects, acked.keys, round)
		loadAndKill(cmd, func(client *http.Client) bool {
			o, k := objects[rand.Intn(len(objects))], acked.next(round)
			resp, err := client.Get(base + "/put?o=" + o + "&k=" + k)
			return acked.record(o, k, resp, err)
		})
	}
	cmd, base := startBinary(t, bin, dir, data)
	defer func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() }()
	n := verify(t, base, objects, acked.keys, rounds)
	if n == 0 {
		t.Fatal("no write was acknowledged; the test proved nothing")
	}
	t.Logf("%d kills, %d acknowledged writes, all present", rounds, n)
}

// acks are the writes a server acknowledged, by object or app, taken down
// by the writers of a load.
type acks struct {
	mu   sync.Mutex
	seq  int
	keys map[string]map[string]bool // read when no load runs
}

func newAcks(names []string) *acks {
	a := &acks{keys: map[string]map[string]bool{}}
	for _, n := range names {
		a.keys[n] = map[string]bool{}
	}
	return a
}

// next returns a key no write has used.
func (a *acks) next(round int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	return fmt.Sprintf("r%d-%d", round, a.seq)
}

// record reads the answer to the write of key to name and takes the key
// down if the server acknowledged it (200 "ok"). It returns false when the
// server could not be reached.
func (a *acks) record(name, key string, resp *http.Response, err error) bool {
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 && string(b) == "ok" {
		a.mu.Lock()
		a.keys[name][key] = true
		a.mu.Unlock()
	}
	return true
}

// loadAndKill runs load over and over on four goroutines (each stops when
// load returns false), kills the server with SIGKILL at a random moment 150 to
// 500 ms later and waits for the goroutines to end.
func loadAndKill(cmd *exec.Cmd, load func(client *http.Client) bool) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				if !load(client) {
					return
				}
			}
		})
	}
	time.Sleep(time.Duration(150+rand.Intn(350)) * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	cancel()
	wg.Wait()
}

func startBinary(t *testing.T, bin, dir, data string) (*exec.Cmd, string) {
	t.Helper()
	return startCmd(t, exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--config", filepath.Join(dir, "wrangler.jsonc")))
}

func verify(t *testing.T, base string, objects []string, acked map[string]map[string]bool, round int) int {
	t.Helper()
	total := 0
	for _, o := range objects {
		resp, err := http.Get(base + "/keys?o=" + o)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		have := map[string]bool{}
		for _, k := range strings.Split(string(b), "\n") {
			have[k] = true
		}
		for k := range acked[o] {
			if !have[k] {
				t.Fatalf("after kill %d: acknowledged write %s of object %s is missing", round, k, o)
			}
			total++
		}
		resp, err = http.Get(base + "/check?o=" + o)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("after kill %d: integrity_check of %s = %q", round, o, b)
		}
	}
	return total
}

const crashAppsApp = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS w (k TEXT PRIMARY KEY, v TEXT)"); }
  fetch(req) {
    const u = new URL(req.url);
    if (req.method === "POST") {
      this.ctx.storage.sql.exec("INSERT INTO w VALUES (?, ?)", u.searchParams.get("k"), "x".repeat(200));
      this.ctx.storage.kv.put("last", u.searchParams.get("k"));
      return new Response("ok");
    }
    if (u.pathname === "/keys") return new Response(this.ctx.storage.sql.exec("SELECT k FROM w").toArray().map(r => r.k).join("\n"));
    if (u.pathname === "/check") return new Response(this.ctx.storage.sql.exec("PRAGMA integrity_check").one().integrity_check);
    return new Response(String(this.ctx.storage.sql.exec("SELECT count(*) AS n FROM w").one().n));
  }
}`

// TestCrashAppsKeepAcknowledgedWrites is the crash test for the built-in
// supervisor: apps deployed through the admin API take a mixed read/write
// load, the server is killed with SIGKILL at random moments, and after each
// restart the apps are still deployed and every acknowledged write is in
// their databases, which pass integrity_check. WARREN_CRASH_ROUNDS sets the
// number of kills (default 3; the long mode in docs/RELIABILITY.md uses 50).
func TestCrashAppsKeepAcknowledgedWrites(t *testing.T) {
	bin := buildWarren(t)
	data := t.TempDir()
	const token = "crash-test-token-0123456789"
	rounds := 3
	fmt.Sscan(os.Getenv("WARREN_CRASH_ROUNDS"), &rounds)
	apps := []string{"a1", "a2", "a3"}
	acked := newAcks(apps)
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--admin-token", token)
		return startCmd(t, cmd)
	}
	cmd, base := start()
	for _, a := range apps {
		req, _ := http.NewRequest("PUT", base+"/api/v1/apps/"+a, strings.NewReader(crashAppsApp))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/javascript")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("deploy %s: %v %v", a, resp, err)
		}
		resp.Body.Close()
	}
	for round := 0; round <= rounds; round++ {
		if round > 0 {
			cmd, base = start()
		}
		verifyApps(t, base, apps, acked.keys, round)
		if round == rounds {
			break
		}
		loadAndKill(cmd, func(client *http.Client) bool {
			a := apps[rand.Intn(len(apps))]
			if rand.Intn(3) == 0 { // a read
				resp, err := client.Get(base + "/apps/" + a + "/count")
				if err != nil {
					return false
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return true
			}
			k := acked.next(round)
			resp, err := client.Post(base+"/apps/"+a+"/put?k="+k, "text/plain", nil)
			return acked.record(a, k, resp, err)
		})
	}
	defer func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() }()
	n := 0
	for _, a := range apps {
		n += len(acked.keys[a])
	}
	if n == 0 {
		t.Fatal("no write was acknowledged; the test proved nothing")
	}
	t.Logf("%d kills, %d acknowledged writes over %d apps, all present", rounds, n, len(apps))
}

// startCmd starts a warren serve command and returns its base URL.
func startCmd(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, string) {
	t.Helper()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, `"addr":"http://`); i >= 0 {
				rest := line[i+len(`"addr":"`):]
				addr <- rest[:strings.IndexByte(rest, '"')]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	return nil, ""
}

func verifyApps(t *testing.T, base string, apps []string, acked map[string]map[string]bool, round int) {
	t.Helper()
	for _, a := range apps {
		get := func(path string) string {
			var resp *http.Response
			var err error
			// A 503 says "retry" (a host still starting): the contract.
			for try := 0; try < 20; try++ {
				resp, err = http.Get(base + "/apps/" + a + path)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != 503 {
					break
				}
				resp.Body.Close()
				time.Sleep(100 * time.Millisecond)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("after kill %d: app %s %s: %d %s", round, a, path, resp.StatusCode, b)
			}
			return string(b)
		}
		have := map[string]bool{}
		for _, k := range strings.Split(get("/keys"), "\n") {
			have[k] = true
		}
		for k := range acked[a] {
			if !have[k] {
				t.Fatalf("after kill %d: acknowledged write %s of app %s is missing", round, k, a)
			}
		}
		if c := get("/check"); c != "ok" {
			t.Fatalf("after kill %d: integrity_check of app %s = %q", round, a, c)
		}
	}
}

// buildWarren builds the real binary for the kill tests (skipped in -short).
func buildWarren(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "warren")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}
