package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren/supervisor"
)

// cliServer is a real `warren serve` with the built-in supervisor.
type cliServer struct {
	url, token, data string
}

// startCLIServer runs `warren serve [flags]` on a free loopback port with a
// fresh data folder; the admin token is the one the server generates into it.
func startCLIServer(t *testing.T, flags ...string) *cliServer {
	t.Helper()
	t.Setenv("WARREN_ADMIN_TOKEN", "")
	t.Setenv("WARREN_URL", "")
	data := t.TempDir()
	url := startServeWith(t, data, io.Discard, append([]string{"--listen", "127.0.0.1:0"}, flags...)...)
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return &cliServer{url: url, token: strings.TrimSpace(string(tok)), data: data}
}

// cli runs `warren ARGS --url URL --token TOKEN`.
func (s *cliServer) cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	args = append(args, "--url", s.url, "--token", s.token)
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// ok runs the command and fails the test if it fails.
func (s *cliServer) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := s.cli(t, args...)
	if err != nil {
		t.Fatalf("warren %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// get fetches an app URL and returns the status and body.
func (s *cliServer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// cliFile writes a file in a temp folder and returns its path.
func cliFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// table splits a tabwriter table into rows of fields (header first).
func cliTable(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1))
	}
	return rows
}

// column returns the field under header name in row, checking that the
// table is aligned: the field starts at the header's column.
func cliColumn(t *testing.T, out, name, firstField string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := strings.Index(lines[0], name)
	if col < 0 {
		t.Fatalf("no column %q in\n%s", name, out)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, firstField+" ") {
			continue
		}
		if len(l) <= col || (col > 0 && l[col-1] != ' ') || l[col] == ' ' {
			t.Fatalf("column %q is not aligned in\n%s", name, out)
		}
		f, _, _ := strings.Cut(l[col:], "  ")
		return strings.TrimSpace(f)
	}
	t.Fatalf("no row %q in\n%s", firstField, out)
	return ""
}

const cliHelloJS = `export default { fetch(req) { console.log("js saw " + new URL(req.url).pathname); return new Response("js " + new URL(req.url).pathname) } }`

func TestCLIDeploy(t *testing.T) {
	s := startCLIServer(t)

	// A JavaScript module: a stateless fetch handler.
	out := s.ok(t, "deploy", "hello", cliFile(t, "hello.mjs", cliHelloJS))
	if !strings.Contains(out, "Deployed hello version 1 (created)") || !strings.Contains(out, s.url+"/apps/hello/") {
		t.Fatalf("deploy output:\n%s", out)
	}
	if st, body := s.get(t, "/apps/hello/x/y?q=1"); st != 200 || body != "js /x/y" {
		t.Fatalf("hello: %d %q", st, body)
	}

	// TypeScript: the README's example, a Durable Object class with SQL.
	out = s.ok(t, "deploy", "counter", "../../examples/app-counter.ts")
	if !strings.Contains(out, "version 1 (created)") || !regexp.MustCompile(`class:\s+App\n`).MatchString(out) {
		t.Fatalf("deploy output:\n%s", out)
	}
	for i, want := range []string{`{"path":"/a","count":1,"total":1}`, `{"path":"/a","count":2,"total":2}`, `{"path":"/b","count":1,"total":3}`} {
		path := "/apps/counter/a"
		if i == 2 {
			path = "/apps/counter/b"
		}
		if st, body := s.get(t, path); st != 200 || body != want {
			t.Fatalf("counter %d: %d %q, want %q", i, st, body, want)
		}
	}
	// A new version keeps the data.
	out = s.ok(t, "deploy", "counter", "../../examples/app-counter.ts")
	if !strings.Contains(out, "version 2 (updated; data kept)") {
		t.Fatalf("redeploy output:\n%s", out)
	}
	if _, body := s.get(t, "/apps/counter/a"); body != `{"path":"/a","count":3,"total":4}` {
		t.Fatalf("after redeploy: %q", body)
	}

	// A JSON bundle: two modules, two classes, className and limits.
	bundle, _ := json.Marshal(map[string]any{
		"mainModule": "index.js",
		"modules": map[string]string{
			"index.js": `import { DurableObject } from "cloudflare:workers"; import { greet } from "./lib.js";
export class Other extends DurableObject { fetch() { return new Response("other") } }
export class Greeter extends DurableObject { fetch(req) { return new Response(greet(new URL(req.url).pathname.slice(1))) } }`,
			"lib.js": `export const greet = (s) => "hello " + s`,
		},
		"className": "Greeter",
		"limits":    map[string]int{"requestsPerMinute": 1000},
	})
	out = s.ok(t, "deploy", "bundle", cliFile(t, "bundle.json", string(bundle)), "--json")
	var dep struct {
		App     string
		Created bool
		URL     string
		Version struct {
			Version   int
			ClassName string
			Hash      string
		}
	}
	if err := json.Unmarshal([]byte(out), &dep); err != nil || dep.App != "bundle" || !dep.Created || dep.URL != "/apps/bundle/" || dep.Version.Version != 1 || dep.Version.ClassName != "Greeter" || len(dep.Version.Hash) != 16 {
		t.Fatalf("deploy --json: %v %s", err, out)
	}
	if st, body := s.get(t, "/apps/bundle/world"); st != 200 || body != "hello world" {
		t.Fatalf("bundle: %d %q", st, body)
	}
	// --class picks the other class.
	s.ok(t, "deploy", "bundle", cliFile(t, "b.json", string(bundle)), "--class", "Other")
	if _, body := s.get(t, "/apps/bundle/world"); body != "other" {
		t.Fatalf("--class Other: %q", body)
	}
	var info struct {
		Overrides struct{ RequestsPerMinute int }
		Limits    struct{ RequestsPerMinute int }
	}
	resp := s.admin(t, "GET", "/api/v1/apps/bundle")
	json.Unmarshal(resp, &info)
	if info.Overrides.RequestsPerMinute != 1000 || info.Limits.RequestsPerMinute != 1000 {
		t.Fatalf("limits from the bundle not applied: %s", resp)
	}

	// TSX (sent as a bundle, so the server compiles JSX).
	s.ok(t, "deploy", "tsx", cliFile(t, "page.tsx", `const React = { createElement: (t: string, _p: unknown, ...c: string[]) => "<" + t + ">" + c.join("") + "</" + t + ">" };
export default { fetch(): Response { return new Response(<b>bold</b> as unknown as string) } }`))
	if _, body := s.get(t, "/apps/tsx/"); body != "<b>bold</b>" {
		t.Fatalf("tsx: %q", body)
	}

	// What is not deployable is refused before anything is sent.
	if _, _, err := s.cli(t, "deploy", "x", cliFile(t, "x.py", "print(1)")); err == nil || !strings.Contains(err.Error(), ".json bundle") {
		t.Fatalf("deploy .py: %v", err)
	}
	if _, _, err := s.cli(t, "deploy", "x", filepath.Join(t.TempDir(), "missing.js")); err == nil || !strings.Contains(err.Error(), "missing.js") {
		t.Fatalf("deploy of a missing file: %v", err)
	}
	if _, errOut, err := s.cli(t, "deploy", "x"); !errors.Is(err, errUsage) || !strings.Contains(errOut, "usage: warren deploy ID FILE") {
		t.Fatalf("deploy without FILE: %v %q", err, errOut)
	}
	if _, _, err := s.cli(t, "deploy", "Bad_Id", cliFile(t, "a.js", cliHelloJS)); err == nil || !strings.Contains(err.Error(), `invalid app id "Bad_Id"`) || !strings.Contains(err.Error(), "hint: an app id is") {
		t.Fatalf("bad id: %v", err)
	}
}

// admin calls the admin API directly.
func (s *cliServer) admin(t *testing.T, method, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, body := send(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	return []byte(body)
}

func TestCLIDeployBrokenCodeKeepsOldVersion(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "app", cliFile(t, "good.ts", `export default { fetch(): Response { return new Response("good") } }`))
	broken := cliFile(t, "broken.ts", "export default {\n  fetch(): Response {\n    return new Response(1 + )\n  }\n}\n")
	_, _, err := s.cli(t, "deploy", "app", broken)
	if err == nil {
		t.Fatal("broken code was deployed")
	}
	// The error names the module, line and column, the cause and the hint.
	msg := err.Error()
	if !regexp.MustCompile(`app\.ts:3:\d+: Unexpected "\)"`).MatchString(msg) || !strings.Contains(msg, "refused") || !strings.Contains(msg, "hint: ") || !strings.Contains(msg, broken) {
		t.Fatalf("error: %s", msg)
	}
	// A class that is not exported is refused too.
	if _, _, err := s.cli(t, "deploy", "app", cliFile(t, "c.js", cliHelloJS), "--class", "Nope"); err == nil || !strings.Contains(err.Error(), `does not export a class named "Nope"`) {
		t.Fatalf("--class Nope: %v", err)
	}
	// The old version keeps serving, and is still version 1.
	if st, body := s.get(t, "/apps/app/"); st != 200 || body != "good" {
		t.Fatalf("after refused deploys: %d %q", st, body)
	}
	if v := cliColumn(t, s.ok(t, "apps"), "VERSION", "app"); v != "1" {
		t.Fatalf("version after refused deploys: %s", v)
	}
	// With --json the API's error body is printed.
	out, _, err := s.cli(t, "deploy", "app", broken, "--json")
	var e struct {
		Error struct{ Code, Message string }
	}
	if err == nil || json.Unmarshal([]byte(out), &e) != nil || e.Error.Code != "bad_code" || !strings.HasPrefix(e.Error.Message, "app.ts:3:") {
		t.Fatalf("--json error: %v %q", err, out)
	}
}

func TestCLIApps(t *testing.T) {
	s := startCLIServer(t)
	if out := s.ok(t, "apps"); !strings.Contains(out, "No apps deployed") {
		t.Fatalf("no apps: %q", out)
	}
	s.ok(t, "deploy", "counter", "../../examples/app-counter.ts")
	s.ok(t, "deploy", "a-very-long-app-name", cliFile(t, "a.js", cliHelloJS))
	s.ok(t, "deploy", "a-very-long-app-name", cliFile(t, "a.js", cliHelloJS))
	s.get(t, "/apps/counter/")

	out := s.ok(t, "apps")
	rows := cliTable(out)
	if len(rows) != 3 || strings.Join(rows[0], " ") != "ID VERSION CLASS STATE UPDATED URL" {
		t.Fatalf("apps:\n%s", out)
	}
	// Sorted by id, aligned, with the values of each app.
	if rows[1][0] != "a-very-long-app-name" || rows[2][0] != "counter" {
		t.Fatalf("order:\n%s", out)
	}
	for _, c := range []struct{ col, app, want string }{
		{"VERSION", "a-very-long-app-name", "2"}, {"VERSION", "counter", "1"},
		{"CLASS", "a-very-long-app-name", "-"}, {"CLASS", "counter", "App"},
		{"STATE", "counter", "running"},
		{"URL", "counter", s.url + "/apps/counter/"},
	} {
		if got := cliColumn(t, out, c.col, c.app); got != c.want {
			t.Fatalf("%s of %s = %q, want %q in\n%s", c.col, c.app, got, c.want, out)
		}
	}
	var list struct {
		Apps []struct {
			ID        string
			Version   int
			ClassName string
		}
	}
	if err := json.Unmarshal([]byte(s.ok(t, "apps", "--json")), &list); err != nil || len(list.Apps) != 2 || list.Apps[1].ID != "counter" || list.Apps[1].ClassName != "App" || list.Apps[0].Version != 2 {
		t.Fatalf("apps --json: %v %+v", err, list)
	}
}

func TestCLILogs(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "app", cliFile(t, "a.js", `export default { fetch(req) {
  const p = new URL(req.url).pathname;
  if (p === "/boom") throw new Error("kaboom");
  console.warn("careful with " + p);
  return new Response("ok", { status: 201 }) } }`))
	s.get(t, "/apps/app/one")
	s.get(t, "/apps/app/boom")

	out := s.ok(t, "logs", "app")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  deploy\s+version 1 deployed`),
		regexp.MustCompile(`  warn\s+careful with /one$`),
		regexp.MustCompile(`  request\s+GET /one → 201  [\d.]+m?s \(CPU [\d.]+m?s\)$`),
		regexp.MustCompile(`  exception\s+.*kaboom`),
		regexp.MustCompile(`  request\s+GET /boom → 500 `),
	}
	// The lines come in order (the console line before its request's).
	i := 0
	for _, l := range lines {
		if i < len(want) && want[i].MatchString(l) {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("logs: line %d (%s) not found in\n%s", i, want[i], out)
	}
	// -n keeps the last lines.
	if out := s.ok(t, "logs", "app", "-n", "1"); strings.Count(out, "\n") != 1 || !strings.Contains(out, "GET /boom → 500") {
		t.Fatalf("logs -n 1: %q", out)
	}
	// --json prints the API's JSON lines.
	out = s.ok(t, "logs", "app", "-n", "2", "--json")
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("logs --json: %v %q", err, out)
		}
		got = append(got, m)
	}
	if len(got) != 2 || got[1]["level"] != "request" || got[1]["path"] != "/boom" || got[1]["status"] != 500.0 {
		t.Fatalf("logs --json: %q", out)
	}
	if _, _, err := s.cli(t, "logs", "nope"); err == nil || !strings.Contains(err.Error(), `no app "nope" is deployed`) {
		t.Fatalf("logs of no app: %v", err)
	}
}

// cliWaitFor waits until out contains want, or fails after a generous deadline.
func cliWaitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("never printed %q; output so far:\n%s", want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCLILogsFollow(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "app", cliFile(t, "a.js", cliHelloJS))
	s.get(t, "/apps/app/before")

	// Follow, starting from the last kept line.
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), []string{"logs", "app", "-f", "-n", "1", "--url", s.url, "--token", s.token}, &out, &errOut)
	}()
	cliWaitFor(t, &out, "GET /before → 200")
	// The server subscribed before sending the kept lines: what happens now
	// arrives as it happens.
	s.get(t, "/apps/app/after")
	cliWaitFor(t, &out, "js saw /after")
	cliWaitFor(t, &out, "GET /after → 200")
	s.ok(t, "deploy", "app", cliFile(t, "b.js", cliHelloJS))
	cliWaitFor(t, &out, "version 2 deployed")
	if strings.Count(out.String(), "GET /before") != 1 || strings.Contains(out.String(), "version 1 deployed") {
		t.Fatalf("-n 1 printed more than the last kept line:\n%s", out.String())
	}

	// A second follower, interrupted: it ends without an error.
	ctx, cancel := context.WithCancel(context.Background())
	var out2 syncBuffer
	done2 := make(chan error, 1)
	go func() {
		done2 <- Run(ctx, []string{"logs", "app", "--follow", "-n", "1", "--json", "--url", s.url, "--token", s.token}, &out2, io.Discard)
	}()
	cliWaitFor(t, &out2, `"level":"deploy"`)
	cancel()
	if err := <-done2; err != nil {
		t.Fatalf("interrupted logs -f: %v", err)
	}

	// Deleting the app ends the first follower.
	s.ok(t, "rm", "app", "--yes")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("logs -f: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("logs -f did not end when the app was deleted")
	}
	if !strings.Contains(errOut.String(), "app app was deleted") {
		t.Fatalf("stderr: %q", errOut.String())
	}
}

func TestCLIUsage(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "counter", "../../examples/app-counter.ts")
	s.ok(t, "deploy", "other", cliFile(t, "o.js", `export default { fetch(req) { if (new URL(req.url).pathname === "/err") throw new Error("no"); return new Response("o") } }`))
	const n = 7
	for i := 0; i < n; i++ {
		if st, _ := s.get(t, "/apps/counter/p"+strconv.Itoa(i%3)); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	s.get(t, "/apps/other/")
	s.get(t, "/apps/other/err")
	s.get(t, "/apps/nobody/") // not an app: not metered
	today := time.Now().UTC().Format("2006-01-02")

	// The table: one row per app for today.
	out := s.ok(t, "usage")
	rows := cliTable(out)
	if len(rows) != 3 || strings.Join(rows[0], "|") != "APP|PERIOD|REQUESTS|ERRORS|CPU|WALL|ROWS READ|ROWS WRITTEN|OUTBOUND|STORAGE" {
		t.Fatalf("usage:\n%s", out)
	}
	for _, c := range []struct{ col, app, want string }{
		{"PERIOD", "counter", today}, {"REQUESTS", "counter", "7"}, {"ERRORS", "counter", "0"}, {"ROWS WRITTEN", "counter", "7"},
		{"REQUESTS", "other", "2"}, {"ERRORS", "other", "1"}, {"ROWS WRITTEN", "other", "0"},
	} {
		if got := cliColumn(t, out, c.col, c.app); got != c.want {
			t.Fatalf("%s of %s = %q, want %q in\n%s", c.col, c.app, got, c.want, out)
		}
	}
	if st := cliColumn(t, out, "STORAGE", "counter"); !strings.HasSuffix(st, "KiB") {
		t.Fatalf("storage of counter: %q", st)
	}

	// One app, as CSV, for each period.
	for _, period := range []string{"hour", "day", "month", "all"} {
		out = s.ok(t, "usage", "counter", "--period", period, "--csv")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(recs) != 2 || recs[0][0] != "app" || recs[0][2] != "requests" || recs[1][0] != "counter" || recs[1][2] != strconv.Itoa(n) || recs[1][3] != "0" {
			t.Fatalf("usage counter --period %s --csv: %v\n%s", period, err, out)
		}
		if want := map[string]string{"day": today, "month": today[:7], "all": "all"}[period]; want != "" && recs[1][1] != want {
			t.Fatalf("period %s is %q", period, recs[1][1])
		}
	}
	// And as JSON.
	var js struct {
		Usage []struct {
			App         string
			Requests    int
			Errors      int
			RowsWritten int
		}
	}
	out = s.ok(t, "usage", "other", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js.Usage) != 1 || js.Usage[0].App != "other" || js.Usage[0].Requests != 2 || js.Usage[0].Errors != 1 {
		t.Fatalf("usage other --json: %v\n%s", err, out)
	}
	out = s.ok(t, "usage", "counter", "--period", "all", "--json")
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js.Usage) != 1 || js.Usage[0].App != "counter" || js.Usage[0].Requests != n || js.Usage[0].RowsWritten != n {
		t.Fatalf("usage counter --period all --json: %v\n%s", err, out)
	}
	// More requests, counted at once.
	s.get(t, "/apps/counter/again")
	if got := cliColumn(t, s.ok(t, "usage", "counter"), "REQUESTS", "counter"); got != strconv.Itoa(n+1) {
		t.Fatalf("after one more request: %s", got)
	}
	if _, _, err := s.cli(t, "usage", "--period", "week"); err == nil || !strings.Contains(err.Error(), `unknown usage period "week"`) || !strings.Contains(err.Error(), "hint: use period=hour") {
		t.Fatalf("--period week: %v", err)
	}
}

func TestCLIRollback(t *testing.T) {
	s := startCLIServer(t)
	for _, v := range []string{"one", "two", "three"} {
		s.ok(t, "deploy", "app", cliFile(t, "a.js", `export default { fetch() { return new Response("`+v+`") } }`))
	}
	if _, body := s.get(t, "/apps/app/"); body != "three" {
		t.Fatalf("current: %q", body)
	}
	out := s.ok(t, "rollback", "app")
	if !strings.HasPrefix(out, "Rolled back app to version 2 ") {
		t.Fatalf("rollback: %q", out)
	}
	if _, body := s.get(t, "/apps/app/"); body != "two" {
		t.Fatalf("after rollback: %q", body)
	}
	out = s.ok(t, "rollback", "app", "--version", "1", "--json")
	var rb struct {
		App     string
		Version struct{ Version int }
	}
	if err := json.Unmarshal([]byte(out), &rb); err != nil || rb.App != "app" || rb.Version.Version != 1 {
		t.Fatalf("rollback --json: %v %q", err, out)
	}
	if _, body := s.get(t, "/apps/app/"); body != "one" {
		t.Fatalf("after rollback to 1: %q", body)
	}
	if v := cliColumn(t, s.ok(t, "apps"), "VERSION", "app"); v != "1" {
		t.Fatalf("apps shows version %s", v)
	}
	s.ok(t, "rollback", "app", "--version", "3")
	if _, body := s.get(t, "/apps/app/"); body != "three" {
		t.Fatalf("forward to 3: %q", body)
	}
	if _, _, err := s.cli(t, "rollback", "app", "--version", "9"); err == nil || !strings.Contains(err.Error(), `app "app" has no version 9`) {
		t.Fatalf("rollback to 9: %v", err)
	}
	if _, _, err := s.cli(t, "rollback", "nope"); err == nil || !strings.Contains(err.Error(), `no app "nope"`) {
		t.Fatalf("rollback of no app: %v", err)
	}
	s.ok(t, "deploy", "single", cliFile(t, "a.js", cliHelloJS))
	if _, _, err := s.cli(t, "rollback", "single"); err == nil || !strings.Contains(err.Error(), "no version before 1") {
		t.Fatalf("rollback of a single version: %v", err)
	}
}

func TestCLIRm(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "counter", "../../examples/app-counter.ts")
	s.get(t, "/apps/counter/a")
	if _, body := s.get(t, "/apps/counter/a"); !strings.Contains(body, `"count":2`) {
		t.Fatalf("counter: %q", body)
	}
	if out := s.ok(t, "rm", "counter", "--yes"); !strings.HasPrefix(out, "Deleted counter") {
		t.Fatalf("rm: %q", out)
	}
	if st, body := s.get(t, "/apps/counter/a"); st != 404 || !strings.Contains(body, `no app \"counter\" is deployed`) {
		t.Fatalf("after rm: %d %q", st, body)
	}
	if out := s.ok(t, "apps"); !strings.Contains(out, "No apps deployed") {
		t.Fatalf("apps after rm: %q", out)
	}
	if _, _, err := s.cli(t, "rm", "counter", "-y"); err == nil || !strings.Contains(err.Error(), `no app "counter" is deployed`) {
		t.Fatalf("rm twice: %v", err)
	}
	// The id can be deployed again: a new app, with new data.
	if out := s.ok(t, "deploy", "counter", "../../examples/app-counter.ts"); !strings.Contains(out, "version 1 (created)") {
		t.Fatalf("deploy again: %q", out)
	}
	if st, body := s.get(t, "/apps/counter/a"); st != 200 || !strings.Contains(body, `"count":1`) {
		t.Fatalf("after deploying again: %d %q", st, body)
	}
	if out := s.ok(t, "rm", "--yes", "counter", "--json"); !strings.Contains(out, `"deleted": true`) {
		t.Fatalf("rm --json: %q", out)
	}
}

func TestCLIToken(t *testing.T) {
	s := startCLIServer(t)
	run := func(env map[string]string, args ...string) (string, error) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		var out, errOut bytes.Buffer
		err := Run(context.Background(), append(args, "--url", s.url), &out, &errOut)
		return out.String(), err
	}
	empty := t.TempDir()
	// No token anywhere.
	_, err := run(map[string]string{"WARREN_ADMIN_TOKEN": "", "WARREN_DATA": empty}, "apps")
	if err == nil || !strings.Contains(err.Error(), "needs the admin token, and none was found") || !strings.Contains(err.Error(), filepath.Join(empty, "admin.token")) || !strings.Contains(err.Error(), "export WARREN_ADMIN_TOKEN=") {
		t.Fatalf("no token: %v", err)
	}
	// A wrong token, from the flag and from the environment.
	_, err = run(nil, "apps", "--token", "not-the-token-at-all")
	if err == nil || !strings.Contains(err.Error(), "refused the admin token from --token") || !strings.Contains(err.Error(), "export WARREN_ADMIN_TOKEN=") {
		t.Fatalf("wrong token: %v", err)
	}
	_, err = run(map[string]string{"WARREN_ADMIN_TOKEN": "not-the-token-at-all"}, "deploy", "x", cliFile(t, "a.js", cliHelloJS))
	if err == nil || !strings.Contains(err.Error(), "refused the admin token from WARREN_ADMIN_TOKEN") {
		t.Fatalf("wrong token in the environment: %v", err)
	}
	// Nothing was deployed without the token.
	if st, _ := s.get(t, "/apps/x/"); st != 404 {
		t.Fatalf("deployed without a token: %d", st)
	}
	// The token from the environment, and from the server's data folder.
	if out, err := run(map[string]string{"WARREN_ADMIN_TOKEN": s.token}, "apps"); err != nil || !strings.Contains(out, "No apps") {
		t.Fatalf("WARREN_ADMIN_TOKEN: %v %q", err, out)
	}
	if out, err := run(map[string]string{"WARREN_ADMIN_TOKEN": "", "WARREN_DATA": s.data}, "deploy", "x", cliFile(t, "a.js", cliHelloJS)); err != nil || !strings.Contains(out, "Deployed x") {
		t.Fatalf("token from %s/admin.token: %v %q", s.data, err, out)
	}
	// WARREN_URL is the server.
	t.Setenv("WARREN_URL", strings.TrimPrefix(s.url, "http://"))
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"apps"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), s.url+"/apps/x/") {
		t.Fatalf("WARREN_URL: %v %q", err, out.String())
	}
}

func TestCLIServerNotRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, args := range [][]string{{"apps"}, {"logs", "a", "-f"}, {"usage"}, {"rm", "a", "--yes"}} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), append(args, "--url", url, "--token", "0123456789abcdef"), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "the Warren server is not reachable at "+url) || !strings.Contains(err.Error(), "warren serve") || !strings.Contains(err.Error(), "WARREN_URL") {
			t.Fatalf("%v: %v", args, err)
		}
	}
	// Something that is not Warren's admin API.
	other := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "teapot", http.StatusTeapot) })}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go other.Serve(ln)
	defer other.Close()
	var out bytes.Buffer
	err = Run(context.Background(), []string{"apps", "--url", "http://" + ln.Addr().String(), "--token", "x"}, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "answered HTTP 418: teapot") {
		t.Fatalf("not warren: %v", err)
	}
}

// warren limits prints an app's quotas and egress and sets those its flags
// give, keeping the others; deploys of any format (a .tsx file included)
// keep them.
func TestCLILimits(t *testing.T) {
	s := startCLIServer(t)
	bundle, _ := json.Marshal(map[string]any{"mainModule": "a.js", "modules": map[string]string{"a.js": cliHelloJS},
		"limits": map[string]int{"cpuMs": 50}, "egress": []string{"api.example.com"}})
	s.ok(t, "deploy", "lim", cliFile(t, "b.json", string(bundle)))
	out := s.ok(t, "limits", "lim")
	for _, want := range []string{"requests per minute  6000", "platform default", "CPU per request      50 ms", "memory               64 MiB", "storage              256.0 MiB", "egress               api.example.com"} {
		if !strings.Contains(out, want) {
			t.Fatalf("limits: no %q in\n%s", want, out)
		}
	}
	out = s.ok(t, "limits", "lim", "--rpm", "2", "--storage-mb", "1", "--egress", "a.example.com, *.b.example.org:8443")
	if !strings.Contains(out, "Limits of lim set") || !regexp.MustCompile(`requests per minute\s+2\s+app`).MatchString(out) ||
		!regexp.MustCompile(`CPU per request\s+50 ms\s+app`).MatchString(out) || !regexp.MustCompile(`storage\s+1.0 MiB\s+app`).MatchString(out) ||
		!strings.Contains(out, "a.example.com,*.b.example.org:8443") {
		t.Fatalf("limits set:\n%s", out)
	}
	// Deploys keep them, whatever the format.
	tsx := cliFile(t, "app.tsx", `export default { fetch(): Response { return new Response(String(<i/> !== undefined)) } }; const React = { createElement: () => 1 };`)
	for _, f := range []string{tsx, cliFile(t, "a.js", cliHelloJS), cliFile(t, "a.ts", cliHelloJS)} {
		s.ok(t, "deploy", "lim", f)
	}
	var l supervisor.AppLimits
	if err := json.Unmarshal([]byte(s.ok(t, "limits", "lim", "--json")), &l); err != nil {
		t.Fatal(err)
	}
	if l.Overrides != (supervisor.Quotas{CPUMs: 50, RequestsPerMinute: 2, StorageBytes: 1 << 20}) || strings.Join(l.Egress, " ") != "a.example.com *.b.example.org:8443" || l.Defaults.RequestsPerMinute != 6000 {
		t.Fatalf("after deploys: %+v", l)
	}
	// The rate applies.
	s.get(t, "/apps/lim/")
	s.get(t, "/apps/lim/")
	if st, body := s.get(t, "/apps/lim/"); st != 429 {
		t.Fatalf("over --rpm 2: %d %s", st, body)
	}
	// A new CPU quota applies to the next request, in the app's host
	// process too (its code restarts under it).
	s.ok(t, "deploy", "spin", cliFile(t, "spin.js", `export default { fetch(req) { const end = Date.now() + Number(new URL(req.url).searchParams.get("ms")); while (Date.now() < end) {} return new Response("done") } }`))
	if st, body := s.get(t, "/apps/spin/?ms=100"); st != 200 || body != "done" {
		t.Fatalf("spin: %d %s", st, body)
	}
	s.ok(t, "limits", "spin", "--cpu-ms", "20")
	if st, body := s.get(t, "/apps/spin/?ms=300"); st != 503 || !strings.Contains(body, "CPU time") {
		t.Fatalf("spin over --cpu-ms 20: %d %s", st, body)
	}
	// Back to the defaults and no network.
	out = s.ok(t, "limits", "lim", "--rpm", "0", "--cpu-ms", "0", "--storage-mb", "0", "--egress", "")
	if !regexp.MustCompile(`requests per minute\s+6000\s+platform default`).MatchString(out) || !strings.Contains(out, "none (no network)") {
		t.Fatalf("limits reset:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"limits", "lim", "--memory-mb", "1"}, "limits.memoryMB = 1 is not allowed"},
		{[]string{"limits", "lim", "--egress", "http://x.com/"}, "egress"},
		{[]string{"limits", "ghost"}, `no app "ghost"`},
		{[]string{"limits", "lim", "--rpm", "-1"}, "--rpm must be 0"},
	} {
		if _, errOut, err := s.cli(t, c.args...); err == nil || !strings.Contains(err.Error()+errOut, c.want) {
			t.Errorf("%v: %v %s", c.args, err, errOut)
		}
	}
}

// The platform's default quotas are flags and variables of warren serve;
// an app's own limits override them.
func TestServeDefaultQuotas(t *testing.T) {
	t.Setenv("WARREN_DEFAULT_CPU_MS", "20")
	s := startCLIServer(t, "--default-rpm", "2", "--default-memory-mb", "32", "--default-storage-mb", "8")
	const spin = `export default { fetch(req) { const end = Date.now() + Number(new URL(req.url).searchParams.get("ms")); while (Date.now() < end) {} return new Response("done") } }`
	s.ok(t, "deploy", "plain", cliFile(t, "spin.js", spin))
	var l supervisor.AppLimits
	if err := json.Unmarshal([]byte(s.ok(t, "limits", "plain", "--json")), &l); err != nil {
		t.Fatal(err)
	}
	want := supervisor.Quotas{RequestsPerMinute: 2, CPUMs: 20, MemoryMB: 32, StorageBytes: 8 << 20}
	if l.Defaults != want || l.Limits != want || l.Overrides != (supervisor.Quotas{}) {
		t.Fatalf("limits: %+v", l)
	}
	if st, body := s.get(t, "/apps/plain/?ms=300"); st != 503 || !strings.Contains(body, "CPU time") {
		t.Fatalf("past --default-cpu-ms: %d %s", st, body)
	}
	s.get(t, "/apps/plain/?ms=0")
	if st, body := s.get(t, "/apps/plain/?ms=0"); st != 429 {
		t.Fatalf("past --default-rpm: %d %s", st, body)
	}
	// The app's own limits win.
	bundle, _ := json.Marshal(map[string]any{"mainModule": "a.js", "modules": map[string]string{"a.js": spin}, "limits": map[string]int{"requestsPerMinute": 100, "cpuMs": 2000}})
	s.ok(t, "deploy", "own", cliFile(t, "b.json", string(bundle)))
	for i := 0; i < 3; i++ {
		if st, body := s.get(t, "/apps/own/?ms=100"); st != 200 {
			t.Fatalf("own limits, request %d: %d %s", i, st, body)
		}
	}
	// Invalid values are refused at start.
	for _, c := range []struct {
		env, val string
		args     []string
		want     string
	}{
		{"", "", []string{"--default-memory-mb", "2"}, "--default-memory-mb"},
		{"", "", []string{"--default-cpu-ms", "400000"}, "--default-cpu-ms"},
		{"", "", []string{"--default-rpm", "-1"}, "--default-rpm"},
		{"WARREN_DEFAULT_RPM", "lots", nil, "WARREN_DEFAULT_RPM"},
	} {
		if c.env != "" {
			t.Setenv(c.env, c.val)
		}
		err := (&ServeCommand{Stdout: io.Discard, Stderr: io.Discard}).ParseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %s=%s: %v", c.args, c.env, c.val, err)
		}
	}
}
