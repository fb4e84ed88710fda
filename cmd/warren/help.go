package main

// Help, version and shell completion: what `warren CMD --help`,
// `warren help CMD`, `warren version` and `warren completion` print.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
)

// commandHelp is what the help and the completion script know of a command.
type commandHelp struct {
	Usage   string      // the usage line, after "usage: "
	Summary string      // what the command does
	Env     [][2]string // the environment variables it reads, with their use
	Args    string      // what its positional arguments complete to: "app", "app file", "command", "shell"
}

// connEnv are the environment variables of the commands that talk to a server.
var connEnv = [][2]string{
	{"WARREN_URL", "the server, as --url (default http://127.0.0.1:8080)"},
	{"WARREN_ADMIN_TOKEN", "the admin token, as --token"},
	{"WARREN_ADMIN_TOKEN_FILE", "a file that holds the admin token, as --token-file"},
	{"WARREN_DATA", "the server's data folder: its admin.token is read when no token is given (default ./warren-data)"},
}

// commandOrder is the order of the commands in the help.
var commandOrder = []string{"serve", "doctor", "run", "deploy", "apps", "versions", "limits", "logs", "usage", "rollback", "rm", "load", "completion", "version", "help"}

var commandHelps = map[string]commandHelp{
	"serve": {Usage: "warren serve [flags]",
		Summary: "Run the platform: apps at /apps/ID/, the admin API under /api/v1 (its token is --admin-token-file,\n" +
			"WARREN_ADMIN_TOKEN or --admin-token, else <data>/admin.token, generated on first start). --config runs\n" +
			"one Worker project instead. The data folder is locked while the server runs: a second server on it\n" +
			"refuses to start.\n\n" +
			"Outbound requests of apps go to the hosts their deploy allows (\"egress\"): an entry \"host\" or\n" +
			"\"*.domain\" allows that host on the default port of the scheme only (80 for http, 443 for https);\n" +
			"\"host:port\" allows that port, \"host:*\" any port; never loopback, private, link-local or other\n" +
			"internal addresses (checked after DNS).\n\n" +
			"Apps run under quotas: their own (a deploy bundle's limits, or warren limits), else the platform's\n" +
			"defaults, set by the --default-* flags.",
		Env: [][2]string{
			{"WARREN_LISTEN", "as --listen"},
			{"WARREN_DATA", "as --data"},
			{"WARREN_CONFIG", "as --config"},
			{"WARREN_EGRESS", "as --egress"},
			{"WARREN_ADMIN_TOKEN", "the admin token, as --admin-token (but not visible in the process list)"},
			{"WARREN_ADMIN_TOKEN_FILE", "as --admin-token-file"},
			{"WARREN_DOMAIN", "as --domain"},
			{"WARREN_APP_MEMORY_MB", "as --app-memory"},
			{"WARREN_ISOLATION", "as --isolation"},
			{"WARREN_HOSTS", "as --hosts"},
			{"WARREN_RUN_API", "as --run-api"},
			{"WARREN_RUN_TOKEN_FILE", "as --run-token-file"},
			{"WARREN_DEFAULT_RPM", "as --default-rpm"},
			{"WARREN_DEFAULT_CPU_MS", "as --default-cpu-ms"},
			{"WARREN_DEFAULT_MEMORY_MB", "as --default-memory-mb"},
			{"WARREN_DEFAULT_STORAGE_MB", "as --default-storage-mb"},
			{"WARREN_HOST_PROCS", "GOMAXPROCS of each host process (default 1 for apps, every core for a --config project)"},
			{"WARREN_HOST_USER", "as --host-user"},
			{"WARREN_ALLOW_UNCONFINED", "1: as --allow-unconfined"},
		}},
	"doctor": {Usage: "warren doctor [--host-user U] [--allow-unconfined]",
		Summary: "Print, for this machine, each confinement layer of the host processes (does the kernel offer it? did a\n" +
			"test host, started as warren serve starts one, apply it?), the cgroups, the hosts' user, whether\n" +
			"warren serve --isolation=process would start, and what to do. Exit status 1 when it would refuse.",
		Env: [][2]string{{"WARREN_HOST_USER", "as --host-user"}, {"WARREN_ALLOW_UNCONFINED", "1: as --allow-unconfined"}}},
	"run": {Usage: "warren run FILE [--path /x] [--method GET] [--json]",
		Summary: "Run FILE (.js or .ts, or a .json bundle) once as a Dynamic Worker, in this process, and print\nits response and console output.",
		Args:    "file"},
	"deploy": {Usage: "warren deploy ID FILE [--class NAME] [flags]",
		Summary: "Deploy FILE (.js/.mjs/.cjs, .ts/.mts/.cts, .tsx/.jsx, or a .json bundle) as app ID, served at\n/apps/ID/. Broken code is refused; the old version keeps serving. The app's data is kept.",
		Env:     connEnv, Args: "app file"},
	"apps": {Usage: "warren apps [-q] [flags]",
		Summary: "List the apps: id, version, class, state, last deploy and URL (-q: the ids only).",
		Env:     connEnv},
	"versions": {Usage: "warren versions ID [flags]",
		Summary: "List the versions kept of app ID (the last 10), newest first; * marks the current one.",
		Env:     connEnv, Args: "app"},
	"limits": {Usage: "warren limits ID [--rpm N] [--cpu-ms N] [--memory-mb N] [--storage-mb N] [--egress HOSTS] [flags]",
		Summary: "Print app ID's quotas and egress: its own, else the platform's defaults. With flags, set those\n" +
			"(0: back to the platform default; --egress '': no network) and keep the others; the change applies\n" +
			"from the app's next request, and later deploys keep it.",
		Env: connEnv, Args: "app"},
	"logs": {Usage: "warren logs ID [-f] [-n N] [flags]",
		Summary: "Print the app's last N log lines; -f follows new ones until interrupted, the app is deleted\n" +
			"or the server shuts down.\n" +
			"Control characters in the app's output are shown escaped (\\x1b, \\r, ...): an app cannot move\n" +
			"the cursor, rewrite lines or talk to the terminal.",
		Env: connEnv, Args: "app"},
	"usage": {Usage: "warren usage [ID] [--period hour|day|month|all] [--csv] [flags]",
		Summary: "Print usage (requests, errors, CPU, rows, storage) per app and period.",
		Env:     connEnv, Args: "app"},
	"rollback": {Usage: "warren rollback ID [--version N] [flags]",
		Summary: "Go back to version N of app ID (default: the one before the current one); its data is kept.",
		Env:     connEnv, Args: "app"},
	"rm": {Usage: "warren rm ID [--yes] [flags]",
		Summary: "Delete app ID with its versions and data (usage records are kept). Asks for confirmation when\nstdin is a terminal; otherwise --yes is required.",
		Env:     connEnv, Args: "app"},
	"load": {Usage: "warren load [--apps 16] [--clients 16] [--duration 10s] [--writes 0.5] [--soak] [flags]",
		Summary: "Load a server (--url, or a child warren serve it starts): N clients over M apps, mixed reads and\n" +
			"writes; reports p50/p99, errors, server RSS, and checks that every acknowledged write was stored.",
		Env: [][2]string{{"WARREN_URL", "as --url"}, {"WARREN_ADMIN_TOKEN", "as --token"}}},
	"completion": {Usage: "warren completion bash|zsh",
		Summary: "Print a shell completion script. Bash: source <(warren completion bash), or save it in\n" +
			"/etc/bash_completion.d/warren. Zsh: source <(warren completion zsh).",
		Args: "shell"},
	"version": {Usage: "warren version",
		Summary: "Print the version of this binary: its module version, the VCS revision it was built from, and Go's version\n(also warren --version)."},
	"help": {Usage: "warren help [COMMAND]",
		Summary: "Print the help of a command (as warren COMMAND --help), or the list of commands.",
		Args:    "command"},
}

// setUsage makes fs's -h print the help of command name.
func setUsage(fs *flag.FlagSet, name string) {
	fs.Usage = func() {
		if fc, ok := fs.Output().(*flagCollector); ok {
			fs.VisitAll(func(f *flag.Flag) { fc.names = append(fc.names, f.Name) })
			return
		}
		writeHelp(fs.Output(), fs, name)
	}
}

// writeHelp prints the usage line, summary, flags and environment of name.
func writeHelp(w io.Writer, fs *flag.FlagSet, name string) {
	h := commandHelps[name]
	fmt.Fprintf(w, "usage: %s\n\n%s\n", h.Usage, h.Summary)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	if len(h.Env) > 0 {
		fmt.Fprintln(w, "\nEnvironment:")
		width := 0
		for _, e := range h.Env {
			width = max(width, len(e[0]))
		}
		for _, e := range h.Env {
			fmt.Fprintf(w, "  %-*s  %s\n", width, e[0], e[1])
		}
	}
}

// parseError is what ParseFlags returns for an error of fs.Parse: the
// help was asked for (flag.ErrHelp: exit status 0), or the usage is wrong.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return errUsage
}

// helpAsked reports whether args ask for the help (-h, -help or --help
// before a "--").
func helpAsked(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// flagCollector is a flag set output that collects the flags' names
// instead of printing the help (for the completion script).
type flagCollector struct {
	io.Writer
	names []string
}

// commandFlags returns the flags of command name, with their dashes.
func commandFlags(name string) []string {
	fc := &flagCollector{Writer: io.Discard}
	var err error
	switch name {
	case "serve":
		err = (&ServeCommand{Stdout: fc, Stderr: fc}).ParseFlags([]string{"-h"})
	case "run":
		err = (&RunCommand{Stdout: fc, Stderr: fc}).ParseFlags([]string{"-h"})
	case "load":
		err = (&LoadCommand{Stdout: fc, Stderr: fc}).ParseFlags([]string{"-h"})
	case "doctor":
		err = (&DoctorCommand{Stdout: fc, Stderr: fc}).ParseFlags([]string{"-h"})
	default:
		if _, ok := adminCommands[name]; ok {
			err = (&AdminCommand{Name: name, Stdout: fc, Stderr: fc}).ParseFlags([]string{"-h"})
		}
	}
	_ = err // always flag.ErrHelp
	var out []string
	for _, n := range fc.names {
		if len(n) == 1 {
			out = append(out, "-"+n)
		} else {
			out = append(out, "--"+n)
		}
	}
	sort.Strings(out)
	return append(out, "--help")
}

// versionString is what `warren version` prints: the module version and
// the VCS revision of the build.
func versionString() string { return versionOf(debug.ReadBuildInfo()) }

func versionOf(bi *debug.BuildInfo, ok bool) string {
	version, rev, when, dirty := "(devel)", "", "", false
	if ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	s := "warren " + version
	switch {
	case rev == "":
		s += ", revision unknown (built without VCS information)"
	default:
		s += ", revision " + rev
		if when != "" {
			s += " (" + when + ")"
		}
		if dirty {
			s += " with local changes"
		}
	}
	return fmt.Sprintf("%s, %s %s/%s\n", s, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// completionScript is the bash completion of warren (zsh loads it through
// bashcompinit).
func completionScript(shell string) (string, error) {
	var b strings.Builder
	switch shell {
	case "bash":
	case "zsh":
		b.WriteString("#compdef warren\nautoload -U +X bashcompinit && bashcompinit\n")
	default:
		return "", fmt.Errorf("no completion for shell %q: use bash or zsh", shell)
	}
	b.WriteString(`# bash completion for warren (warren completion ` + shell + `)
_warren() {
    local cur cmd i n=0 pos=
    cur="${COMP_WORDS[COMP_CWORD]}"
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "` + strings.Join(commandOrder, " ") + ` --help --version" -- "$cur"))
        return
    fi
    cmd="${COMP_WORDS[1]}"
    if [[ "$cur" == -* ]]; then
        case "$cmd" in
`)
	for _, name := range commandOrder {
		fl := commandFlags(name)
		fmt.Fprintf(&b, "            %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", name, strings.Join(fl, " "))
	}
	b.WriteString(`        esac
        return
    fi
    # The position of the word among the command's arguments (not flags).
    for ((i = 2; i < COMP_CWORD; i++)); do
        [[ "${COMP_WORDS[i]}" == -* ]] || n=$((n + 1))
    done
    case "$cmd" in
`)
	kinds := map[string][]string{}
	for _, name := range commandOrder {
		if a := commandHelps[name].Args; a != "" {
			kinds[a] = append(kinds[a], name)
		}
	}
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "        %s) pos=%q ;;\n", strings.Join(kinds[k], "|"), k)
	}
	b.WriteString(`    esac
    set -- $pos
    shift $n 2>/dev/null || set --
    case "$1" in
        app) COMPREPLY=($(compgen -W "$(timeout 3 "${COMP_WORDS[0]}" apps -q 2>/dev/null)" -- "$cur")) ;;
        command) COMPREPLY=($(compgen -W "` + strings.Join(commandOrder, " ") + `" -- "$cur")) ;;
        shell) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    esac
}
complete -o default -F _warren warren
`)
	return b.String(), nil
}
