package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// poolWithSupervisor starts hosts (this test binary, see TestMain) under
// a supervisor, closed when the test ends.
func poolWithSupervisor(t *testing.T, hosts int) (*Pool, *supervisor.Supervisor) {
	t.Helper()
	dir := t.TempDir()
	exe, _ := os.Executable()
	pool, err := NewPool(PoolOptions{Hosts: hosts, AppsDir: filepath.Join(dir, "apps"), MemoryBudget: 64 << 20,
		Command: func() *exec.Cmd { return exec.Command(exe, "-test.run=^$") },
		Env:     []string{"WARREN_HOST_TEST_CHILD=1"}})
	if err != nil {
		t.Fatal(err)
	}
	return pool, Supervise(t, pool, supervisor.Options{Dir: dir})
}

// A subverted host is answered only for its own apps and runs: it cannot
// read another app's code, write to another app's log or fetch under
// another app's egress policy.
func TestCallsOnlyForOwnApps(t *testing.T) {
	pool, sup := poolWithSupervisor(t, 2)
	a, b := OneAppPerHost(pool) // two apps, one on each host
	for _, id := range []string{a, b} {
		d := &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", `export default { fetch() { return new Response("secret of `+id+`") } }`), Egress: []string{"example.com"}}
		if _, _, err := sup.Deploy(context.Background(), id, d); err != nil {
			t.Fatal(err)
		}
	}
	call := func(from int, method, target, app string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(`{"level":"log","message":"injected"}`))
		req.Header.Set(hdrApp, app)
		req.Header.Set(hdrURL, "http://127.0.0.1:1/")
		rec := httptest.NewRecorder()
		pool.calls(pool.slots[from], rec, req)
		return rec
	}
	if rec := call(0, "GET", "/code?app="+a+"&version=1", a); rec.Code != 200 || !strings.Contains(rec.Body.String(), "secret of "+a) {
		t.Fatalf("own code: %d %s", rec.Code, rec.Body)
	}
	if rec := call(0, "GET", "/code?app="+b+"&version=1", b); rec.Code != 404 || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("another host's app's code: %d %s", rec.Code, rec.Body)
	}
	call(0, "POST", "/log?app="+b, b)
	lines, _ := sup.Logs(b, 0)
	for _, l := range lines {
		if strings.Contains(l.Message, "injected") {
			t.Fatalf("a host wrote to another host's app's log: %+v", l)
		}
	}
	if rec := call(0, "POST", "/fetch", b); rec.Code != 404 {
		t.Fatalf("fetch as another host's app: %d %s", rec.Code, rec.Body)
	}
	if rec := call(0, "POST", "/fetch", runPrefix+"0123456789abcdef"); rec.Code != 404 {
		t.Fatalf("fetch as a run that is not on this host: %d %s", rec.Code, rec.Body)
	}
	if rec := call(0, "POST", "/fetch", projectApp); rec.Code == 200 {
		t.Fatalf("fetch as the project of a pool without one: %d %s", rec.Code, rec.Body)
	}
}

// A host whose connection ends while its process lives (a protocol error,
// a peer that stopped reading) is killed and restarted, not left answering
// nothing.
func TestDeadConnectionRestartsTheHost(t *testing.T) {
	pool, sup := poolWithSupervisor(t, 1)
	if _, _, err := sup.Deploy(context.Background(), "a", &supervisor.Deployment{WorkerCode: *warren.SingleModule("app.js", `export default { fetch() { return new Response("up") } }`)}); err != nil {
		t.Fatal(err)
	}
	old := pool.PIDs()[0]
	pool.slots[0].mu.Lock()
	pool.slots[0].cur.client.Close() // as a protocol error would end it
	pool.slots[0].mu.Unlock()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rec := httptest.NewRecorder()
		sup.ServeApp(rec, httptest.NewRequest("GET", "http://x/", nil), "a", "/")
		if rec.Code == 200 && rec.Body.String() == "up" && pool.PIDs()[0] != old {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host was not restarted: %d %s, pid %d (was %d)", rec.Code, rec.Body, pool.PIDs()[0], old)
		}
	}
}

// A status the runtime never produces, from a subverted host, is refused.
func TestBadStatusRefused(t *testing.T) {
	for _, code := range []int{0, 100, 101, 199, 600, 999} {
		resp := &http.Response{StatusCode: code, Body: http.NoBody}
		if err := badStatus(resp); warren.ErrorCode(err) != warren.CodeUnavailable {
			t.Errorf("status %d: %v", code, err)
		}
	}
	for _, code := range []int{200, 404, 599} {
		if err := badStatus(&http.Response{StatusCode: code, Body: http.NoBody}); err != nil {
			t.Errorf("status %d refused: %v", code, err)
		}
	}
}
