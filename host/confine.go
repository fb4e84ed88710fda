package host

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"time"

	"github.com/warrenhq/warren/sandbox"
)

// Confine returns the sandbox a host process applies to itself once it is
// set up: Landlock (read its binary and what a Go process needs, write
// only its apps' folder), a chroot into its own folder and an unprivileged
// user when started by root (opts.Root, opts.User), seccomp (no exec,
// ptrace, new sockets, mounts or privilege changes), rlimits, all
// capabilities dropped. The report goes to the control plane, which logs
// it once.
func Confine(opts ChildOptions) func(report func(sandbox.Report)) error {
	return func(report func(sandbox.Report)) error {
		if opts.Root != "" {
			_ = time.Local.String() // load the time zone while /etc/localtime is in reach
		}
		rep, err := sandbox.Confine(sandbox.Policy{ReadOnly: sandbox.DefaultReadOnly(), ReadWrite: []string{opts.AppsDir}, MaxOpenFiles: 8192,
			Root: opts.Root, User: opts.User})
		if report != nil {
			report(rep)
		}
		return err
	}
}

// tempDir is where SQLite puts temporary files in a host (it may write
// nowhere else).
func tempDir(apps string) string { return filepath.Join(apps, ".tmp") }

// reportConfinement sends the host's sandbox report to the control plane.
func (c *child) reportConfinement(rep sandbox.Report) {
	b, _ := json.Marshal(rep)
	req, _ := http.NewRequest("POST", "http://control/confined", bytes.NewReader(b))
	if resp, err := c.calls.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
}

// Main runs this process as a confined host, set up from the environment
// warren serve gives it (ChildFromEnv), until the control plane goes away.
// It is `warren host`, and what test binaries run when a pool starts them
// as hosts.
func Main() error {
	opts, err := ChildFromEnv()
	if err != nil {
		return err
	}
	opts.Confine = Confine(opts)
	return RunChild(opts)
}
