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
//
// quic.go reads QUIC long headers and removes the protection of Initial
// packets (versions 1 and 2 and the late drafts) with keys derived from the
// client's connection ID; [ParseQUICInitial] reads the ClientHello of one
// datagram. quic_crypto.go reassembles the CRYPTO frames of a connection's
// Initials into its ClientHello. quic_tracker.go is [QUICTracker], which
// follows QUIC connection attempts datagram by datagram and reports each as
// a [QUICConn]: its ClientHello and the server's answer.
//
// live.go is [Live], the packet decoder fed frame by frame by a live
// capture, judging idle flows on the wall clock ([Live.Tick]) after a short
// idle time ([LiveIdleOpen]). filter.go builds the kernel filter of a live
// capture, [LiveFilter]. live_linux.go opens the capture itself, an
// AF_PACKET socket on one interface ([OpenInterface]); live_other.go stands
// in for it elsewhere. live_iface.go holds the errors of opening one: a
// missing privilege ([PermissionError]) or interface
// ([UnknownInterfaceError]).
package capture
