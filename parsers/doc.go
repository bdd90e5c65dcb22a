// Package parsers turns logs into evidence: proxy, DNS, firewall and sensor
// logs become [capture.Observation] values, one per record.
//
// input.go opens inputs (files, directories, standard input, compressed
// data), detects their format and reads them line by line, counting every
// line as parsed, skipped or failed. format.go defines [Format] and the list
// of formats detection tries. url.go splits the URLs proxies log and
// removes secrets from them. squid.go reads Squid's access.log.
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
