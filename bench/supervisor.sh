#!/bin/sh
# Runs the supervisor benchmarks of cmd/warren/supervisor_bench_test.go
# ROUNDS times (default 5), each round one `-count 1` run in which Warren
# and workerd are measured back to back, so the two see the same machine
# load; then prints the median of every metric over the rounds.
#
#   npm ci --prefix bench/workerd          # once: workerd beside Warren
#   bench/supervisor.sh 'AppDeployFirstRequest$' 200x
#   bench/supervisor.sh 'AppCounter$' 3000x
#   bench/supervisor.sh 'AppRSS1000$|Apps1000Deployed$' 1x
#   ROUNDS=3 bench/supervisor.sh 'AppsEvicted10000$' 1x
#   bench/supervisor.sh 'AppCounter16Clients64Apps$' 5000x
#
# Warren runs apps as `warren serve` does by default (host processes on
# Linux); WARREN_BENCH_ISOLATION=inprocess runs them in the server's process.
#
# Raw output goes to $OUT (default bench-supervisor.txt in the current folder).
set -eu
bench=${1:?usage: bench/supervisor.sh BENCH-REGEXP [BENCHTIME]}
benchtime=${2:-1x}
rounds=${ROUNDS:-5}
out=${OUT:-$PWD/bench-supervisor.txt}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d)/warren.test
(cd "$root" && go test -c -o "$bin" ./cmd/warren/)
: >"$out"
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	(cd "$root/cmd/warren" && "$bin" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.count 1) | grep -E '^(Benchmark|---)' | tee -a "$out"
done
rm -f "$bin"
echo "median of $rounds rounds:"
awk '/^Benchmark/ {
	for (f = 3; f + 1 <= NF; f += 2) { k = $1 " " $(f + 1); n[k]++; v[k, n[k]] = $f; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
}
END {
	for (j = 1; j <= m; j++) {
		k = order[j]; c = n[k]
		for (a = 1; a <= c; a++) x[a] = v[k, a]
		for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (x[b] + 0 < x[a] + 0) { t = x[a]; x[a] = x[b]; x[b] = t }
		med = (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
		split(k, p, " ")
		printf "%-45s %14s %s   (n=%d)\n", p[1], med, p[2], c
	}
}' "$out"
