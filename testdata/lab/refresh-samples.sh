#!/usr/bin/env bash
# Runs the network lab and copies its kept samples into testdata/samples/.
# Needs what lab.sh needs (root and its tools). Review the diff before
# committing: times, ports, TLS randoms and sequence numbers change on
# every run; names, addresses, MACs and verdicts do not.
#
#   sudo testdata/lab/refresh-samples.sh
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(cd "$HERE/../samples" && pwd)

# The files kept, as lab.sh names them (scenario name + suffix).
KEEP=(
	token-dropped.pcap token-dropped-netfilter.log token-dropped-dnsmasq.log
	token-reset.pcap token-reset-netfilter.log token-reset-dnsmasq.log
	token-icmp-prohibited.pcap token-icmp-prohibited-netfilter.log token-icmp-prohibited-dnsmasq.log
	token-nxdomain.pcap token-nxdomain-dnsmasq.log
	allowed-netfilter.log allowed-dnsmasq.log
	proxy-allowed.pcap proxy-allowed-squid.log
	proxy-denied.pcap proxy-denied-squid.log
	proxy-auth-required.pcap proxy-auth-required-squid.log
	proxy-token-dropped.pcap proxy-token-dropped-squid.log
	tls-intercepted.pcap
	unexpected-egress.pcap unexpected-egress-netfilter.log unexpected-egress-dnsmasq.log
	ipv6-only.pcapng ipv6-only-netfilter.log ipv6-only-dnsmasq.log
	go-mtu1280.pcap
	allowed-us.pcap
	before-token-dropped.pcap after-token-allowed.pcap
)

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
