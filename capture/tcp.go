package capture

import (
	"fmt"
	"net/netip"
)

// tcp follows one TCP segment: the handshake, the teardown and the first
// bytes of each direction.
func (d *decoder) tcp(p *packet) {
	d.tick(p.t)
	// A bare ACK, FIN or RST of a flow not in the table (it ended and was
	// forgotten, or began before the capture) starts nothing worth judging.
	create := p.flags&tcpSYN != 0 || len(p.payload) > 0 || p.cut > 0
	f, fromClient := d.lookupFlow(p, create)
	if f == nil {
		return
	}
	if p.flags&tcpSYN != 0 && p.flags&tcpACK == 0 && fromClient && f.reused(p) {
		// A new connection on a 4-tuple whose old one ended.
		delete(d.flows, f.key)
		d.endFlow(f)
		f, fromClient = d.lookupFlow(p, true)
	}
	if fromClient {
		f.clientPkts++
	} else {
		f.serverPkts++
	}

	switch {
	case p.flags&tcpRST != 0:
		if f.rstN == 0 {
			f.rstN = p.n
			f.rstServer = !fromClient
			f.closedTime = p.t
		}
	case p.flags&(tcpSYN|tcpACK) == tcpSYN:
		if fromClient {
			f.syns++
			if f.synN == 0 {
				f.synN = p.n
			}
			f.cs.start(p.seq)
		}
	case p.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK:
		if !fromClient && f.synAckN == 0 {
			f.synAckN = p.n
			f.ss.start(p.seq)
		}
	default:
		if fromClient && f.estN == 0 && f.synAckN != 0 {
			f.estN = p.n
		}
	}
	if p.flags&(tcpFIN|tcpRST) != 0 && !f.closeSeen {
		f.closeSeen, f.closeClient = true, fromClient
	}
	if p.flags&tcpFIN != 0 {
		if fromClient {
			f.finClient = true
		} else {
			f.finServer = true
		}
		if f.finN == 0 {
			f.finN = p.n
		}
	}

	if !fromClient && p.flags&tcpACK != 0 && f.cs.started && int32(p.ack-f.cs.isn) > 0 {
		f.serverAcked = true
	}

	if len(p.payload) == 0 && p.cut == 0 {
		d.endOfDirection(f, p, fromClient)
		return
	}
	if p.flags&tcpSYN != 0 && f.synN != 0 && p.flags&tcpACK == 0 {
		// TCP Fast Open data rides on the SYN; the stream starts after it.
		p.seq++
	}
	if fromClient {
		if !f.cs.started || p.seq == f.cs.isn {
			f.firstSends++
		}
		if p.cut > 0 && f.snapN == 0 && !f.cs.done && int(p.seq-f.cs.isn) < clientStreamCap {
			f.snapN = p.n
		}
		if f.cs.limit == 0 {
			f.cs.limit = clientStreamCap
		}
		if f.cs.add(&d.bufs, p.seq, p.payload, p.n) {
			d.clientData(f, p)
		} else if f.cs.done || f.cs.full {
			d.lateClientSegment(f, p)
		}
	} else {
		if f.ss.limit == 0 {
			f.ss.limit = serverStreamCap
		}
		if f.ss.add(&d.bufs, p.seq, p.payload, p.n) {
			d.serverData(f, p)
		}
	}
	d.endOfDirection(f, p, fromClient)
}

// endOfDirection frees the reassembly buffer of a direction that sent
// its FIN or a reset: no more bytes will come.
func (d *decoder) endOfDirection(f *flow, p *packet, fromClient bool) {
	switch {
	case p.flags&tcpRST != 0:
		f.cs.release(&d.bufs)
		f.ss.release(&d.bufs)
	case p.flags&tcpFIN != 0 && fromClient:
		f.cs.release(&d.bufs)
	case p.flags&tcpFIN != 0:
		f.ss.release(&d.bufs)
	}
}

// reused reports whether a SYN on f's 4-tuple starts a new connection:
// the old one ended, or the SYN's sequence number is not the old one's.
func (f *flow) reused(p *packet) bool {
	if f.syns == 0 && f.clientPkts == 0 {
		return false
	}
	if f.closed() || f.finClient || f.finServer {
		return true
	}
	return f.cs.started && f.syns > 0 && p.seq+1 != f.cs.isn
}

// endFlow judges a flow and emits its observations.
func (d *decoder) endFlow(f *flow) {
	if f.cs.noBuf || f.ss.noBuf {
		d.st.Unreassembled++
	}
	f.cs.release(&d.bufs)
	f.ss.release(&d.bufs)
	if f.key.proto == protoUDP {
		d.endUDP(f)
		return
	}
	a := &f.app
	if a.connect != "" {
		d.emitConnect(f)
		if a.tls.hello {
			o := d.newObservation(f, TCP)
			d.tcpOutcome(f, o, true)
			throughProxy(f, o)
			d.emitFlow(o)
		}
		return
	}
	o := d.newObservation(f, TCP)
	d.tcpOutcome(f, o, false)
	d.nameFromDNS(o)
	if len(a.hosts) > 1 {
		// Each further Host header is its own destination.
		main := o.Host
		d.emitFlow(o)
		for _, h := range a.hosts[1:] {
			if h == main {
				continue
			}
			o := d.newObservation(f, TCP)
			d.tcpOutcome(f, o, false)
			o.Host = h
			d.emitFlow(o)
		}
		return
	}
	d.emitFlow(o)
}

func (d *decoder) emitFlow(o *Observation) {
	d.emit(o)
}

// tcpOutcome fills the host and outcome of a TCP flow. inTunnel judges the
// TLS inside a proxy's CONNECT tunnel.
func (d *decoder) tcpOutcome(f *flow, o *Observation, inTunnel bool) {
	a := &f.app
	switch {
	case a.tls.sni != "":
		o.Host, o.HostSource = a.tls.sni, SourceSNI
		o.Locator = Packet(a.tls.helloN)
	case len(a.hosts) > 0:
		o.Host, o.HostSource = a.hosts[0], SourceHTTP
		o.Method, o.Path = a.method, a.path
		o.Locator = Packet(a.requestN)
	}
	if a.tls.badSNI != "" {
		if o.HostSource == SourceNone {
			o.Locator = Packet(a.tls.helloN)
		}
		o.Detail = appendDetail(o.Detail, "server_name not a host name: "+a.tls.badSNI)
	}
	if a.tls.ech {
		o.ECH = true
		o.Detail = appendDetail(o.Detail, "encrypted client hello: the name is the outer one")
	}
	if cut := snaplenDetail(f, o.HostSource); f.snapN != 0 && cut != "" {
		o.Detail = appendDetail(o.Detail, cut)
	}
	if f.cs.noBuf {
		o.Detail = appendDetail(o.Detail, "not reassembled: too many flows at once")
	}
	d.judgeTCP(f, o)
	if o.Issuer == "" {
		o.Issuer = a.tls.issuer
	}
}

// snaplenDetail says what the snaplen cut of a flow's first client bytes
// took: "" when it took nothing that names the server.
func snaplenDetail(f *flow, source HostSource) string {
	t := &f.app.tls
	cut := fmt.Sprintf("packet %d was cut by the capture's snaplen", f.snapN)
	switch {
	case t.hello || source != SourceNone && t.cutLen == 0:
		return ""
	case source == SourceSNI:
		return fmt.Sprintf("%s: the server name was read from the first %d of the ClientHello's %d bytes", cut, t.cutRead, t.cutLen)
	case t.badSNI != "":
		return fmt.Sprintf("%s after %d of the ClientHello's %d bytes", cut, t.cutRead, t.cutLen)
	case t.cutFixed:
		return fmt.Sprintf("%s after %d of the ClientHello's %d bytes, before any server_name extension", cut, t.cutRead, t.cutLen)
	case t.cutLen != 0:
		return fmt.Sprintf("%s after %d of the ClientHello's %d bytes, before its extensions", cut, t.cutRead, t.cutLen)
	}
	return cut + ": the client's first bytes (TLS server name or HTTP Host) are not in the capture"
}

// judgeTCP sets the outcome of a TCP flow from its handshake, teardown,
// ICMP errors and TLS records.
func (d *decoder) judgeTCP(f *flow, o *Observation) {
	a := &f.app
	t := &a.tls
	switch {
	case f.icmpReason != "" && f.serverPkts == 0:
		o.block(f.icmpReason, f.icmpN, f.icmpDetail)
		return
	case f.syns > 0 && f.synAckN == 0 && f.serverPkts == 0:
		if f.syns > 1 {
			o.block(NoResponse, f.synN, fmt.Sprintf("SYN sent %d times, never answered", f.syns))
		} else {
			o.block(NoResponse, f.synN, "SYN never answered")
		}
		return
	case f.syns > 0 && f.synAckN == 0 && f.rstServer:
		o.block(Reset, f.rstN, "the SYN was answered with a reset")
		return
	}
	if t.hello {
		d.judgeTLS(f, o)
		return
	}
	// A server that completes the handshake and then resets or closes
	// without a byte refuses the connection as surely as one that resets
	// the SYN; a client that closes first, having sent nothing, merely
	// gave up.
	serverFirst := f.closeSeen && !f.closeClient
	switch {
	case f.rstN != 0 && f.ss.bytes == 0 && (f.cs.bytes > 0 || f.rstServer && serverFirst):
		o.block(Reset, f.rstN, resetBy(f)+" before the server sent any data")
	case f.finServer && serverFirst && f.ss.bytes == 0 && f.synAckN != 0:
		o.block(ClosedEarly, f.finN, "closed by the server before it sent any data")
	case f.synAckN != 0 || f.ss.bytes > 0:
		o.Outcome = OutcomeOK
	}
	if a.status != 0 && o.HostSource == SourceHTTP {
		o.Detail = appendDetail(o.Detail, fmt.Sprintf("HTTP status %d", a.status))
		if a.viaProxy {
			proxyOutcome(o, a.status, a.statusN)
		}
	}
}

func resetBy(f *flow) string {
	if f.rstServer {
		return "reset by the server"
	}
	return "reset by the client"
}

// judgeTLS sets the outcome of a flow whose client sent a ClientHello.
func (d *decoder) judgeTLS(f *flow, o *Observation) {
	t := &f.app.tls
	issuerOK := d.issuerExpected(t.issuer)
	switch {
	case t.clientAlert.seen && d.refusedCertificate(t):
		detail := "client alert " + t.clientAlert.String()
		if t.issuer != "" {
			detail += fmt.Sprintf("; certificate issued by %q", t.issuer)
		}
		o.block(TLSInterception, t.clientAlert.n, detail)
	case t.issuer != "" && !issuerOK:
		o.block(TLSInterception, t.certN, fmt.Sprintf("certificate issued by %q, not an issuer the catalog expects", t.issuer))
	case t.serverAlert.seen && t.serverAlert.level == 2 || t.serverAlert.seen && !t.done():
		o.block(TLSAlert, t.serverAlert.n, "server alert "+t.serverAlert.String())
	case t.clientAlert.seen && (t.clientAlert.level == 2 || !t.done()):
		o.block(TLSAlert, t.clientAlert.n, "client alert "+t.clientAlert.String())
	case t.abandoned() && (f.finClient || f.rstN != 0):
		o.block(TLSAlert, t.clientEncN, "the client gave up the TLS 1.3 handshake after the server's certificate: its alert is encrypted, so the capture cannot show the cause (an unknown issuer is the usual one)")
	case t.done():
		o.Outcome = OutcomeOK
	case f.rstN != 0:
		o.block(Reset, f.rstN, resetBy(f)+" before the TLS handshake finished")
	case f.finClient || f.finServer:
		o.block(ClosedEarly, f.finN, "closed before the TLS handshake finished")
	case !t.serverHello && f.ss.bytes == 0 && f.serverAcked:
		// The ClientHello reached the server's TCP, which then kept quiet:
		// a slow server, or a capture that ended, not a drop on the way.
		o.Detail = appendDetail(o.Detail, "no ServerHello: the server acknowledged the ClientHello but never answered it")
	case !t.serverHello && f.ss.bytes == 0 && f.firstSends > 1:
		// Retransmitted without even a TCP acknowledgement: what a
		// firewall that drops on the server name leaves.
		o.block(NoResponse, t.helloN, fmt.Sprintf("no ServerHello: ClientHello sent %d times, never answered", f.firstSends))
	case !t.serverHello && f.ss.bytes == 0:
		o.Detail = appendDetail(o.Detail, "no ServerHello: ClientHello sent once, not answered in the capture")
	case t.serverHello:
		// Neither finished nor refused: the capture ended, or the flow went
		// idle, in the middle of the handshake.
		o.Detail = appendDetail(o.Detail, fmt.Sprintf("ServerHello (%s) seen at packet %d, handshake not finished",
			tlsVersionName(t.version), t.serverHelloN))
	}
}

// refusedCertificate reports whether the client's alert refuses the
// server's certificate: unknown_ca and bad_certificate always do. Java's
// TLS client, which Jira runs on, answers an untrusted issuer with
// certificate_unknown instead, which other clients also send for a name
// mismatch or an expired certificate; it counts only with a certificate
// seen in clear from an issuer the catalog does not name.
func (d *decoder) refusedCertificate(t *tlsInfo) bool {
	switch t.clientAlert.desc {
	case alertUnknownCA, alertBadCertificate:
		return true
	case alertCertificateUnknown:
		return t.issuer != "" && (len(d.cfg.TLSIssuers) == 0 || !d.issuerExpected(t.issuer))
	}
	return false
}

// issuerExpected reports whether issuer is one the configuration expects;
// with no expectations every issuer is.
func (d *decoder) issuerExpected(issuer string) bool {
	if issuer == "" || len(d.cfg.TLSIssuers) == 0 {
		return true
	}
	for _, want := range d.cfg.TLSIssuers {
		if containsFold(issuer, want) {
			return true
		}
	}
	return false
}

// emitConnect emits the proxy request of a CONNECT flow.
func (d *decoder) emitConnect(f *flow) {
	a := &f.app
	o := d.newObservation(f, TCP)
	host, _ := splitHostPort(a.connect)
	o.Host, o.HostSource = host, SourceConnect
	o.Method = "CONNECT"
	o.Locator = Packet(a.requestN)
	throughProxy(f, o)
	if a.status == 0 {
		d.judgeTCP(f, o)
		if o.Outcome == OutcomeOK {
			o.Outcome = OutcomeUnknown
		}
	} else {
		proxyOutcome(o, a.status, a.statusN)
		if o.Outcome == OutcomeUnknown {
			// A CONNECT answered with anything but 2xx did not open.
			o.block(ProxyDenied, a.statusN, fmt.Sprintf("proxy answered %d", a.status))
		}
	}
	d.emitFlow(o)
}

// proxyOutcome judges a proxy's status code: 2xx and 3xx got through,
// 403 is a denial, 407 asks for authentication, 5xx means the proxy could
// not reach the server; other codes leave the outcome unknown.
func proxyOutcome(o *Observation, status int, at int64) {
	detail := fmt.Sprintf("proxy answered %d", status)
	switch {
	case status >= 200 && status < 400:
		o.Outcome = OutcomeOK
	case status == 403:
		o.block(ProxyDenied, at, detail)
	case status == 407:
		o.block(ProxyAuthRequired, at, detail)
	case status >= 500:
		o.block(ProxyError, at, detail)
	default:
		o.Outcome = OutcomeUnknown
	}
}

// throughProxy makes o's server the CONNECT target, as proxy logs give
// it: the target's port, its address unknown; the proxy goes in Detail.
func throughProxy(f *flow, o *Observation) {
	_, port := splitHostPort(f.app.connect)
	if port == 0 {
		port = 443
	}
	o.Server = netip.AddrPortFrom(netip.Addr{}, port)
	o.Detail = appendDetail(o.Detail, "through proxy "+f.server.String())
}

// splitHostPort splits "host:port" or "[v6]:port"; port is 0 when absent.
func splitHostPort(s string) (string, uint16) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String(), ap.Port()
	}
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == ':' {
			var port int
			for _, c := range s[i+1:] {
				if c < '0' || c > '9' || port > 65535 {
					return s, 0
				}
				port = port*10 + int(c-'0')
			}
			if i+1 == len(s) || port > 65535 {
				return s[:i], 0
			}
			return s[:i], uint16(port)
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return s, 0
}
