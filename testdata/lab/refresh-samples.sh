#!/usr/bin/env bash
# Runs the network lab and copies its kept samples into testdata/samples/.
# Needs what lab.sh needs (root and its tools). Review the diff before
# committing: times, ports, TLS randoms and sequence numbers change on
# every run; names, addresses, MACs and verdicts do not.
#
#   sudo testdata/lab/refresh-samples.sh [file...]
#
# With file names (of the list below), only those are refreshed, so that
# the golden reports made from the others stay as they are. A firewall log
# is only audited with the resolver's log of the same run: name both.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(cd "$HERE/../samples" && pwd)

# The files kept, as lab.sh names them (scenario name + suffix).
KEEP=(
	token-dropped.pcap token-dropped-netfilter.log token-dropped-dnsmasq.log
	token-dropped-hosts.pcap token-dropped-hosts-netfilter.log token-dropped-hosts-dnsmasq.log
	token-reset.pcap token-reset-netfilter.log token-reset-dnsmasq.log
	token-icmp-prohibited.pcap token-icmp-prohibited-netfilter.log token-icmp-prohibited-dnsmasq.log
	token-nxdomain.pcap token-nxdomain-dnsmasq.log
	allowed-netfilter.log allowed-dnsmasq.log
	proxy-allowed.pcap proxy-allowed-squid.log
	proxy-denied.pcap proxy-denied-squid.log
	proxy-auth-required.pcap proxy-auth-required-squid.log
	proxy-token-dropped.pcap proxy-token-dropped-squid.log
	tls-intercepted.pcap tls-intercepted-netfilter.log tls-intercepted-dnsmasq.log
	unexpected-egress.pcap unexpected-egress-netfilter.log unexpected-egress-dnsmasq.log
	ipv6-only.pcapng ipv6-only-netfilter.log ipv6-only-dnsmasq.log
	allowed-go.pcap allowed-go-netfilter.log allowed-go-dnsmasq.log
	go-mtu1280.pcap go-mtu1280-netfilter.log go-mtu1280-dnsmasq.log
	allowed-us.pcap allowed-us-netfilter.log allowed-us-dnsmasq.log
	before-token-dropped.pcap before-token-dropped-netfilter.log before-token-dropped-dnsmasq.log
	after-token-allowed.pcap after-token-allowed-netfilter.log after-token-allowed-dnsmasq.log
)

if [ $# -gt 0 ]; then
	for f in "$@"; do
		case " ${KEEP[*]} " in
		*" $f "*) ;;
		*) echo "refresh-samples.sh: $f is not a kept sample; kept: ${KEEP[*]}" >&2; exit 2 ;;
		esac
	done
	KEEP=("$@")
fi

out=$(mktemp -d /tmp/ealab-samples.XXXXXX)
trap 'rm -rf "$out"' EXIT

scenarios=()
for f in "${KEEP[@]}"; do
	s=${f%.pcap}
	s=${s%.pcapng}
	s=${s%-netfilter.log}
	s=${s%-dnsmasq.log}
	s=${s%-squid.log}
	case " ${scenarios[*]} " in *" $s "*) ;; *) scenarios+=("$s") ;; esac
done

"$HERE/lab.sh" run "$out" "${scenarios[@]}"
for f in "${KEEP[@]}"; do
	install -m 0644 "$out/$f" "$SAMPLES/$f"
done
echo "refreshed ${#KEEP[@]} samples in $SAMPLES" >&2
