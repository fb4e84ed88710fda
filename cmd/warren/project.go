package main

import (
	"log/slog"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/loader"
	"github.com/warrenhq/warren/project"
	"github.com/warrenhq/warren/worker"
)

// loadProject reads a wrangler project and bundles its code.
func loadProject(path string, log *slog.Logger) (*project.Config, *warren.WorkerCode, error) {
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
	return cfg, code, nil
}

// startProject runs a wrangler project in this process: its Durable Object
// namespaces, its Worker Loader bindings and vars, and returns its default
// entrypoint.
func startProject(path, data string, rt *worker.Runtime, ld *loader.Loader, out *worker.Outbound, log *slog.Logger) (worker.Fetcher, func(), error) {
	cfg, code, err := loadProject(path, log)
	if err != nil {
		return nil, nil, err
	}
	stub, closeAll, err := project.Run(project.RunOptions{Config: cfg, Code: code, Runtime: rt, Loader: ld, Outbound: out, Dir: data, Logs: projectLogs(log)})
	if err != nil {
		return nil, nil, err
	}
	log.Info("project loaded", "config", path, "main", cfg.Main, "durableObjectClasses", len(cfg.Classes()), "loaders", len(cfg.WorkerLoaders))
	return stub, closeAll, nil
}

func projectLogs(log *slog.Logger) worker.LogSink {
	return func(e worker.LogEntry) {
		log.Info("worker log", "codeId", e.CodeID, "level", e.Level, "message", e.Message)
	}
}
