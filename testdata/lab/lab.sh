#!/usr/bin/env bash
# The egress-audit network lab: real clients, firewall, resolver and proxy in
# Linux network namespaces, producing the captures and logs of every way an
# OAuth call can fail. Needs root and: ip nft ethtool dnsmasq squid tcpdump
# dumpcap tshark ulogd curl go.
#
#   lab.sh run <out-dir> [scenario...]   build, start, run scenarios, tear down
#   lab.sh up                            build and start, and leave it running
#   lab.sh scenario <out-dir> scenario...  run scenarios in the lab that is up
#   lab.sh down                          tear down (also what a killed run left)
#   lab.sh list                          print the scenario names
#   lab.sh hosts                         give the client a hosts file of the lab's names
#
# up, scenario and down let a test run its own program in the lab (ip netns
# exec ealab-client ...) while scenarios run; all three must see the same
# EGRESS_AUDIT_LAB_WORK.
#
# Every scenario NAME writes into <out-dir>:
#   NAME.pcap (or .pcapng)   the client host's traffic (tcpdump or dumpcap)
#   NAME-netfilter.log       the firewall's log lines (NFLOG -> ulogd2 LOGEMU)
#   NAME-dnsmasq.log         the resolver's query log
#   NAME-squid.log           squid's access.log (proxy scenarios only)
#   NAME-client.txt          what the client printed (for debugging)
#
# token-dropped-hosts is token-dropped with the names in the client's hosts
# file (lab.sh hosts writes it, for a program started before the scenario).
#
# Addresses: client 192.0.2.10 / 2001:db8:1::10, firewall 192.0.2.1 and
# 198.51.100.1, resolver 198.51.100.53 / 2001:db8:2::53, proxy
# 198.51.100.3:3128, servers in 203.0.113.0/24 and 2001:db8:3::/64.
set -euo pipefail

PREFIX=ealab
CLI=$PREFIX-client
FW=$PREFIX-fw
NET=$PREFIX-inet
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${EGRESS_AUDIT_LAB_WORK:-/tmp/$PREFIX-work}
# squid drops root for the proxy user, who must reach its files: they live
# in a directory of their own, world-writable, not below WORK.
SQUID_DIR=/tmp/$PREFIX-squid

SCENARIOS=(
	allowed allowed-us allowed-go go-mtu1280
	token-dropped token-dropped-hosts token-reset token-icmp-prohibited token-nxdomain
	proxy-allowed proxy-denied proxy-auth-required proxy-token-dropped
	tls-intercepted unexpected-egress ipv6-only
	before-token-dropped after-token-allowed
)

# Lab names and their addresses. bare IP: 203.0.113.99 has no name.
HOSTS=(
	"auth.gtmhub.com 203.0.113.10 2001:db8:3::10"
	"app.gtmhub.com 203.0.113.11 2001:db8:3::11"
	"auth.us.gtmhub.com 203.0.113.20 2001:db8:3::20"
	"app.us.gtmhub.com 203.0.113.21 2001:db8:3::21"
	"updates.example.com 203.0.113.60 2001:db8:3::60"
	"telemetry.example.net 203.0.113.61 2001:db8:3::61"
)
BARE_IP=203.0.113.99

log() { echo "lab: $*" >&2; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# kill_pidfile stops the process whose id a file holds, and waits for it.
kill_pidfile() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f" 2>/dev/null || true)
	rm -f "$f"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

down() {
	if [ -d "$WORK/pids" ]; then
		for f in "$WORK"/pids/*; do
			[ -e "$f" ] && kill_pidfile "$f"
		done
	fi
	for ns in $(ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true); do
		ip netns delete "$ns" || true
	done
	rm -rf "/etc/netns/$CLI" "$SQUID_DIR"
}

build() {
	mkdir -p "$WORK/bin" "$WORK/pids" "$WORK/ca" "$WORK/run"
	(cd "$ROOT" && go build -o "$WORK/bin/server" ./testdata/lab/server &&
		go build -o "$WORK/bin/client" ./testdata/lab/client)
	"$WORK/bin/server" ca "$WORK/ca"
}

# start runs a command in the background in a namespace and records its id.
start() {
	local name=$1 ns=$2; shift 2
	ip netns exec "$ns" "$@" >"$WORK/run/$name.out" 2>&1 &
	echo $! >"$WORK/pids/$name"
}

up() {
	down
	build
	for ns in $CLI $FW $NET; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.router_solicitations=0
	done
	# Fixed MAC addresses keep captures and firewall lines the same from run
	# to run.
	ip link add eth0 netns $CLI address 02:00:00:00:01:10 type veth \
		peer name lan netns $FW address 02:00:00:00:01:01
	ip link add wan netns $FW address 02:00:00:00:02:01 type veth \
		peer name eth0 netns $NET address 02:00:00:00:02:02

	# Without segmentation and receive offloads, a capture shows the
	# segments that cross the wire: a ClientHello larger than the MSS is two
	# segments, not one GSO frame.
	for dev in "$CLI eth0" "$FW lan" "$FW wan" "$NET eth0"; do
		set -- $dev
		in_ns "$1" ethtool -K "$2" tso off gso off gro off >/dev/null
	done

	in_ns $CLI ip addr add 192.0.2.10/24 dev eth0
	in_ns $CLI ip addr add 2001:db8:1::10/64 dev eth0 nodad
	in_ns $CLI ip link set eth0 up
	in_ns $CLI ip route add default via 192.0.2.1
	in_ns $CLI ip -6 route add default via 2001:db8:1::1

	in_ns $FW ip addr add 192.0.2.1/24 dev lan
	in_ns $FW ip addr add 2001:db8:1::1/64 dev lan nodad
	in_ns $FW ip addr add 198.51.100.1/24 dev wan
	in_ns $FW ip addr add 2001:db8:2::1/64 dev wan nodad
	in_ns $FW ip link set lan up
	in_ns $FW ip link set wan up
	in_ns $FW sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	in_ns $FW ip route add 203.0.113.0/24 via 198.51.100.2
	in_ns $FW ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2

	for a in 198.51.100.2/24 198.51.100.3/24 198.51.100.53/24; do
		in_ns $NET ip addr add $a dev eth0
	done
	for a in 2001:db8:2::2/64 2001:db8:2::3/64 2001:db8:2::53/64; do
		in_ns $NET ip addr add $a dev eth0 nodad
	done
	in_ns $NET ip link set eth0 up
	in_ns $NET ip route add default via 198.51.100.1
	in_ns $NET ip -6 route add default via 2001:db8:2::1
	for h in "${HOSTS[@]}"; do
		set -- $h
		in_ns $NET ip addr add "$2/32" dev lo
		in_ns $NET ip addr add "$3/128" dev lo nodad
	done
	in_ns $NET ip addr add $BARE_IP/32 dev lo

	mkdir -p "/etc/netns/$CLI"
	start server $NET "$WORK/bin/server" serve -ca "$WORK/ca" -listen :443 -inspect-listen :8443

	cat >"$WORK/ulogd.conf" <<-EOF
		[global]
		logfile="$WORK/run/ulogd.self.log"
		loglevel=5
		plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_inppkt_NFLOG.so"
		plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_raw2packet_BASE.so"
		plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IFINDEX.so"
		plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IP2STR.so"
		plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_PRINTPKT.so"
		plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_output_LOGEMU.so"
		stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU
		[log1]
		group=0
		netlink_qthreshold=1
		netlink_qtimeout=1
		[emu1]
		file="$WORK/run/netfilter.log"
		sync=1
	EOF
	local plugdir
	plugdir=$(dirname "$(find /usr/lib -name ulogd_inppkt_NFLOG.so | head -1)")
	sed -i "s#/usr/lib/x86_64-linux-gnu/ulogd#$plugdir#" "$WORK/ulogd.conf"
	# ulogd writes the host name into each line: give it a fixed one in a
	# UTS namespace of its own, so that lines do not depend on the machine.
	start ulogd $FW unshare --uts sh -c "hostname lab-fw && exec ulogd -c '$WORK/ulogd.conf'"

	# New IPv6 addresses send MLD reports for a second or so: let them pass
	# before the first capture. Then wait for the server to listen.
	sleep 1.5
	for _ in $(seq 100); do
		if in_ns $NET bash -c 'exec 3<>/dev/tcp/203.0.113.10/443' 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "server did not start:"; cat "$WORK/run/server.out" >&2
	return 1
}

# firewall loads the forward chain with the scenario's rules before the
# final accept. Every new flow is logged, accepted or not.
firewall() {
	local rules=${1:-} nat=${2:-}
	in_ns $FW nft flush ruleset
	in_ns $FW nft -f - <<-EOF
		table inet lab {
			chain forward {
				type filter hook forward priority filter; policy accept;
				ct state established,related accept
				$rules
				ct state new log prefix "LAB-ACCEPT " group 0 queue-threshold 1 accept
			}
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				$nat
			}
		}
	EOF
}

# resolver starts dnsmasq with the lab's records; mode is v4 (A records
# only, so that clients use IPv4), v6only (AAAA only) or nxdomain-auth (v4,
# and NXDOMAIN for auth.gtmhub.com).
resolver() {
	local mode=$1 out=$2 conf=$WORK/dnsmasq.conf
	kill_pidfile "$WORK/pids/dnsmasq"
	rm -f "$out"
	{
		echo "no-resolv"
		echo "no-hosts"
		echo "bind-interfaces"
		echo "listen-address=198.51.100.53,2001:db8:2::53"
		echo "user=root"
		echo "log-queries"
		echo "log-facility=$out"
		echo "local-ttl=300"
		# Answer only from these records: a name of the lab's domains
		# without a record is NXDOMAIN, a missing type is NODATA.
		echo "local=/gtmhub.com/"
		echo "local=/example.com/"
		echo "local=/example.net/"
		for h in "${HOSTS[@]}"; do
			set -- $h
			case $mode in
			v4) echo "host-record=$1,$2" ;;
			v6only) echo "host-record=$1,$3" ;;
			nxdomain-auth) [ "$1" = auth.gtmhub.com ] || echo "host-record=$1,$2" ;;
			esac
		done
	} >"$conf"
	start dnsmasq $NET dnsmasq --keep-in-foreground --conf-file="$conf"
	for _ in $(seq 50); do
		grep -q "started" "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	log "dnsmasq did not start"; cat "$WORK/run/dnsmasq.out" >&2
	return 1
}

# proxy starts squid; mode is open, deny-auth (403 to auth.gtmhub.com) or
# auth (407 to everyone without credentials). The rules of each mode are
# testdata/lab/squid/MODE.conf, which check-rules' tests read too; this
# writes the plumbing around them.
proxy() {
	local mode=$1 conf=$SQUID_DIR/squid.conf
	rm -rf "$SQUID_DIR"
	mkdir -p "$SQUID_DIR"
	chmod 777 "$SQUID_DIR"
	cp "$HERE/squid/$mode.conf" "$SQUID_DIR/rules.conf"
	{
		echo "http_port 198.51.100.3:3128"
		echo "visible_hostname lab-proxy"
		echo "pid_filename $SQUID_DIR/squid.pid"
		echo "cache_log $SQUID_DIR/cache.log"
		echo "access_log stdio:$SQUID_DIR/access.log"
		echo "logfile_rotate 0"
		echo "cache deny all"
		echo "coredump_dir $SQUID_DIR"
		echo "pinger_enable off"
		echo "shutdown_lifetime 0 seconds"
		echo "dns_nameservers 198.51.100.53"
		echo "connect_timeout 1 second"
		if [ "$mode" = auth ]; then
			echo "auth_param basic program $(find /usr/lib -name basic_fake_auth | head -1)"
			echo "auth_param basic realm lab-proxy"
		fi
		echo "include $SQUID_DIR/rules.conf"
	} >"$conf"
	start squid $NET squid -N -f "$conf"
	# Wait on squid's own word rather than probe its port, which would
	# leave a line in access.log.
	for _ in $(seq 100); do
		grep -q "Accepting HTTP Socket connections" "$SQUID_DIR/cache.log" 2>/dev/null && return 0
		sleep 0.1
	done
	log "squid did not start"; cat "$SQUID_DIR/cache.log" >&2
	return 1
}

# capture starts the client-side capture; how is eth0, any (tcpdump's
# default for it, Linux cooked v2), any-sll (Linux cooked v1), nano
# (nanosecond pcap) or pcapng (dumpcap).
capture() {
	local how=$1 file=$2
	# The background start truncates the file only after the fork: remove it
	# first so that the wait below cannot read the previous capture's words.
	rm -f "$WORK/run/capture.out" "$file"
	case $how in
	eth0) start capture $CLI tcpdump -Z root -n -s 0 -U --immediate-mode -i eth0 -w "$file" ;;
	any) start capture $CLI tcpdump -Z root -n -s 0 -U --immediate-mode -i any -w "$file" ;;
	any-sll) start capture $CLI tcpdump -Z root -n -s 0 -U --immediate-mode -i any -y LINUX_SLL -w "$file" ;;
	nano) start capture $CLI tcpdump -Z root -n -s 0 -U --immediate-mode -i eth0 --time-stamp-precision=nano -w "$file" ;;
	pcapng) start capture $CLI dumpcap -q -i eth0 -s 0 -w "$file" ;;
	esac
	for _ in $(seq 100); do
		# A capture on "any" once missed the first server segment right
		# after it said it was listening: give it a moment more.
		if grep -qE "listening on|Capturing on" "$WORK/run/capture.out" 2>/dev/null; then
			sleep 0.2
			return 0
		fi
		sleep 0.1
	done
	log "capture did not start"; cat "$WORK/run/capture.out" >&2
	return 1
}

stop_capture() {
	sleep 0.5 # let the last segments and ulogd's lines arrive
	local pid
	pid=$(cat "$WORK/pids/capture")
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$WORK/pids/capture"
}

# curl_flow plays the plugin's server-side OAuth flow with curl: the token
# exchange, then (only if it worked) three API calls. Extra arguments go to
# every curl. It never fails the script: a blocked call is the point.
curl_flow() {
	local dc=$1; shift
	local c=(curl -sS --http1.1 --cacert "$WORK/ca/ca.pem" --connect-timeout 3 -m 8 "$@")
	in_ns $CLI "${c[@]}" -d grant_type=authorization_code -d code=lab-code \
		"https://auth$dc.gtmhub.com/oauth/token" || return 0
	echo
	in_ns $CLI "${c[@]}" "https://app$dc.gtmhub.com/api/v1/sessions" || return 0
	in_ns $CLI "${c[@]}" "https://app$dc.gtmhub.com/api/v1/goals?sessionId=lab" || return 0
	in_ns $CLI "${c[@]}" -H 'Content-Type: application/json' -d '{"name":"lab task"}' \
		"https://app$dc.gtmhub.com/api/v1/tasks" || return 0
}

go_flow() {
	in_ns $CLI "$WORK/bin/client" -ca "$WORK/ca/ca.pem" "$@" || true
}

# write_hosts gives the client namespace the lab's hosts file (ip netns
# exec mounts it on /etc/hosts).
write_hosts() {
	cp "$HERE/hosts" "/etc/netns/$CLI/hosts"
}

# Firewall rules of the blocking scenarios, for the token host.
TOKEN4="ip daddr 203.0.113.10 tcp dport 443"

scenario() {
	local name=$1 out=$2
	local how=eth0 ext=pcap dns=v4 rules="" nat="" resolv=198.51.100.53
	case $name in
	token-reset) how=nano ;;
	unexpected-egress) how=any-sll ;;
	allowed-us) how=any ;;
	ipv6-only) how=pcapng ext=pcapng dns=v6only resolv=2001:db8:2::53 ;;
	token-nxdomain) dns=nxdomain-auth ;;
	esac
	case $name in
	token-dropped | token-dropped-hosts | before-token-dropped)
		rules="$TOKEN4 log prefix \"LAB-DROP \" group 0 queue-threshold 1 drop" ;;
	token-reset)
		# A prefix of its own, apart from the ICMP reject's: a firewall
		# log then tells a reset from a denial, as a capture does.
		rules="$TOKEN4 log prefix \"LAB-RESET \" group 0 queue-threshold 1 reject with tcp reset" ;;
	token-icmp-prohibited)
		rules="$TOKEN4 log prefix \"LAB-REJECT \" group 0 queue-threshold 1 reject with icmpx type admin-prohibited" ;;
	tls-intercepted)
		nat="$TOKEN4 dnat ip to 203.0.113.10:8443" ;;
	esac

	log "scenario $name"
	echo "nameserver $resolv" >"/etc/netns/$CLI/resolv.conf"
	firewall "$rules" "$nat"
	resolver "$dns" "$out/$name-dnsmasq.log"
	local fwlog=$WORK/run/netfilter.log offset
	offset=$(stat -c %s "$fwlog" 2>/dev/null || echo 0)
	if [ "$name" = go-mtu1280 ]; then
		in_ns $CLI ip link set eth0 mtu 1280
		in_ns $FW ip link set lan mtu 1280
	fi
	case $name in
	proxy-allowed) proxy open ;;
	proxy-denied) proxy deny-auth ;;
	proxy-auth-required) proxy auth ;;
	proxy-token-dropped)
		# The proxy's own connection to the token host is dropped, as an
		# egress firewall behind the proxy would.
		in_ns $NET nft -f - <<-EOF
			table inet proxyegress {
				chain output {
					type filter hook output priority filter; policy accept;
					skuid proxy $TOKEN4 drop
				}
			}
		EOF
		proxy open
		;;
	esac
	if [ "$name" = token-dropped-hosts ]; then
		# The server names the catalog's hosts in its hosts file, as some
		# sites pin them: no DNS on the wire, and a dropped SYN carries
		# no name either.
		write_hosts
	fi
	capture $how "$out/$name.$ext"

	{
		case $name in
		allowed | token-* | tls-intercepted | ipv6-only) curl_flow "" ;;
		allowed-us) curl_flow .us ;;
		allowed-go | go-mtu1280 | before-token-dropped | after-token-allowed) go_flow ;;
		proxy-*) curl_flow "" --proxy http://198.51.100.3:3128 ;;
		unexpected-egress)
			curl_flow ""
			for u in https://updates.example.com/v2/check https://telemetry.example.net/collect \
				"https://$BARE_IP/beacon"; do
				in_ns $CLI curl -sS --http1.1 --cacert "$WORK/ca/ca.pem" --connect-timeout 3 "$u" || true
			done
			;;
		esac
	} >"$out/$name-client.txt" 2>&1

	stop_capture
	cat "$WORK/run/capture.out" >>"$out/$name-client.txt"
	in_ns $NET nft delete table inet proxyegress 2>/dev/null || true
	if [ -f "$WORK/pids/squid" ]; then
		kill_pidfile "$WORK/pids/squid"
		cp "$SQUID_DIR/access.log" "$out/$name-squid.log"
	fi
	kill_pidfile "$WORK/pids/dnsmasq"
	rm -f "/etc/netns/$CLI/hosts"
	tail -c +$((offset + 1)) "$fwlog" >"$out/$name-netfilter.log"
	if [ "$name" = go-mtu1280 ]; then
		in_ns $CLI ip link set eth0 mtu 1500
		in_ns $FW ip link set lan mtu 1500
	fi
}

# lost_segments reports whether the scenario's capture misses TCP segments
# that the other side acknowledged.
lost_segments() {
	local f
	for f in "$1.pcap" "$1.pcapng"; do
		[ -f "$f" ] || continue
		[ -n "$(tshark -r "$f" -Y 'tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment' 2>/dev/null)" ] && return 0
	done
	return 1
}

need_tools() {
	local missing=()
	for t in ip nft ethtool dnsmasq squid tcpdump dumpcap tshark ulogd curl go; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "missing tools: ${missing[*]}"
		exit 3
	fi
}

case ${1:-} in
run)
	[ $# -ge 2 ] || { echo "usage: lab.sh run <out-dir> [scenario...]" >&2; exit 2; }
	need_tools
	out=$(mkdir -p "$2" && cd "$2" && pwd)
	shift 2
	names=("$@")
	[ ${#names[@]} -gt 0 ] || names=("${SCENARIOS[@]}")
	trap down EXIT
	trap 'exit 130' INT TERM
	up
	for n in "${names[@]}"; do
		scenario "$n" "$out"
		if lost_segments "$out/$n"; then
			# Rarely, under load, a capture on "any" misses a segment
			# (the server's first flight): the flow then looks broken for
			# reasons of the capture's own. Run the scenario once more.
			log "scenario $n: the capture missed segments; running it again"
			scenario "$n" "$out"
		fi
	done
	;;
up)
	need_tools
	trap down EXIT
	up
	trap - EXIT
	;;
scenario)
	[ $# -ge 3 ] || { echo "usage: lab.sh scenario <out-dir> scenario..." >&2; exit 2; }
	[ -f "$WORK/pids/server" ] || { log "the lab is not up: run lab.sh up first"; exit 2; }
	out=$(mkdir -p "$2" && cd "$2" && pwd)
	shift 2
	for n in "$@"; do
		case " ${SCENARIOS[*]} " in
		*" $n "*) scenario "$n" "$out" ;;
		*) log "no scenario $n; see lab.sh list"; exit 2 ;;
		esac
	done
	;;
down) down ;;
hosts)
	[ -d "/etc/netns/$CLI" ] || { log "the lab is not up: run lab.sh up first"; exit 2; }
	write_hosts
	;;
list) printf '%s\n' "${SCENARIOS[@]}" ;;
*)
	sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
