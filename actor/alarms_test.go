package actor_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/js/quickjs"
	"github.com/warrenhq/warren/worker"
)

const alarmApp = `
import { DurableObject } from "cloudflare:workers";
export class A extends DurableObject {
  constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS fired (n INTEGER, retry INTEGER, isRetry INTEGER)"); }
  async arm(ms, failures) {
    await this.ctx.storage.put("failures", failures);
    await this.ctx.storage.setAlarm(Date.now() + ms);
    return await this.ctx.storage.getAlarm() !== null;
  }
  async alarm(info) {
    const left = await this.ctx.storage.get("failures");
    this.ctx.storage.sql.exec("INSERT INTO fired VALUES (?, ?, ?)", left, info.retryCount, info.isRetry ? 1 : 0);
    if (left > 0) { await this.ctx.storage.put("failures", left - 1); throw new Error("not yet"); }
  }
  state() { return { fired: this.ctx.storage.sql.exec("SELECT retry, isRetry FROM fired").toArray().map(r => r.retry + ":" + r.isRetry).join(","), alarm: this.ctx.storage.sql.exec("SELECT count(*) AS k FROM _cf_ALARM").toArray().length } }
  async pending() { return await this.ctx.storage.getAlarm() }
  fired() { return this.ctx.storage.sql.exec("SELECT retry, isRetry FROM fired").toArray().map(r => r.retry + ":" + r.isRetry).join(",") }
}
export default {};
`

func alarmNS(t *testing.T, dir string) *actor.Namespace {
	t.Helper()
	rtOnce.Do(func() { rt, _ = worker.NewRuntime(&quickjs.Engine{}) })
	prog, err := rt.Compile(warren.SingleModule("a.js", alarmApp))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := actor.New(rt, prog, actor.Options{Name: "A", Class: "A", Dir: dir, AlarmRetryBase: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if f() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func pending(t *testing.T, obj worker.Entrypoint) any {
	v, err := obj.Call(context.Background(), "pending", nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fired(t *testing.T, obj worker.Entrypoint) string {
	r, err := obj.Call(context.Background(), "fired", nil)
	if err != nil {
		return ""
	}
	return fmt.Sprint(r)
}

func TestAlarmRetriesWithBackoff(t *testing.T) {
	ns := alarmNS(t, t.TempDir())
	defer ns.Close()
	obj := ns.Object(ns.IDFromName("x"))
	if ok, err := obj.Call(context.Background(), "arm", []any{20, 2}); err != nil || ok != true {
		t.Fatalf("arm: %v %v", ok, err)
	}
	// Two failures, then success: three runs, retryCount 0, 1, 2; the alarm
	// is cleared after the successful one.
	waitFor(t, "the alarm to succeed", func() bool { return pending(t, obj) == nil })
	if got := fired(t, obj); got != "0:0,1:1,2:1" {
		t.Fatalf("alarm runs (retryCount:isRetry) = %q", got)
	}
	r, err := obj.Call(context.Background(), "state", nil)
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		// state() reads _cf_ALARM, which app SQL may not: make sure of that too.
		t.Fatalf("app SQL read the reserved alarm table: %v %v", r, err)
	}
}

func TestAlarmRunsAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ns := alarmNS(t, dir)
	obj := ns.Object(ns.IDFromName("y"))
	if _, err := obj.Call(context.Background(), "arm", []any{300, 0}); err != nil {
		t.Fatal(err)
	}
	ns.Close() // the server stops before the alarm is due
	ns = alarmNS(t, dir)
	defer ns.Close()
	obj = ns.Object(ns.IDFromName("y"))
	if pending(t, obj) == nil {
		t.Fatal("the alarm was lost across the restart")
	}
	waitFor(t, "the alarm after restart", func() bool { return pending(t, obj) == nil })
}
