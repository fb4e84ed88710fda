package main

// Tests of what an operator relies on: one server per data folder, a busy
// port failing at once, the admin token kept out of the process list, a
// terminal that app output cannot drive, rm that asks first, and the CLI's
// help, version and completion.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/warrenhq/warren"
)

// serveWith starts `warren serve ARGS` (with --listen 127.0.0.1:0 unless
// ARGS set it) and returns its address and its stderr; stop ends it.
func serveWith(t *testing.T, args ...string) (addr string, stderr *syncBuffer, stop func() error) {
	t.Helper()
	stderr = &syncBuffer{}
	url, stop := runServe(t, stderr, stderr, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	return strings.TrimPrefix(url, "http://"), stderr, stop
}

// serveFails runs `warren serve ARGS` expecting it to fail before it
// listens, and returns the error.
func serveFails(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	ready := make(chan string, 1)
	c := &ServeCommand{Stdout: &stderr, Stderr: &stderr, Ready: func(a string) { ready <- a }}
	if err := c.ParseFlags(args); err != nil {
		return stderr.String(), err
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case err := <-done:
		return stderr.String(), err
	case a := <-ready:
		cancel()
		<-done
		t.Fatalf("serve %v started (on %s); it should have failed", args, a)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve %v neither failed nor started", args)
	}
	return "", nil
}

// A second server on a data folder in use refuses to start, naming the
// folder and the holder's pid; once the first stops, the folder is free.
func TestServeDataFolderLocked(t *testing.T) {
	t.Setenv("WARREN_ADMIN_TOKEN", "")
	data := t.TempDir()
	_, _, stop := serveWith(t, "--data", data, "--isolation", "inprocess")
	_, err := serveFails(t, "--listen", "127.0.0.1:0", "--data", data, "--isolation", "inprocess")
	if err == nil || !strings.Contains(err.Error(), "data folder "+data+" is in use") || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("second server on %s: %v", data, err)
	}
	// Once the first has stopped, the folder is free again.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, _, stop = serveWith(t, "--data", data, "--isolation", "inprocess")
	stop()
}

// A busy port fails at once, before anything starts: no host process, no
// database, no token generated in the data folder.
func TestServeBusyPort(t *testing.T) {
	t.Setenv("WARREN_ADMIN_TOKEN", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := t.TempDir()
	stderr, err := serveFails(t, "--listen", ln.Addr().String(), "--data", data, "--hosts", "2")
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) || !strings.Contains(err.Error(), "--listen") {
		t.Fatalf("busy port: %v", err)
	}
	for _, f := range []string{"admin.token", "supervisor.sqlite", "apps"} {
		if _, err := os.Stat(filepath.Join(data, f)); err == nil {
			t.Errorf("%s was created before the port was checked", f)
		}
	}
	if strings.Contains(stderr, "host processes") || strings.Contains(stderr, "Admin token") {
		t.Errorf("things started before the port was checked:\n%s", stderr)
	}
}

// The admin token can come from a file (flag or environment), so that it
// is not in the process list; --admin-token still works, with a warning;
// the help never shows a token from the environment.
func TestServeAdminTokenFile(t *testing.T) {
	const tok = "file-token-0123456789abcdef"
	file := cliFile(t, "token", tok+"\n")
	t.Setenv("WARREN_ADMIN_TOKEN", "")
	t.Setenv("WARREN_URL", "")
	check := func(addr string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), append([]string{"apps", "--url", addr}, args...), &out, &errOut); err != nil || !strings.Contains(out.String(), "No apps") {
			t.Fatalf("apps %v: %v %s", args, err, errOut.String())
		}
	}
	addr, stderr, stop := serveWith(t, "--data", t.TempDir(), "--isolation", "inprocess", "--admin-token-file", file)
	check(addr, "--token-file", file)
	check(addr, "--token", tok)
	if strings.Contains(stderr.String(), "process list") || strings.Contains(stderr.String(), "Admin token") {
		t.Fatalf("token file: %s", stderr)
	}
	stop()

	t.Setenv("WARREN_ADMIN_TOKEN_FILE", file)
	addr, _, stop = serveWith(t, "--data", t.TempDir(), "--isolation", "inprocess")
	check(addr) // the CLI reads WARREN_ADMIN_TOKEN_FILE too
	stop()
	t.Setenv("WARREN_ADMIN_TOKEN_FILE", "")

	addr, stderr, stop = serveWith(t, "--data", t.TempDir(), "--isolation", "inprocess", "--admin-token", tok)
	check(addr, "--token", tok)
	if !strings.Contains(stderr.String(), "--admin-token is visible to other users") || !strings.Contains(stderr.String(), "--admin-token-file") {
		t.Fatalf("no warning for --admin-token: %s", stderr)
	}
	stop()

	if err := (&ServeCommand{Stderr: &bytes.Buffer{}}).ParseFlags([]string{"--admin-token", tok, "--admin-token-file", file}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both: %v", err)
	}
	short := cliFile(t, "short", "abc\n")
	if _, err := serveFails(t, "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--isolation", "inprocess", "--admin-token-file", short); err == nil || !strings.Contains(err.Error(), short) || !strings.Contains(err.Error(), "16 characters") {
		t.Fatalf("short token file: %v", err)
	}
	// The help lists the flag and the variable, and shows no secret.
	t.Setenv("WARREN_ADMIN_TOKEN", "secret-from-env-0123456789")
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"serve", "--help"}, &out, &out); err != nil || !strings.Contains(out.String(), "-admin-token-file") ||
		!strings.Contains(out.String(), "WARREN_ADMIN_TOKEN_FILE") || strings.Contains(out.String(), "secret-from-env") {
		t.Fatalf("serve --help: %v\n%s", err, out.String())
	}
}

// An app's output cannot drive the operator's terminal: escape sequences
// (cursor moves, OSC 52 clipboard writes), carriage returns that would
// overwrite a line, C1 controls and bidirectional overrides are printed
// escaped by `warren logs`, with or without -f, and by --json.
func TestCLILogsEscapeControls(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "evil", cliFile(t, "a.js", `export default { fetch(req) {
  console.log("before\x1b[2J\x1b]52;c;ZXZpbA==\x07\rGET /admin → 200 forged\u009b31m\u202eafter\x7f\tend\nsecond line");
  return new Response("ok") } }`))
	if st, _ := s.get(t, "/apps/evil/x%1b[1Ay%0dz"); st != 200 {
		t.Fatalf("request: %d", st)
	}
	raw := regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202e]")
	check := func(name, out string) {
		t.Helper()
		if loc := raw.FindStringIndex(out); loc != nil {
			t.Errorf("%s: a raw control character %q reached the terminal:\n%q", name, out[loc[0]:loc[1]], out)
		}
	}
	out := s.ok(t, "logs", "evil")
	check("logs", out)
	for _, want := range []string{`before\x1b[2J\x1b]52;c;ZXZpbA==\x07\rGET /admin → 200 forged\u009b31m\u202eafter\x7f` + "\tend\n", "    second line", `GET /x\x1b[1Ay\rz → 200`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs: %q not in\n%s", want, out)
		}
	}
	js := s.ok(t, "logs", "evil", "--json")
	check("logs --json", js)
	for _, l := range strings.Split(strings.TrimSpace(js), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("logs --json is not JSON lines: %v %q", err, l)
		}
		if m["level"] == "log" && !strings.HasPrefix(m["message"].(string), "before\x1b[2J") {
			t.Errorf("logs --json changed the message: %q", m["message"])
		}
	}
	var fout syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"logs", "evil", "-f", "--url", s.url, "--token", s.token}, &fout, &bytes.Buffer{})
	}()
	cliWaitFor(t, &fout, "GET /x")
	cancel()
	<-done
	check("logs -f", fout.String())
	if !strings.Contains(fout.String(), `\x1b]52;c;`) {
		t.Errorf("logs -f: %s", fout.String())
	}
}

func TestEscapeControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ünïcödé ✓": "plain text, ünïcödé ✓",
		"a\tb":                  "a\tb",
		"a\nb":                  "a\nb",
		"a\rb\x1b[31m\x00\x07":  `a\rb\x1b[31m\x00\x07`,
		"\x7f\u0085\u009b":      `\x7f\u0085\u009b`,
		"x\u202ey\u2066z":       `x\u202ey\u2066z`,
		"bad \xff\xfe utf8":     `bad \xff\xfe utf8`,
	} {
		if got := escapeControls(in, true); got != want {
			t.Errorf("escapeControls(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapeControls("a\nb", false); got != `a\nb` {
		t.Errorf("newline outside a message: %q", got)
	}
	j := escapeJSONControls([]byte("{\r\n\t\"m\":\"a\u009b\x7fb\xff\u202e\"\n}"))
	var m map[string]string
	if err := json.Unmarshal(j, &m); err != nil || m["m"] != "a\u009b\x7fb\ufffd\u202e" || bytes.ContainsAny(j, "\r\x7f\u009b\u202e") || !bytes.HasPrefix(j, []byte("{\n\t")) {
		t.Errorf("escapeJSONControls: %q %v %q", j, err, m["m"])
	}
}

// rm asks first on a terminal, and without one needs --yes.
func TestCLIRmConfirm(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "keep", "../../examples/app-counter.ts")
	rm := func(stdin string, terminal bool, args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		c := &AdminCommand{Name: "rm", Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin), StdinTerminal: terminal}
		if err := c.ParseFlags(append(args, "--url", s.url, "--token", s.token)); err != nil {
			t.Fatal(err)
		}
		err := c.Run(context.Background())
		return out.String(), errOut.String(), err
	}
	// Not a terminal, no --yes: refused, nothing deleted.
	if _, _, err := rm("y\n", false, "keep"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("rm without a terminal: %v", err)
	}
	for _, answer := range []string{"\n", "n\n", "no\n", "", "yess\n"} {
		if _, errOut, err := rm(answer, true, "keep"); err == nil || !strings.Contains(err.Error(), "keep was not deleted") || !strings.Contains(errOut, "Delete app keep") || !strings.Contains(errOut, "[y/N]") {
			t.Fatalf("rm answered %q: %v %q", answer, err, errOut)
		}
	}
	if st, _ := s.get(t, "/apps/keep/"); st != 200 {
		t.Fatalf("the app went without a yes: %d", st)
	}
	// No such app: said before asking.
	if _, errOut, err := rm("y\n", true, "nope"); err == nil || !strings.Contains(err.Error(), `no app "nope"`) || strings.Contains(errOut, "[y/N]") {
		t.Fatalf("rm of no app: %v %q", err, errOut)
	}
	if out, _, err := rm("Y\n", true, "keep"); err != nil || !strings.HasPrefix(out, "Deleted keep") {
		t.Fatalf("rm answered y: %v %q", err, out)
	}
	s.ok(t, "deploy", "keep", "../../examples/app-counter.ts")
	if out, errOut, err := rm("", false, "keep", "--yes"); err != nil || !strings.HasPrefix(out, "Deleted keep") || errOut != "" {
		t.Fatalf("rm --yes: %v %q %q", err, out, errOut)
	}
	// Through Run, with the process's stdin (not a terminal under go test
	// unless run by hand).
	if !isTerminal(os.Stdin) {
		s.ok(t, "deploy", "keep", "../../examples/app-counter.ts")
		if _, _, err := s.cli(t, "rm", "keep"); err == nil || !strings.Contains(err.Error(), "pass --yes") {
			t.Fatalf("warren rm without --yes: %v", err)
		}
	}
}

// Every command's --help (and -h, and `warren help CMD`) exits 0 with its
// usage line, every flag, and the environment variables it reads.
func TestHelpEveryCommand(t *testing.T) {
	envRe := regexp.MustCompile(`WARREN_[A-Z_]+`)
	for _, name := range commandOrder {
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), []string{name, "--help"}, &out, &errOut); err != nil {
			t.Errorf("%s --help: %v %s", name, err, errOut.String())
			continue
		}
		help := out.String()
		if !strings.HasPrefix(help, "usage: warren "+name) {
			t.Errorf("%s --help: no usage line:\n%s", name, help)
		}
		for _, f := range commandFlags(name) {
			if f != "--help" && !strings.Contains(help, "  -"+strings.TrimLeft(f, "-")) {
				t.Errorf("%s --help does not list %s:\n%s", name, f, help)
			}
		}
		// Every variable named anywhere in the help is in its Environment list.
		env, _, _ := strings.Cut(help, "\nEnvironment:\n")
		_, list, _ := strings.Cut(help, "\nEnvironment:\n")
		for _, v := range envRe.FindAllString(env, -1) {
			if !regexp.MustCompile(`(?m)^  ` + v + ` `).MatchString(list) {
				t.Errorf("%s --help names %s but does not list it under Environment:\n%s", name, v, help)
			}
		}
		for _, e := range commandHelps[name].Env {
			if !strings.Contains(list, e[0]) {
				t.Errorf("%s --help: %s missing", name, e[0])
			}
		}
		var out2, out3 bytes.Buffer
		if err := Run(context.Background(), []string{"help", name}, &out2, &errOut); err != nil || out2.String() != help {
			t.Errorf("help %s: %v\n%s", name, err, out2.String())
		}
		if err := Run(context.Background(), []string{name, "-h"}, &out3, &errOut); err != nil || out3.String() != help {
			t.Errorf("%s -h: %v\n%s", name, err, out3.String())
		}
	}
	// Flags after arguments, too.
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"logs", "app", "--help"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "usage: warren logs") {
		t.Errorf("logs app --help: %v %s", err, out.String())
	}
	if err := Run(context.Background(), []string{"help", "nope"}, &out, &out); err == nil {
		t.Error("help of an unknown command")
	}
	// A wrong usage still fails.
	if err := Run(context.Background(), []string{"logs"}, &out, &out); err == nil {
		t.Error("logs without an app")
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		if err := Run(context.Background(), args, &out, &out); err != nil || !strings.HasPrefix(out.String(), "warren ") || !strings.Contains(out.String(), runtime.Version()) {
			t.Errorf("%v: %v %q", args, err, out.String())
		}
	}
	bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/warrenhq/warren", Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0d3cc2eae6a3140c8467712345337ce771aff264"}, {Key: "vcs.time", Value: "2026-11-26T21:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got := versionOf(bi, true); !strings.HasPrefix(got, "warren v1.2.3, revision 0d3cc2eae6a3140c8467712345337ce771aff264 (2026-11-26T21:00:00Z) with local changes, go") {
		t.Errorf("versionOf: %q", got)
	}
}

func TestCompletion(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"completion", "bash"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	script := out.String()
	for _, want := range append([]string{"complete -o default -F _warren warren", "--admin-token-file", "--yes", "apps -q"}, commandOrder...) {
		if !strings.Contains(script, want) {
			t.Errorf("completion: no %q", want)
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		// The script parses, and completes commands, flags and shells.
		prog := script + `
COMP_WORDS=(warren ro); COMP_CWORD=1; _warren; echo "1:${COMPREPLY[*]}"
COMP_WORDS=(warren rm --y); COMP_CWORD=2; _warren; echo "2:${COMPREPLY[*]}"
COMP_WORDS=(warren completion ""); COMP_CWORD=2; _warren; echo "3:${COMPREPLY[*]}"
`
		got, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil || !strings.Contains(string(got), "1:rollback\n") || !strings.Contains(string(got), "2:--yes\n") || !strings.Contains(string(got), "3:bash zsh\n") {
			t.Errorf("bash completion: %v\n%s", err, got)
		}
	}
	out.Reset()
	if err := Run(context.Background(), []string{"completion", "zsh"}, &out, &out); err != nil || !strings.Contains(out.String(), "bashcompinit") {
		t.Errorf("zsh: %v", err)
	}
	if err := Run(context.Background(), []string{"completion", "fish"}, &out, &out); err == nil {
		t.Error("fish")
	}
}

// warren versions lists the versions kept, marking the current one;
// apps -q prints the ids.
func TestCLIVersions(t *testing.T) {
	s := startCLIServer(t)
	s.ok(t, "deploy", "v", cliFile(t, "a.js", cliHelloJS))
	s.ok(t, "deploy", "v", cliFile(t, "b.js", cliHelloJS+"\n// two"))
	out := s.ok(t, "versions", "v")
	rows := cliTable(out)
	if len(rows) != 4 || rows[0][0] != "VERSION" || rows[1][0] != "*2" || rows[2][0] != "1" || !strings.Contains(out, "warren rollback v --version N") {
		t.Fatalf("versions:\n%s", out)
	}
	s.ok(t, "rollback", "v")
	if rows := cliTable(s.ok(t, "versions", "v")); rows[1][0] != "2" || rows[2][0] != "*1" {
		t.Fatalf("versions after rollback: %v", rows)
	}
	if out := s.ok(t, "versions", "v", "--json"); !strings.Contains(out, `"versions"`) {
		t.Fatalf("versions --json: %s", out)
	}
	if _, _, err := s.cli(t, "versions", "nope"); err == nil || !strings.Contains(err.Error(), `no app "nope"`) {
		t.Fatalf("versions of no app: %v", err)
	}
	s.ok(t, "deploy", "a", cliFile(t, "a.js", cliHelloJS))
	if out := s.ok(t, "apps", "-q"); out != "a\nv\n" {
		t.Fatalf("apps -q: %q", out)
	}
}

// Size limits are given in human units: a file over the code limit is
// refused before it is sent, and the server's byte counts are converted.
func TestCLISizeErrors(t *testing.T) {
	big := cliFile(t, "big.js", "export default {}\n//"+strings.Repeat("x", warren.MaxCodeSize))
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(413)
		fmt.Fprint(w, `{"error":{"code":"too_large","message":"the deploy body is larger than 25165824 bytes","hint":"an app's code may be at most 16777216 bytes; bundle less"}}`)
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := Run(context.Background(), []string{"deploy", "x", big, "--url", srv.URL, "--token", "t"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "16.0 MiB") || strings.Contains(err.Error(), "16777216") || hits != 0 {
		t.Fatalf("big deploy: %v (sent %d)", err, hits)
	}
	err = Run(context.Background(), []string{"deploy", "x", cliFile(t, "b.json", `{"mainModule":"a.js","modules":{"a.js":""}}`), "--url", srv.URL, "--token", "t"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "larger than 24.0 MiB") || !strings.Contains(err.Error(), "at most 16.0 MiB") {
		t.Fatalf("server's size error: %v", err)
	}
	if got := humanSizes("code is 17000000 bytes, more than the limit of 16777216"); got != "code is 16.2 MiB, more than the limit of 16.0 MiB" {
		t.Errorf("humanSizes: %q", got)
	}
}
