// Package capture holds the evidence model of egress-audit and the packet
// path that turns captures into evidence.
//
// observation.go defines [Observation], the one normalised piece of evidence
// every reader produces, with the fixed vocabularies of outcomes and
// blocking reasons. stats.go counts what reading an input did with each
// record. names.go is the name table that maps server addresses to the
// names DNS answers gave them, or that were learned otherwise and say how.
//
// tls_clienthello.go parses a TLS ClientHello into [ClientHello]: the
// server name, whether Encrypted Client Hello hides the real one, ALPN and
// supported versions; [ParseClientHelloPrefix] reads one cut by the
// snaplen up to the cut. tls_ech.go reads whether a DNS HTTPS/SVCB record
// publishes an Encrypted Client Hello configuration ([SVCBHasECH]).
//
// quic.go reads QUIC long headers and removes the protection of Initial
// packets (versions 1 and 2 and the late drafts) with keys derived from the
// client's connection ID; [ParseQUICInitial] reads the ClientHello of one
// datagram. quic_crypto.go reassembles the CRYPTO frames of a connection's
// Initials into its ClientHello. quic_tracker.go is [QUICTracker], which
// follows QUIC connection attempts datagram by datagram and reports each as
// a [QUICConn]: its ClientHello and the server's answer.
//
// The packet path, in the order a packet takes it:
//
//   - read.go: [Read], the entry point. pcap records are decoded in place
//     in a large buffered reader; pcapng goes through gopacket's pcapgo
//     with mixed link types. A file cut inside a record is read up to the
//     cut and [Stats].Truncated says so. pcapng_check.go checks the
//     lengths of pcapng blocks before they are trusted, so that a lying
//     length is reported as damage at its packet, not as a cut.
//   - link.go: link layers (Ethernet, 802.1Q/QinQ, 802.3 LLC/SNAP, Linux
//     SLL and SLL2, raw IP, BSD loopback, PPP/PPPoE, MPLS, 802.11 with
//     radiotap, NFLOG), IPv4 and IPv6 headers, and tunnels (IP in IP, GRE,
//     VXLAN, Geneve, GTP-U), decoded by hand into a packet on the stack.
//   - ipfrag.go: bounded IPv4 and IPv6 fragment reassembly, in one table.
//   - flow.go: the flow table (keyed without allocation, bounded, idle
//     flows judged and forgotten) and the decoder's state.
//   - stream.go: bounded reassembly of the first bytes of each direction of
//     a TCP flow (out of order, retransmitted, overlapping).
//   - tcp.go: TCP handshake and teardown, and the judgement of each flow:
//     no-response, reset, ICMP, TLS outcome, CONNECT status.
//   - tls.go: TLS records of both sides: the ClientHello assembled across
//     records, the ServerHello's version, the certificate issuer in clear,
//     alerts, ChangeCipherSpec and encrypted records.
//   - http.go: what the first bytes of a flow are, HTTP/1.x requests (Host,
//     CONNECT target) and the status line of the answer.
//   - dns.go: DNS messages over UDP and TCP, questions paired with answers
//     (also answers cut by the snaplen, by their ID), CNAME chains
//     followed, the name table filled.
//   - icmp.go: ICMP and ICMPv6 destination unreachable matched to the flow
//     or DNS question they quote.
//   - udp.go: UDP dispatch: DNS, QUIC datagrams to the [QUICTracker], and
//     the flows of QUIC attempts it cannot follow (Google QUIC on port 443,
//     a client Initial cut by the snaplen), judged by datagram counts.
//
// Memory does not grow with the capture's length: flows, fragments,
// pending DNS questions and reassembly buffers all have bounds.
//
// live.go is [Live], the packet decoder fed frame by frame by a live
// capture, judging idle flows on the wall clock ([Live.Tick]) after a short
// idle time ([LiveIdleOpen]). filter.go builds the kernel filter of a live
// capture, [LiveFilter], and the test that keeps one copy of each loopback
// packet. live_linux.go opens the capture itself, an
// AF_PACKET socket on one interface ([OpenInterface]); live_other.go stands
// in for it elsewhere. live_iface.go holds the errors of opening one: a
// missing privilege ([PermissionError]) or interface
// ([UnknownInterfaceError]).
package capture

// BUG(reassembly): only the first 8 KiB of a client stream and 12 KiB of a
// server stream are reassembled; a later HTTP request on a kept-alive
// connection is read only when it starts at a segment boundary.
