// Package capture holds the evidence model of egress-audit and the packet
// path that turns captures into evidence.
//
// observation.go defines [Observation], the one normalised piece of evidence
// every reader produces, with the fixed vocabularies of outcomes and
// blocking reasons. stats.go counts what reading an input did with each
// record. names.go is the name table that maps server addresses to the
// names DNS answers gave them.
//
// tls_clienthello.go parses a TLS ClientHello into [ClientHello]: the
// server name, whether Encrypted Client Hello hides the real one, ALPN and
// supported versions.
package capture
