# workerd side of the supervisor benchmarks in cmd/warren/supervisor_bench_test.go:
# the supervisor + facets pattern (Cloudflare's sample) with an admin route.
#
#   npm ci --prefix bench/workerd
#   bench/workerd/node_modules/.bin/workerd serve bench/workerd/config.capnp --experimental \
#     --socket-addr http=127.0.0.1:8787 --directory-path do-storage=/tmp/workerd-do
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .supervisor),
    (name = "do-storage", disk = (path = "/tmp/workerd-do", writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const supervisor :Workerd.Worker = (
  compatibilityDate = "2026-04-01",
  compatibilityFlags = ["experimental"],
  modules = [ (name = "supervisor.js", esModule = embed "supervisor.js") ],
  durableObjectNamespaces = [
    (className = "AppRunner", uniqueKey = "warren-bench-apprunner", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
  bindings = [
    (name = "LOADER", workerLoader = ()),
    (name = "RUNNER", durableObjectNamespace = "AppRunner"),
  ],
);
