package main

// The admin commands: deploy, apps, versions, limits, logs, usage, rollback
// and rm talk to the admin API of a running `warren serve` (docs/API.md).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/supervisor"
)

// adminCommands are the commands that use the admin API (their help is
// in commandHelps).
var adminCommands = map[string]bool{"deploy": true, "apps": true, "versions": true, "limits": true, "logs": true, "usage": true, "rollback": true, "rm": true}

// AdminCommand is one admin command with the connection settings every
// admin command shares.
type AdminCommand struct {
	Name      string
	URL       string // the server, e.g. http://127.0.0.1:8080
	Token     string
	TokenFile string // a file that holds the token
	JSON      bool   // print the API's JSON
	Args      []string
	Stdout    io.Writer
	Stderr    io.Writer
	// Stdin answers rm's question when StdinTerminal is true (nil: the
	// process's stdin, and whether it is a terminal).
	Stdin         io.Reader
	StdinTerminal bool

	// Per-command flags.
	Class   string // deploy --class
	Follow  bool   // logs -f
	Lines   int    // logs -n
	Period  string // usage --period
	CSV     bool   // usage --csv
	Version int    // rollback --version
	Yes     bool   // rm --yes
	Quiet   bool   // apps -q

	// limits: the quotas and egress to set (only the flags given).
	RPM, CPUMs, MemoryMB, StorageMB int
	Egress                          string
	setLimits                       map[string]bool // the limits flags given

	tokenFrom string // where Token came from, for error messages
	http      *http.Client
}

// ParseFlags reads the positional arguments and flags (in any order), and
// the WARREN_URL / WARREN_ADMIN_TOKEN / WARREN_DATA settings.
func (c *AdminCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("warren "+c.Name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	setUsage(fs, c.Name)
	fs.StringVar(&c.URL, "url", envOr("WARREN_URL", "http://127.0.0.1:8080"), "the Warren server (WARREN_URL)")
	fs.StringVar(&c.Token, "token", "", "admin token (WARREN_ADMIN_TOKEN; else the admin.token file in WARREN_DATA or ./warren-data); visible to other users in the process list: prefer --token-file or WARREN_ADMIN_TOKEN")
	fs.StringVar(&c.TokenFile, "token-file", "", "read the admin token from this file (WARREN_ADMIN_TOKEN_FILE)")
	fs.BoolVar(&c.JSON, "json", false, "print the API's JSON instead of a table")
	var nargs []int // accepted numbers of positional arguments
	switch c.Name {
	case "deploy":
		fs.StringVar(&c.Class, "class", "", "the exported Durable Object class to run (default: App, or the only exported class)")
		nargs = []int{2}
	case "apps":
		fs.BoolVar(&c.Quiet, "q", false, "print the app ids only, one a line")
		nargs = []int{0}
	case "versions":
		nargs = []int{1}
	case "limits":
		fs.IntVar(&c.RPM, "rpm", 0, "requests per minute (0: the platform default)")
		fs.IntVar(&c.CPUMs, "cpu-ms", 0, "CPU time per request, in milliseconds (0: the platform default)")
		fs.IntVar(&c.MemoryMB, "memory-mb", 0, "isolate memory, in MiB, 8 to 4096 (0: the platform default)")
		fs.IntVar(&c.StorageMB, "storage-mb", 0, "storage of the app's database, in MiB (0: the platform default)")
		fs.StringVar(&c.Egress, "egress", "", "the hosts the app's fetch() may reach, comma-separated (api.example.com,*.example.org,host:8443); '' for no network")
		nargs = []int{1}
	case "logs":
		fs.BoolVar(&c.Follow, "f", false, "follow: print new lines as they arrive, until interrupted, the app is deleted or the server shuts down")
		fs.BoolVar(&c.Follow, "follow", false, "same as -f")
		fs.IntVar(&c.Lines, "n", 100, "how many of the kept lines to print first (0: all)")
		nargs = []int{1}
	case "usage":
		fs.StringVar(&c.Period, "period", "day", "usage per hour, day, month or all")
		fs.BoolVar(&c.CSV, "csv", false, "print CSV (for billing)")
		nargs = []int{0, 1}
	case "rollback":
		fs.IntVar(&c.Version, "version", 0, "the version to go back to (default: the one before the current one)")
		nargs = []int{1}
	case "rm":
		fs.BoolVar(&c.Yes, "yes", false, "delete without asking (required when stdin is not a terminal)")
		fs.BoolVar(&c.Yes, "y", false, "same as --yes")
		nargs = []int{1}
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return parseError(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
	ok := false
	for _, n := range nargs {
		ok = ok || len(rest) == n
	}
	if c.Name == "limits" {
		c.setLimits = map[string]bool{}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "rpm", "cpu-ms", "memory-mb", "storage-mb", "egress":
				c.setLimits[f.Name] = true
			}
		})
		for name, v := range map[string]int{"rpm": c.RPM, "cpu-ms": c.CPUMs, "memory-mb": c.MemoryMB, "storage-mb": c.StorageMB} {
			if v < 0 {
				return fmt.Errorf("--%s must be 0 (the platform default) or more, not %d", name, v)
			}
		}
	}
	if !ok {
		fmt.Fprintf(c.Stderr, "usage: %s\n(warren %s --help lists the flags)\n", commandHelps[c.Name].Usage, c.Name)
		return errUsage
	}
	if c.Lines < 0 {
		return fmt.Errorf("-n must be 0 (all lines) or more, not %d", c.Lines)
	}
	if c.Version < 0 {
		return fmt.Errorf("--version must be a version number, not %d", c.Version)
	}
	c.Args = rest
	c.URL = strings.TrimRight(strings.TrimSpace(c.URL), "/")
	if !strings.Contains(c.URL, "://") {
		c.URL = "http://" + c.URL
	}
	if u, err := url.Parse(c.URL); err != nil || u.Host == "" {
		return fmt.Errorf("--url (WARREN_URL) %q is not a server URL such as http://127.0.0.1:8080", c.URL)
	}
	if c.TokenFile != "" && c.Token != "" {
		return fmt.Errorf("give the admin token with --token or --token-file, not both")
	}
	return c.findToken()
}

// findToken takes the token from --token, WARREN_ADMIN_TOKEN, or the
// admin.token file that `warren serve` writes into its data folder.
func (c *AdminCommand) findToken() error {
	if c.Token != "" {
		c.tokenFrom = "--token"
		return nil
	}
	file, from := c.TokenFile, "--token-file"
	if file == "" {
		if t := os.Getenv("WARREN_ADMIN_TOKEN"); t != "" {
			c.Token, c.tokenFrom = t, "WARREN_ADMIN_TOKEN"
			return nil
		}
		file, from = os.Getenv("WARREN_ADMIN_TOKEN_FILE"), "WARREN_ADMIN_TOKEN_FILE"
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read the admin token (%s): %w", from, err)
		}
		if c.Token = strings.TrimSpace(string(b)); c.Token == "" {
			return fmt.Errorf("the admin token file %s (%s) is empty", file, from)
		}
		c.tokenFrom = file
		return nil
	}
	path := filepath.Join(envOr("WARREN_DATA", "./warren-data"), "admin.token")
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			c.Token, c.tokenFrom = t, path
			return nil
		}
	}
	c.tokenFrom = "--token, --token-file, WARREN_ADMIN_TOKEN, WARREN_ADMIN_TOKEN_FILE and " + path
	return nil
}

// Run runs the command.
func (c *AdminCommand) Run(ctx context.Context) error {
	if c.http == nil {
		c.http = &http.Client{}
	}
	switch c.Name {
	case "deploy":
		return c.deploy(ctx)
	case "apps":
		return c.apps(ctx)
	case "versions":
		return c.versions(ctx)
	case "limits":
		return c.limits(ctx)
	case "logs":
		if c.Follow {
			return c.followLogs(ctx)
		}
		return c.logs(ctx)
	case "usage":
		return c.usage(ctx)
	case "rollback":
		return c.rollback(ctx)
	case "rm":
		return c.rm(ctx)
	}
	return fmt.Errorf("unknown command %q", c.Name)
}

// apiError is an error answer of the admin API, or a failure to reach it.
type apiError struct {
	Status  int
	Code    string
	Message string
	Hint    string
}

func (e *apiError) Error() string {
	s := e.Message
	if e.Hint != "" {
		s += "\n  hint: " + e.Hint
	}
	return s
}

// requestTimeout bounds one admin call (not a followed log).
const requestTimeout = 2 * time.Minute

// do sends an admin request and returns the response of a 2xx status; any
// other status, or no answer, is an *apiError.
func (c *AdminCommand) do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &apiError{Message: fmt.Sprintf("the Warren server is not reachable at %s (%v)", c.URL, rootCause(err)),
			Hint: "start it with `warren serve` (it listens on 127.0.0.1:8080 by default), or point WARREN_URL or --url at the server"}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if c.JSON {
		c.Stdout.Write(escapeJSONControls(b))
	}
	return nil, c.responseError(resp.StatusCode, b)
}

// rootCause drops the method and URL that net/http puts before the cause.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *AdminCommand) responseError(status int, body []byte) error {
	var env struct {
		Error *struct{ Code, Message, Hint string }
	}
	e := &apiError{Status: status}
	if json.Unmarshal(body, &env) == nil && env.Error != nil && env.Error.Message != "" {
		e.Code, e.Message, e.Hint = env.Error.Code, env.Error.Message, env.Error.Hint
	} else {
		text := strings.TrimSpace(string(body))
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		e.Message = fmt.Sprintf("%s answered HTTP %d: %s", c.URL, status, text)
		e.Hint = "is it a `warren serve` without --config? The admin API is only served by the built-in supervisor"
	}
	// The message may carry an app's text (an exception, a line of its
	// code): printed safely, with sizes in human units.
	e.Message, e.Hint = humanSizes(escapeControls(e.Message, true)), humanSizes(escapeControls(e.Hint, true))
	if status == http.StatusUnauthorized {
		if c.Token == "" {
			e.Message = fmt.Sprintf("the admin API at %s needs the admin token, and none was found (looked in %s)", c.URL, c.tokenFrom)
		} else {
			e.Message = fmt.Sprintf("the admin API at %s refused the admin token from %s", c.URL, c.tokenFrom)
		}
		e.Hint = "export WARREN_ADMIN_TOKEN=$(cat <data>/admin.token), <data> being the server's --data folder (default ./warren-data; " +
			"setting WARREN_DATA also lets this CLI read the file), or pass --token; a server started with --admin-token uses that token instead"
	}
	return e
}

// call sends an admin request and decodes its JSON answer into v (when v
// is not nil); with --json it prints the answer as it came instead.
func (c *AdminCommand) call(ctx context.Context, method, path string, body io.Reader, header http.Header, v any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.do(ctx, method, path, body, header)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", c.URL, err)
	}
	if c.JSON {
		c.Stdout.Write(escapeJSONControls(b))
		return nil
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %s answered something that is not the admin API's JSON: %w", method, c.URL+path, err)
	}
	return nil
}

func appPath(id string) string { return "/api/v1/apps/" + url.PathEscape(id) }

// contentTypes maps a deployed file's extension to the Content-Type it is
// sent as. .tsx and .jsx are sent as a one-module JSON bundle instead, so
// that the server compiles them with JSX (a body sent as
// application/typescript is compiled as a .ts module).
var contentTypes = map[string]string{
	".js": "application/javascript", ".mjs": "application/javascript", ".cjs": "application/javascript",
	".ts": "application/typescript", ".mts": "application/typescript", ".cts": "application/typescript",
	".json": "application/json",
}

func (c *AdminCommand) deploy(ctx context.Context) error {
	id, file := c.Args[0], c.Args[1]
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(file))
	ctype, ok := contentTypes[ext]
	body := src
	switch {
	case ext == ".tsx" || ext == ".jsx":
		name := filepath.Base(file)
		body, _ = json.Marshal(map[string]any{"mainModule": name, "modules": map[string]string{name: string(src)}})
		ctype = "application/json"
	case !ok:
		return fmt.Errorf("%s: a deploy is a .js, .mjs, .ts, .mts, .tsx or .jsx module, or a .json bundle ({\"mainModule\", \"modules\", ...}; see docs/API.md)", file)
	}
	if ext != ".json" && len(src) > warren.MaxCodeSize {
		return fmt.Errorf("%s is %s: an app's code may be at most %s (nothing was sent); bundle less, or load large assets from storage", file, formatBytes(int64(len(src))), formatBytes(warren.MaxCodeSize))
	}
	path := appPath(id)
	if c.Class != "" {
		path += "?className=" + url.QueryEscape(c.Class)
	}
	var out struct {
		App     string
		Created bool
		URL     string
		Version supervisor.Version
	}
	err = c.call(ctx, "PUT", path, bytes.NewReader(body), http.Header{"Content-Type": {ctype}}, &out)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status != 0 && ae.Status != http.StatusUnauthorized {
			msg := fmt.Sprintf("deploy of %s refused (nothing changed on the server): %s", file, ae.Message)
			if ctype != "application/json" && (strings.HasPrefix(ae.Message, "app.js:") || strings.HasPrefix(ae.Message, "app.ts:")) {
				msg += fmt.Sprintf("\n  (the server names the module %s; lines and columns are those of %s)", ae.Message[:6], file)
			}
			return &apiError{Status: ae.Status, Code: ae.Code, Message: msg, Hint: ae.Hint}
		}
		return err
	}
	if c.JSON {
		return nil
	}
	what := "updated; data kept"
	if out.Created {
		what = "created"
	}
	class := out.Version.ClassName
	if class == "" {
		class = "none: a stateless fetch handler"
	}
	fmt.Fprintf(c.Stdout, "Deployed %s version %d (%s)\n", out.App, out.Version.Version, what)
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  class:\t%s\n", class)
	fmt.Fprintf(tw, "  code:\t%d bytes, hash %s\n", out.Version.Size, out.Version.Hash)
	fmt.Fprintf(tw, "  url:\t%s%s\n", c.URL, out.URL)
	return tw.Flush()
}

func (c *AdminCommand) apps(ctx context.Context) error {
	var out struct{ Apps []supervisor.AppInfo }
	if err := c.call(ctx, "GET", "/api/v1/apps", nil, nil, &out); err != nil || c.JSON {
		return err
	}
	if c.Quiet {
		for _, a := range out.Apps {
			fmt.Fprintln(c.Stdout, a.ID)
		}
		return nil
	}
	if len(out.Apps) == 0 {
		fmt.Fprintln(c.Stdout, "No apps deployed. Deploy one with: warren deploy ID FILE")
		return nil
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tCLASS\tSTATE\tUPDATED\tURL")
	for _, a := range out.Apps {
		class := escapeControls(a.ClassName, false)
		if class == "" {
			class = "-"
		}
		state := "idle"
		if a.Running {
			state = "running"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s/apps/%s/\n", a.ID, a.Version, class, state, a.Updated.Local().Format("2006-01-02 15:04:05"), c.URL, a.ID)
	}
	return tw.Flush()
}

// versions lists the versions kept of an app, from its description (the
// admin API has no route of its own for them).
func (c *AdminCommand) versions(ctx context.Context) error {
	var out supervisor.AppInfo
	if err := c.call(ctx, "GET", appPath(c.Args[0]), nil, nil, &out); err != nil {
		return err
	}
	if c.JSON {
		return nil
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tCLASS\tSIZE\tHASH")
	for _, v := range out.Versions {
		mark := " "
		if v.Version == out.Version {
			mark = "*"
		}
		class := escapeControls(v.ClassName, false)
		if class == "" {
			class = "-"
		}
		fmt.Fprintf(tw, "%s%d\t%s\t%s\t%s\t%s\n", mark, v.Version, v.Created.Local().Format("2006-01-02 15:04:05"), class, formatBytes(int64(v.Size)), v.Hash)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "* current version of %s; go back with: warren rollback %s --version N\n", out.ID, out.ID)
	return nil
}

// limits prints the app's quotas and egress, after setting those given
// by flags (the others are kept).
func (c *AdminCommand) limits(ctx context.Context) error {
	id := c.Args[0]
	var out supervisor.AppLimits
	if len(c.setLimits) == 0 {
		if err := c.call(ctx, "GET", appPath(id)+"/limits", nil, nil, &out); err != nil || c.JSON {
			return err
		}
	} else {
		var q supervisor.QuotasChange
		set := func(flag string, v int, f **int) {
			if c.setLimits[flag] {
				*f = &v
			}
		}
		set("rpm", c.RPM, &q.RequestsPerMinute)
		set("cpu-ms", c.CPUMs, &q.CPUMs)
		set("memory-mb", c.MemoryMB, &q.MemoryMB)
		change := supervisor.LimitsChange{}
		if c.setLimits["storage-mb"] {
			b := int64(c.StorageMB) << 20
			q.StorageBytes = &b
		}
		if q != (supervisor.QuotasChange{}) {
			change.Limits = &q
		}
		if c.setLimits["egress"] {
			hosts := []string{}
			for _, h := range strings.Split(c.Egress, ",") {
				if h = strings.TrimSpace(h); h != "" {
					hosts = append(hosts, h)
				}
			}
			change.Egress = &hosts
		}
		body, _ := json.Marshal(change)
		if err := c.call(ctx, "PUT", appPath(id)+"/limits", bytes.NewReader(body), http.Header{"Content-Type": {"application/json"}}, &out); err != nil || c.JSON {
			return err
		}
		fmt.Fprintf(c.Stdout, "Limits of %s set; they apply from its next request (its data is kept)\n", id)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LIMIT\tVALUE\tFROM\tFLAG")
	row := func(name string, eff, own int64, show func(int64) string, flag string) {
		from := "app"
		if own == 0 {
			from = "platform default"
		}
		v := "no limit"
		if eff > 0 {
			v = show(eff)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t--%s\n", name, v, from, flag)
	}
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	row("requests per minute", int64(out.Limits.RequestsPerMinute), int64(out.Overrides.RequestsPerMinute), count, "rpm")
	row("CPU per request", int64(out.Limits.CPUMs), int64(out.Overrides.CPUMs), func(n int64) string { return count(n) + " ms" }, "cpu-ms")
	row("memory", int64(out.Limits.MemoryMB), int64(out.Overrides.MemoryMB), func(n int64) string { return count(n) + " MiB" }, "memory-mb")
	row("storage", out.Limits.StorageBytes, out.Overrides.StorageBytes, formatBytes, "storage-mb")
	egress := "none (no network)"
	if len(out.Egress) > 0 {
		egress = escapeControls(strings.Join(out.Egress, ","), false)
	}
	fmt.Fprintf(tw, "egress\t%s\tapp\t--egress\n", egress)
	return tw.Flush()
}

func (c *AdminCommand) logs(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.do(ctx, "GET", appPath(c.Args[0])+"/logs?limit="+strconv.Itoa(c.Lines), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		if err := c.printLogLine(sc.Bytes()); err != nil {
			return err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	if n == 0 && !c.JSON {
		fmt.Fprintf(c.Stderr, "(no log lines kept for %s yet)\n", c.Args[0])
	}
	return nil
}

// followLogs prints the kept lines, then new ones as the server sends them
// (server-sent events), until ctx is done, the app is deleted or the
// server shuts down.
func (c *AdminCommand) followLogs(ctx context.Context) error {
	resp, err := c.do(ctx, "GET", appPath(c.Args[0])+"/logs?follow=1&limit="+strconv.Itoa(c.Lines), nil, http.Header{"Accept": {"text/event-stream"}})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var event string
	var data []byte
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted
			}
			return fmt.Errorf("the log stream of %s ended: the server closed it (%v)", c.Args[0], err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if event == "end" {
				var end struct{ Reason string }
				json.Unmarshal(data, &end)
				if end.Reason == "server shutting down" {
					fmt.Fprintf(c.Stderr, "-- the server at %s is shutting down; no more lines of %s follow\n", c.URL, c.Args[0])
				} else {
					fmt.Fprintf(c.Stderr, "-- app %s was deleted; end of its log\n", c.Args[0])
				}
				return nil
			}
			if len(data) > 0 && (event == "" || event == "log") {
				if err := c.printLogLine(data); err != nil {
					return err
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, ":"): // a keep-alive comment
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
}

// printLogLine prints one JSON log line: as it is with --json, else as
// "time  level  message" (requests as "method path → status duration").
func (c *AdminCommand) printLogLine(b []byte) error {
	if c.JSON {
		_, err := fmt.Fprintf(c.Stdout, "%s\n", escapeJSONControls(b))
		return err
	}
	var l supervisor.LogLine
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("a log line is not JSON: %w", err)
	}
	// What the app wrote (its messages, and the paths and methods of the
	// requests it got) is shown with control characters escaped, so that
	// it cannot drive the terminal or forge lines.
	l.Level, l.Method, l.Path = escapeControls(l.Level, false), escapeControls(l.Method, false), escapeControls(l.Path, false)
	l.Message = escapeControls(l.Message, true)
	_, err := fmt.Fprintf(c.Stdout, "%s  %-9s %s\n", l.Time.Local().Format("2006-01-02 15:04:05.000"), l.Level, formatLogLine(l))
	return err
}

func formatLogLine(l supervisor.LogLine) string {
	if l.Method == "" {
		msg := l.Message
		if l.RequestID != "" { // a failed request: the id its client got as Warren-Request-Id
			msg = "[request " + escapeControls(l.RequestID, false) + "] " + msg
		}
		// A stack's lines, indented under the line's own.
		return strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", "\n    ")
	}
	s := fmt.Sprintf("%s %s → %d", l.Method, l.Path, l.Status)
	if l.Level == "request" {
		s += fmt.Sprintf("  %s (CPU %s)", formatMs(l.DurationMs), formatMs(l.CPUMs))
	}
	if l.Message != "" {
		s += "  " + l.Message
	}
	return s
}

func formatMs(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
}

func (c *AdminCommand) usage(ctx context.Context) error {
	path := "/api/v1/usage"
	id := ""
	if len(c.Args) == 1 {
		id = c.Args[0]
		path = appPath(id) + "/usage"
	}
	path += "?period=" + url.QueryEscape(c.Period)
	var h http.Header
	if c.CSV {
		h = http.Header{"Accept": {"text/csv"}}
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.do(ctx, "GET", path, nil, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the usage: %w", err)
	}
	if c.CSV {
		return writeCSVOf(c.Stdout, b, id)
	}
	var out struct{ Usage []supervisor.UsageRow }
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("the usage answer is not the admin API's JSON: %w", err)
	}
	// The rows of other apps are dropped: the server has answered an
	// app's usage with every app's rows (period=all).
	rows := out.Usage[:0]
	for _, r := range out.Usage {
		if id == "" || r.App == id {
			rows = append(rows, r)
		}
	}
	if c.JSON {
		if len(rows) == len(out.Usage) {
			_, err := c.Stdout.Write(b)
			return err
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"usage": rows})
	}
	if len(rows) == 0 {
		fmt.Fprintf(c.Stdout, "No usage recorded (period %s).\n", c.Period)
		return nil
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tPERIOD\tREQUESTS\tERRORS\tCPU\tWALL\tROWS READ\tROWS WRITTEN\tOUTBOUND\tSTORAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\n", r.App, r.Period, r.Requests, r.Errors, formatMs(r.CPUMs), formatMs(r.WallMs),
			r.RowsRead, r.RowsWritten, r.Outbound, formatBytes(r.StorageBytes))
	}
	return tw.Flush()
}

// writeCSVOf writes the usage CSV, keeping only app's rows when app is set.
func writeCSVOf(w io.Writer, b []byte, app string) error {
	if app == "" {
		_, err := w.Write(b)
		return err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return fmt.Errorf("the usage answer is not CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	for i, r := range recs {
		if i == 0 || (len(r) > 0 && r[0] == app) {
			cw.Write(r)
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func (c *AdminCommand) rollback(ctx context.Context) error {
	path := appPath(c.Args[0]) + "/rollback"
	if c.Version > 0 {
		path += "?version=" + strconv.Itoa(c.Version)
	}
	var out struct {
		App     string
		Version supervisor.Version
	}
	if err := c.call(ctx, "POST", path, nil, nil, &out); err != nil || c.JSON {
		return err
	}
	fmt.Fprintf(c.Stdout, "Rolled back %s to version %d (hash %s, deployed %s); its data is kept\n", out.App, out.Version.Version,
		out.Version.Hash, out.Version.Created.Local().Format("2006-01-02 15:04:05"))
	return nil
}

func (c *AdminCommand) rm(ctx context.Context) error {
	if !c.Yes {
		if err := c.confirmRm(ctx); err != nil {
			return err
		}
	}
	if err := c.call(ctx, "DELETE", appPath(c.Args[0]), nil, nil, nil); err != nil || c.JSON {
		return err
	}
	fmt.Fprintf(c.Stdout, "Deleted %s: its code, versions and data are gone (usage records are kept); the id can be deployed again\n", c.Args[0])
	return nil
}

// errNotConfirmed is returned when rm was not confirmed.
var errNotConfirmed = errors.New("nothing deleted")

// confirmRm asks on the terminal whether to delete the app; without a
// terminal it refuses (--yes is the answer then).
func (c *AdminCommand) confirmRm(ctx context.Context) error {
	id := c.Args[0]
	in, term := c.Stdin, c.StdinTerminal
	if in == nil {
		in, term = os.Stdin, isTerminal(os.Stdin)
	}
	if !term {
		return fmt.Errorf("warren rm %s deletes the app's code, versions and data for good; stdin is not a terminal to ask on, so pass --yes to confirm", id)
	}
	// Name what would go (and fail now if there is no such app).
	var app supervisor.AppInfo
	saved := c.JSON
	c.JSON = false
	err := c.call(ctx, "GET", appPath(id), nil, nil, &app)
	c.JSON = saved
	if err != nil {
		return err
	}
	what := "its data"
	if app.ClassName == "" {
		what = "any data" // a stateless app
	}
	fmt.Fprintf(c.Stderr, "Delete app %s (version %d, %d kept) with its code, versions and %s at %s? This cannot be undone. [y/N] ",
		id, app.Version, len(app.Versions), what, c.URL)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%w: %s was not deleted (answer y to delete, or pass --yes)", errNotConfirmed, id)
}
