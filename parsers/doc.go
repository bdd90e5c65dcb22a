// Package parsers turns logs into evidence: proxy, DNS, firewall and sensor
// logs become [capture.Observation] values, one per record.
//
// input.go opens inputs (files, directories, standard input, gzip and zstd
// data), detects their format and reads them line by line, counting every
// line as parsed, skipped or failed. format.go defines [Format] and the list
// of formats detection tries, and lets a line parser hold a connection's
// opening record until the record of its end settles it. url.go splits the URLs proxies log and
// removes secrets from them; cache.go keeps the strings a parser built so
// that repeated hosts and paths cost no allocation.
//
// Forward proxies: proxy.go turns the fields any proxy log gives (client,
// method, URL or host and path, status, result code) into an observation
// with its outcome and reason. squid.go reads Squid's native access.log;
// squid_logformat.go compiles Squid logformat specifications and reads the
// common and combined formats (also written by nginx and Apache as forward
// proxies) and any logformat declared in the configuration. w3c.go reads
// W3C extended logs by their #Fields directive (ProxySG ELFF, Windows
// Firewall). zscaler.go reads Zscaler NSS web JSON feeds, envoy.go Envoy
// access logs (text and JSON), haproxy.go HAProxy HTTP logs; jsonscan.go
// is the small allocation-free JSON member scanner they share.
//
// DNS: dnsmasq.go joins dnsmasq's log-queries lines into lookups with
// their answers; bind.go reads BIND query and response logs, refusals and
// failures; unbound.go reads Unbound's log-queries and log-replies lines.
//
// custom.go builds the formats a user configures: a regular expression
// with named groups, a delimited layout with column names, or a Squid
// logformat.
//
// Firewall and cloud flow logs: syslog.go strips syslog headers (BSD RFC
// 3164 with or without year, RFC 5424, RFC 3339 stamps, kernel uptime
// stamps, journalctl -k and its -o short-full stamps with weekday and
// zone) behind [ParseSyslog], for every format that comes through syslog. firewall.go holds what the firewall formats share: the
// input's clock (zone-less times in [Options.Location], year-less stamps
// against [Options.Ref]), address and port decoding, verdict helpers and
// skip reasons. netfilter.go reads iptables/nftables packet logs,
// pfsense.go pfSense/OPNsense filterlog, asa.go Cisco ASA/FTD messages,
// panos.go PAN-OS traffic and threat/URL logs, fortigate.go FortiGate
// traffic and UTM logs, awsvpc.go AWS VPC Flow Logs. The JSON cloud logs
// go through jsonstream.go (JSON lines, documents and the wrappers exports
// put around records): awsnfw.go AWS Network Firewall, azurefw.go Azure
// Firewall, gcpfw.go Google Cloud firewall rules logging.
//
// Firewall records give an outcome (ok, or blocked with firewall-deny,
// reset or no-response, the rule in Detail); most carry only addresses,
// and the classifier names them from DNS evidence read beside them.
//
// The network sensor logs join records across files and events, so their
// formats read whole inputs and hold back what waits for a join until
// [Options.Flush]. zeek.go reads Zeek's conn, ssl, dns, http and x509
// logs (TSV driven by the #fields header, or JSON lines) and maps
// conn_state to outcomes; zeek_join.go joins them by uid into one
// observation per connection and maps ssl.log handshake results to TLS
// outcomes; zeek_json.go is the allocation-light JSON scanner both sensor
// formats decode with. suricata.go reads Suricata's eve.json events and
// its three layouts of DNS events; suricata_join.go joins events by
// flow_id, DNS queries with their answers, and maps flow events to
// outcomes.
//
// Packet captures are read by package capture; a [Format] entry routes
// them there so that callers open every input the same way.
package parsers
