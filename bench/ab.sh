#!/bin/sh
# Compares two trees of Warren on the same benchmarks, interleaved: each
# round runs every benchmark once (-count 1) on tree A and on tree B, the
# order flipping each round (A B, then B A, ...), so machine drift hits both.
# Test binaries are built first, so no compilation overlaps a measurement.
#
#   ROUNDS=5 bench/ab.sh /path/to/before /path/to/after \
#     'worker BenchmarkWarmFetch$ 20000x' \
#     'host ProcessHop 3000x' \
#     'cmd/warren AppCounter$ 3000x'
#
# Each raw line in $OUT (default ab.txt) is: round, tree (A/B), the 1-minute
# load average before the run, the process's user+sys CPU seconds
# (/usr/bin/time, setup included), then the benchmark's own output line.
# The medians per benchmark, metric and tree are printed at the end.
set -eu
a=$(cd "${1:?usage: bench/ab.sh TREE-A TREE-B 'PKG REGEXP BENCHTIME'...}" && pwd)
b=$(cd "${2:?}" && pwd)
shift 2
rounds=${ROUNDS:-5}
out=${OUT:-$PWD/ab.txt}
bin=$(mktemp -d)
build() { # tree-letter tree-root pkg
	[ -x "$bin/$1/$(basename "$3").test" ] && return
	mkdir -p "$bin/$1"
	(cd "$2" && go test -c -o "$bin/$1/$(basename "$3").test" "./$3/")
}
run() { # round tree-letter tree-root pkg regexp benchtime
	load=$(cut -d' ' -f1 /proc/loadavg)
	(cd "$3/$4" && /usr/bin/time -f '%U %S' -o "$bin/time" \
		"$bin/$2/$(basename "$4").test" -test.run '^$' -test.bench "$5" -test.benchtime "$6" -test.count 1 >"$bin/log" 2>&1) || cat "$bin/log" >&2
	cpu=$(awk '{print $1 + $2}' "$bin/time")
	grep -E '^Benchmark' "$bin/log" | while IFS= read -r line; do
		echo "$1 $2 load=$load cpu=$cpu $line"
	done | tee -a "$out"
}
for spec in "$@"; do
	build A "$a" ${spec%% *}
	build B "$b" ${spec%% *}
done
echo "# A=$a ($(git -C "$a" rev-parse --short HEAD)) B=$b ($(git -C "$b" rev-parse --short HEAD)) $(date -u +%FT%TZ)" >"$out"
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	if [ $((i % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for spec in "$@"; do
		for t in $order; do
			if [ $t = A ]; then root=$a; else root=$b; fi
			run $i $t "$root" $spec
		done
	done
done
rm -rf "$bin"
echo "median of $rounds rounds (A / B, B/A):"
awk '/^[0-9]/ {
	t = $2; name = $5; sub(/-[0-9]+$/, "", name)
	c = $4; sub(/^cpu=/, "", c); k = name " process-cpu-s"; n[k, t]++; v[k, t, n[k, t]] = c; if (!(k in seen)) { seen[k] = 1; order[++m] = k }
	for (f = 7; f + 1 <= NF; f += 2) { k = name " " $(f + 1); n[k, t]++; v[k, t, n[k, t]] = $f; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
}
function med(k, t,   c, a, b, x, s) {
	c = n[k, t]; if (!c) return ""
	for (a = 1; a <= c; a++) x[a] = v[k, t, a] + 0
	for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (x[b] < x[a]) { s = x[a]; x[a] = x[b]; x[b] = s }
	return (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
}
END {
	for (j = 1; j <= m; j++) {
		k = order[j]; ma = med(k, "A"); mb = med(k, "B")
		printf "%-60s %12s %12s %7s\n", k, ma, mb, (ma + 0) ? sprintf("%.3f", mb / ma) : "-"
	}
}' "$out"
