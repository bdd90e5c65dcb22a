#!/bin/sh
# compare.sh measures egress-audit beside tcpdump, nDPI and tshark on one
# generated capture, in one run, and prints the ratios.
#
#   testdata/bench/compare.sh [packets]      (default 1200000, about 610 MB)
#
# Needs go, tcpdump and tshark (apt-get install -y tcpdump tshark) and
# GNU time (apt-get install -y time); nDPI's ndpiReader (libndpi-bin) is
# measured when present. Each tool reads the file once after a
# warm-up read that puts it in the page cache. CPU time (user + system) is
# reported beside wall time: on a busy machine it is the fairer measure.
set -eu
cd "$(dirname "$0")/../.."
packets=${1:-1200000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cap=$dir/bench.pcap

go build -o "$dir/egress-audit" ./cmd/egress-audit
go run ./testdata/bench/gencap/cmd/gencap -packets "$packets" -o "$cap"
cat "$cap" >/dev/null
size=$(stat -c %s "$cap")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "capture: $packets packets, $size bytes"
printf '%-44s %9s %9s %9s %10s %9s\n' tool wall_s cpu_s MB/s cpu_MB/s peak_MB

measure() {
	name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$@" >"$dir/out" 2>/dev/null || true
	read -r wall user sys rss <"$dir/time"
	awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="$size" 'BEGIN {
		c = u + s; if (w < 0.001) w = 0.001; if (c < 0.001) c = 0.001
		printf "%-44s %9.2f %9.2f %9.0f %10.0f %9.0f\n", n, w, c, b/w/1e6, b/c/1e6, r/1024
	}' | tee -a "$dir/table"
}

# cat writes into a pipe, as every tool's output goes somewhere.
measure "cat F | cat" sh -c 'cat "$1" | cat >/dev/null' - "$cap"
measure "tcpdump -r F -w /dev/null" tcpdump -r "$cap" -w /dev/null
measure "egress-audit audit (full report)" "$dir/egress-audit" audit -o json "$cap"
measure "egress-audit extract (observations)" "$dir/egress-audit" extract "$cap"
if command -v ndpiReader >/dev/null; then
	measure "ndpiReader -i F -q (nDPI)" ndpiReader -i "$cap" -q
fi
measure "tshark -Y tls.handshake.type==1 (SNI only)" tshark -n -r "$cap" -Y 'tls.handshake.type==1' -T fields -e tls.handshake.extensions_server_name

ea=$(awk '/egress-audit audit/ { print $(NF-4), $(NF-3) }' "$dir/table")
ts=$(awk '/^tshark/ { print $(NF-4), $(NF-3) }' "$dir/table")
echo "$ea $ts" | awk '{ printf "egress-audit audit vs tshark: %.1fx faster by wall time, %.1fx by CPU time\n", $3/$1, $4/$2 }'
nd=$(awk '/^ndpiReader/ { print $(NF-4), $(NF-3) }' "$dir/table")
if [ -n "$nd" ]; then
	echo "$ea $nd" | awk '{ printf "egress-audit audit vs nDPI: %.1fx faster by wall time, %.1fx by CPU time\n", $3/$1, $4/$2 }'
fi
