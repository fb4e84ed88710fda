package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/warrenhq/warren/actor"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/project"
	"github.com/warrenhq/warren/worker"
)

// startProject loads a wrangler project: its Durable Object namespaces, its
// Worker Loader bindings and vars, and returns its default entrypoint.
func startProject(path, data string, rt *worker.Runtime, ld *loader.Loader, out *worker.Outbound, log *slog.Logger) (worker.Fetcher, func(), error) {
	cfg, err := project.Load(path)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range cfg.Ignored {
		log.Warn("wrangler config: key not supported by Warren, ignored", "key", k, "config", path)
	}
	code, err := cfg.Code()
	if err != nil {
		return nil, nil, err
	}
	prog, err := rt.Compile(code)
	if err != nil {
		return nil, nil, err
	}
	env := map[string]any{}
	for k, v := range cfg.Vars {
		env[k] = v
	}
	var namespaces []*actor.Namespace
	logs := func(e worker.LogEntry) {
		log.Info("worker log", "codeId", e.CodeID, "level", e.Level, "message", e.Message)
	}
	// A namespace for every class the migrations declare: bound in env by
	// durable_objects.bindings, and reachable as ctx.exports.<Class> either way.
	byClass := map[string]worker.Namespace{}
	for _, class := range cfg.Classes() {
		ns, err := actor.New(rt, prog, actor.Options{Name: class, Class: class, Dir: filepath.Join(data, "objects"), Outbound: out, Logs: logs})
		if err != nil {
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
	log.Info("project loaded", "config", path, "main", cfg.Main, "durableObjectClasses", len(namespaces), "loaders", len(cfg.WorkerLoaders))
	closeAll := func() {
		for _, ns := range namespaces {
			ns.Close()
		}
	}
	return stub, closeAll, nil
}
