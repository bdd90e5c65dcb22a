#!/bin/sh
# make.sh regenerates the lab captures of testdata/captures: it plays the
# traffic of mkcaptures inside a fresh network namespace whose loopback
# carries the lab addresses, capturing it twice: on lo (Ethernet framing,
# pcap) and on "any" (Linux cooked v2), and converts the first to pcapng.
# Needs root, tcpdump and editcap (apt-get install -y tcpdump tshark).
set -eu
cd "$(dirname "$0")"
go build -o /tmp/mkcaptures ./mkcaptures
exec unshare -n sh -eu -c '
ip link set lo up
for a in 192.0.2.10 203.0.113.5 203.0.113.8 198.51.100.53; do ip addr add $a/32 dev lo; done
tcpdump -q -i lo -w lab_egress.pcap -U 2>/dev/null & t1=$!
tcpdump -q -i any -w lab_egress_sll2.pcap -U 2>/dev/null & t2=$!
sleep 1
/tmp/mkcaptures
sleep 1
kill $t1 $t2; wait
editcap -F pcapng lab_egress.pcap lab_egress.pcapng
'
