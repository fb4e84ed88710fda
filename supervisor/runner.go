package supervisor

import (
	"context"
	"net/http"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/worker"
)

// Runner runs apps' code for the supervisor. The supervisor keeps the
// policy (versions, quotas, rate limits, metering, logs) and serves HTTP;
// a Runner keeps the isolates and databases. There are two:
//
//   - InProcess (this package) runs the apps in this process: each app's
//     class as a facet with its own SQLite database, its code loaded
//     through a Worker Loader (warren serve --isolation=inprocess, and Go
//     programs that embed the supervisor);
//   - host.Pool runs them in confined host processes (warren serve's
//     default on Linux), each of which runs an InProcess of its own.
type Runner interface {
	// Validate compiles d and returns the class to run ("" for a
	// stateless fetch handler), or the error that refuses the deploy.
	Validate(ctx context.Context, id string, d *Deployment, q Quotas) (string, error)
	// Serve forwards req to the app. Usage is complete once the
	// response's body is closed (or at once when err != nil).
	Serve(ctx context.Context, app *AppSpec, req *http.Request) (*http.Response, *RunUsage, error)
	// Stop closes the app's running code (a new version, a rollback, a
	// deletion); its data stays. Requests in flight on it fail.
	Stop(id string)
	// RunningApps returns the apps whose code is in memory.
	RunningApps() map[string]bool
	// Stats are figures for /metrics.
	Stats() RunnerStats
	// Close stops every app.
	Close()
}

// AppSpec is what a Runner needs to run one version of an app.
type AppSpec struct {
	ID       string
	ParentID string // ctx.id of the app's object
	Version  int
	Hash     string
	Class    string // "" for a stateless fetch handler
	Quotas   Quotas // effective quotas
	// Outbound receives the app's fetch() calls; nil means no network.
	Outbound worker.Fetcher
	// Code returns the version's code (called when the runner needs it).
	Code func(ctx context.Context) (*warren.WorkerCode, error)
}

// RunUsage is what one request used inside the runner.
type RunUsage struct {
	CPU                   time.Duration
	RowsRead, RowsWritten int64
}

// RunnerStats are a runner's figures.
type RunnerStats struct {
	Live, ColdStarts, Evictions, LoaderWorkers, Isolates int64
	Hosts, HostRestarts                                  int64
	HostRSS                                              int64 // bytes, all host processes
	// Confinement is, per layer of the hosts' sandbox (landlock, seccomp,
	// rlimits, capabilities, cgroup...), whether it is applied; nil when
	// apps do not run in hosts.
	Confinement map[string]bool
}
