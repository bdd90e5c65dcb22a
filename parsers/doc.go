// Package parsers turns logs into evidence: proxy, DNS, firewall and sensor
// logs become [capture.Observation] values, one per record.
//
// input.go opens inputs (files, directories, standard input, gzip and zstd
// data), detects their format and reads them line by line, counting every
// line as parsed, skipped or failed. format.go defines [Format] and the list
// of formats detection tries. url.go splits the URLs proxies log and
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
// their answers; bind.go reads BIND query logs, refusals and failures;
// unbound.go reads Unbound's log-queries and log-replies lines.
//
// custom.go builds the formats a user configures: a regular expression
// with named groups, a delimited layout with column names, or a Squid
// logformat.
//
// Packet captures are read by package capture; a [Format] entry routes
// them there so that callers open every input the same way.
package parsers
