#!/bin/sh
# Measures egress-audit on a generated squid access.log beside cat, grep,
# awk and GoAccess on the same file, and every log parser of egress-audit
# on generated logs of its format. Prints wall-clock and CPU-time figures:
# on a shared machine the CPU-time column (user + system seconds) is the
# one that compares.
#
#   sh testdata/bench/logs.sh [lines]      (default 5000000)
#
# Needs: go, gawk, goaccess, GNU time (apt-get install -y gawk goaccess time).
set -eu
lines=${1:-5000000}
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

go build -o "$dir/egress-audit" ./cmd/egress-audit
go run ./testdata/bench/genlogs -format squid -lines "$lines" > "$dir/access.log"
size=$(wc -c < "$dir/access.log")
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "squid access.log: $lines lines, $mb MB"
echo

# run NAME CMD...: runs CMD with its output read through a pipe (GNU grep
# and cat take shortcuts when writing to /dev/null), prints MB/s by wall
# clock and by CPU time, and peak RSS.
run() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$dir/t" sh -c "$* | tail -c 1" > /dev/null 2>&1 || true
	read -r wall user sys rss <<-END
	$(tail -n 1 "$dir/t")
	END
	awk -v n="$name" -v s="$size" -v w="$wall" -v u="$user" -v y="$sys" -v r="$rss" 'BEGIN {
		c = u + y; if (w < 0.001) w = 0.001; if (c < 0.001) c = 0.001
		printf "%-44s %8.2f s %9.0f MB/s %9.0f MB/cpu-s %7.0f MB RSS\n", n, w, s / 1e6 / w, s / 1e6 / c, r / 1024
	}'
	echo "$wall $user $sys" > "$dir/last.$name"
}

echo "command                                          wall      by wall      by CPU time     peak"
run "cat" "cat '$dir/access.log'"
run "grep -c CONNECT" "grep -c CONNECT '$dir/access.log'"
run "awk '{print \$7}' | sort -u" "gawk '{print \$7}' '$dir/access.log' | sort -u"
# GoAccess's predefined SQUID format expects a syslog prefix; this is the
# native access.log layout in its specifiers.
run "goaccess (squid native log-format)" "goaccess '$dir/access.log' --log-format='%x.%^ %~%L %h %^/%s %b %m %U %^ %^ %^' --date-format=%s --time-format=%s -o '$dir/report.json'"
run "egress-audit audit -o json (full report)" "'$dir/egress-audit' audit --fail-on none -o json '$dir/access.log'"
run "egress-audit extract (every observation)" "'$dir/egress-audit' extract '$dir/access.log'"
echo

awk -v a="$(cat "$dir/last.egress-audit audit -o json (full report)" 2>/dev/null || echo 1 1 0)" \
	-v k="$(cat "$dir/last.awk '{print \$7}' | sort -u")" \
	-v g="$(cat "$dir/last.goaccess (squid native log-format)")" 'BEGIN {
	split(a, x); split(k, y); split(g, z)
	printf "egress-audit audit vs awk|sort: %.1fx faster by wall clock\n", y[1] / x[1]
	printf "egress-audit audit vs GoAccess: %.1fx faster by wall clock, %.1fx by CPU time\n", z[1] / x[1], (z[2] + z[3]) / (x[2] + x[3])
}'
echo

echo "parsers alone (go test -bench, 2,000,000 generated lines each, one core):"
go test ./parsers -run '^$' -bench 'BenchmarkRead$' -benchtime 3x -cpu 1 | grep '^Benchmark'
echo "squid parser on both cores (parallel chunks):"
go test ./parsers -run '^$' -bench 'BenchmarkRead$/^squid$' -benchtime 3x -cpu 2 | grep '^Benchmark'
