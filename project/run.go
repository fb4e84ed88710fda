package project

import (
	"context"
	"path/filepath"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/worker"
)

// Run starts a project from its configuration and bundled code: a Durable
// Object namespace for every class its migrations declare (databases under
// dir/objects), its Worker Loader bindings and vars, and returns its
// default entrypoint and a function that closes it. It runs wherever the
// project's isolates live: in warren serve's process, or in a host process
// (package host), which is given the configuration and code by the control
// plane because it cannot read the project's files.
func Run(cfg *Config, code *warren.WorkerCode, rt *worker.Runtime, ld *loader.Loader, out *worker.Outbound, dir string, logs worker.LogSink) (worker.Fetcher, func(), error) {
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
