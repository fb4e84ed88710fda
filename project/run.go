package project

import (
	"context"
	"path/filepath"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/worker"
)

// RunOptions say what Run starts and with what.
type RunOptions struct {
	// Config is the project's configuration, Code its bundled code.
	Config *Config
	Code   *warren.WorkerCode
	// Runtime compiles and runs the code; Loader holds the entrypoint and
	// serves the project's worker_loaders bindings.
	Runtime *worker.Runtime
	Loader  *loader.Loader
	// Outbound is the project's egress policy.
	Outbound *worker.Outbound
	// Dir holds the Durable Objects' databases (Dir/objects).
	Dir string
	// Logs receives the objects' console output and exceptions.
	Logs worker.LogSink
}

// Run starts a project from its configuration and bundled code: a Durable
// Object namespace for every class its migrations declare (databases under
// Dir/objects), its Worker Loader bindings and vars, and returns its
// default entrypoint and a function that closes it. It runs wherever the
// project's isolates live: in warren serve's process, or in a host process
// (package host), which is given the configuration and code by the control
// plane because it cannot read the project's files.
func Run(o RunOptions) (worker.Fetcher, func(), error) {
	cfg, code, rt, ld, out, dir, logs := o.Config, o.Code, o.Runtime, o.Loader, o.Outbound, o.Dir, o.Logs
	prog, err := rt.Compile(code)
	if err != nil {
		return nil, nil, err
	}
	env := map[string]any{}
	for k, v := range cfg.Vars {
		env[k] = v
	}
	var namespaces []*actor.Namespace
	closeAll := func() {
		for _, ns := range namespaces {
			ns.Close()
		}
	}
	// A namespace for every class the migrations declare: bound in env by
	// durable_objects.bindings, and reachable as ctx.exports.<Class> either way.
	byClass := map[string]worker.Namespace{}
	for _, class := range cfg.Classes() {
		ns, err := actor.New(rt, prog, actor.Options{Name: class, Class: class, Dir: filepath.Join(dir, "objects"), Outbound: out, Logs: logs})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		namespaces = append(namespaces, ns)
		byClass[class] = ns
	}
	for _, b := range cfg.DurableObjects.Bindings {
		env[b.Name] = byClass[b.ClassName]
	}
	for _, l := range cfg.WorkerLoaders {
		env[l.Binding] = ld.Binding(worker.DenyAll)
	}
	for _, ns := range namespaces {
		ns.SetEnv(env)
		ns.SetNamespaces(byClass)
	}
	stub := ld.Get("project:"+cfg.Name, func(context.Context) (*worker.LoadCode, error) {
		return &worker.LoadCode{Code: code, Env: env, Outbound: out, Namespaces: byClass}, nil
	})
	return stub, closeAll, nil
}
