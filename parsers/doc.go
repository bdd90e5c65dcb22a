// Package parsers turns logs into evidence: proxy, DNS, firewall and sensor
// logs become [capture.Observation] values, one per record.
//
// input.go opens inputs (files, directories, standard input, compressed
// data), detects their format and reads them line by line, counting every
// line as parsed, skipped or failed. format.go defines [Format] and the list
// of formats detection tries. url.go splits the URLs proxies log and
// removes secrets from them. squid.go reads Squid's access.log.
//
// Packet captures are read by package capture; a [Format] entry routes
// them there so that callers open every input the same way.
package parsers
