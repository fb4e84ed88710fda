package supervisor_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// mountSmall mounts a tmpfs of size bytes on a new folder (root only).
func mountSmall(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a small filesystem here (needs root and mount rights): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

const blobApp = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, b BLOB)"); }
  fetch(req) {
    const u = new URL(req.url);
    if (u.pathname === "/put") {
      try { this.ctx.storage.sql.exec("INSERT INTO t (b) VALUES (randomblob(?))", Number(u.searchParams.get("n"))); }
      catch (e) { return new Response("FAILED " + e.message, { status: 507 }); }
      return new Response("ok");
    }
    if (u.pathname === "/check") return new Response(this.ctx.storage.sql.exec("PRAGMA integrity_check").one().integrity_check);
    return new Response(String(this.ctx.storage.sql.exec("SELECT count(*) AS n FROM t").one().n));
  }
}`

// A full disk gives clear errors, loses nothing acknowledged, corrupts
// nothing, and the app recovers when space returns.
func TestDiskFull(t *testing.T) {
	dir := mountSmall(t, 4<<20)
	s := newSup(t, supervisor.Options{Dir: dir})
	deploy(t, s, "filler", blobApp)
	do := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		s.ServeApp(rec, httptest.NewRequest("GET", "http://x"+path, nil), "filler", strings.Split(path, "?")[0])
		return rec.Code, rec.Body.String()
	}
	acked := 0
	var full string
	for i := 0; i < 200; i++ {
		code, body := do("/put?n=65536")
		if code == 200 {
			acked++
			continue
		}
		full = body
		break
	}
	if full == "" {
		t.Fatal("the disk never filled")
	}
	// The client gets 503 unavailable with a request id; the app's log
	// (the owner's and the operator's) says what happened.
	if !strings.Contains(full, `"unavailable"`) || !strings.Contains(full, `"requestId"`) {
		t.Fatalf("disk-full error: %q", full)
	}
	if lines, _ := s.Logs("filler", 0); !strings.Contains(fmt.Sprint(lines), "disk is full") || !strings.Contains(fmt.Sprint(lines), "free disk space") {
		t.Fatalf("the app's log lacks the disk-full error: %v", lines)
	}
	// Reads still work and see every acknowledged write.
	if code, body := do("/count"); code != 200 || body != fmt.Sprint(acked) {
		t.Fatalf("count while full: %d %q (acked %d)", code, body, acked)
	}
	// A deploy while the disk is full fails clearly or succeeds; it never
	// breaks the running version.
	if _, _, err := s.Deploy(context.Background(), "other", &supervisor.Deployment{WorkerCode: *warren.SingleModule("a.js", blobApp)}); err != nil &&
		!strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("deploy on a full disk: %v", err)
	}
	// Space returns: writes work again, nothing was lost or corrupted.
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=64m"); err != nil {
		t.Fatalf("remount: %v", err)
	}
	if code, body := do("/put?n=65536"); code != 200 {
		t.Fatalf("after space returned: %d %s", code, body)
	}
	if code, body := do("/count"); body != fmt.Sprint(acked+1) {
		t.Fatalf("count after recovery: %d %q, want %d", code, body, acked+1)
	}
	if _, body := do("/check"); body != "ok" {
		t.Fatalf("integrity_check: %q", body)
	}
	s.Close()
	// And after a restart.
	s2 := newSup(t, supervisor.Options{Dir: dir})
	rec := httptest.NewRecorder()
	s2.ServeApp(rec, httptest.NewRequest("GET", "http://x/count", nil), "filler", "/count")
	if rec.Body.String() != fmt.Sprint(acked+1) {
		t.Fatalf("after restart: %q", rec.Body.String())
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
