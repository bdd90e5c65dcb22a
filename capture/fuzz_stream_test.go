package capture

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// checkObservation holds the properties every observation of the packet
// path has, whatever the input: a locator within the packets read, an
// outcome and a reason from the vocabularies, a reason only when blocked,
// and a name without ASCII upper case when it came from a validated
// source.
func checkObservation(t *testing.T, o *Observation, packets int64) {
	t.Helper()
	if o.Locator.N < 1 || o.Locator.N > packets {
		t.Errorf("locator %v outside packets 1..%d", o.Locator, packets)
	}
	switch o.Outcome {
	case OutcomeOK, OutcomeBlocked, OutcomeUnknown:
	default:
		t.Errorf("outcome %q outside the vocabulary", o.Outcome)
	}
	if o.Reason != ReasonNone && !slices.Contains(Reasons, o.Reason) {
		t.Errorf("reason %q outside the vocabulary", o.Reason)
	}
	if o.Outcome != OutcomeBlocked && o.Reason != ReasonNone {
		t.Errorf("reason %q on a %s observation", o.Reason, o.Outcome)
	}
	switch o.HostSource {
	case SourceSNI, SourceQUIC, SourceDNS:
		// DNS labels may hold any byte; only ASCII letters have a case.
		if strings.ContainsFunc(o.Host, func(r rune) bool { return 'A' <= r && r <= 'Z' }) || len(o.Host) > 255 {
			t.Errorf("%s host %q not a lower-case name", o.HostSource, o.Host)
		}
	}
}

// linkTypes are the link layers the reader decodes, and a header that
// carries IPv4 on each.
var linkTypes = []struct {
	lt  layers.LinkType
	hdr []byte
}{
	{layers.LinkTypeEthernet, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}},
	{layers.LinkTypeEthernet, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 6, 0x08, 0x00}},
	{layers.LinkTypeLinuxSLL, []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}},
	{layers.LinkTypeLinuxSLL2, []byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}},
	{layers.LinkTypeRaw, nil},
	{layers.LinkTypeIPv4, nil},
	{layers.LinkTypeNull, []byte{2, 0, 0, 0}},
	{layers.LinkTypeLoop, []byte{0, 0, 0, 2}},
	{layers.LinkTypePPP, []byte{0xff, 0x03, 0x00, 0x21}},
	{layers.LinkTypeIEEE80211Radio, []byte{0, 0, 8, 0, 0, 0, 0, 0, 0x08, 0x02, 0, 0, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 0, 0, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}},
	{layers.LinkTypeIEEE802_11, []byte{0x08, 0x02, 0, 0, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 0, 0, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}},
	{239, []byte{2, 0, 0, 0}}, // NFLOG: family, version, resource id; the payload TLV follows
}

// FuzzLinkLayer decodes one frame of any link type three times (so that
// the flow and fragment state is exercised), seeded with a TCP SYN, a TLS
// ClientHello segment and a DNS query under every link layer the reader
// knows: it must not panic, every packet is parsed or skipped, and every
// observation holds the packet path's properties.
func FuzzLinkLayer(f *testing.F) {
	c := newCap(f)
	k := c.conn(labClient, labServer)
	k.syn()
	k.handshake()
	k.client(transcripts(f)["tls13_ok"][0].data)
	c.udp(labClient, labResolver, dnsQueryMsg(7, apiHost))
	for _, fr := range c.frames {
		ip := fr.data[14:]
		for _, l := range linkTypes {
			hdr := append([]byte(nil), l.hdr...)
			if l.lt == 239 {
				hdr = binary.LittleEndian.AppendUint16(hdr, uint16(4+len(ip)))
				hdr = binary.LittleEndian.AppendUint16(hdr, 9) // NFULA_PAYLOAD
			}
			f.Add(uint16(l.lt), append(hdr, ip...))
		}
	}
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte) {
		st := &Stats{}
		d := newDecoder("fuzz", &Config{MaxFlows: 16}, st, func(o *Observation) { checkObservation(t, o, 3) })
		for i := range 3 {
			d.packet(layers.LinkType(lt), frame, len(frame), len(frame)+i, labEpoch)
		}
		d.finish()
		if st.Records+st.SkippedTotal() != 3 {
			t.Errorf("%d parsed + %v skipped, want 3 packets accounted for", st.Records, st.Skipped)
		}
	})
}

// streamPorts are the server ports FuzzTCPStream picks from: TLS, HTTP,
// a proxy, DNS over TCP.
var streamPorts = []uint16{443, 80, 3128, 53, 8443}

// tcpPacket builds a raw IPv4 TCP segment by hand (the reader does not
// check checksums).
func tcpPacket(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags uint8, payload []byte) []byte {
	b := ipv4Header(nil, src, dst, 6, 20+len(payload))
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0)
	return append(b, payload...)
}

// FuzzTCPStream runs one TCP connection whose client sends client (in two
// segments) and whose server answers server, to a port chosen by port:
// the TLS record layer of both sides (ClientHello across records, alerts,
// ServerHello, certificates), HTTP request lines and headers, status lines
// and CONNECT answers, and DNS over TCP. Seeds are real TLS transcripts,
// HTTP and proxy exchanges and a TLS alert. It must not panic, must count
// every packet and must emit observations with the packet path's
// properties.
func FuzzTCPStream(f *testing.F) {
	tr := transcripts(f)
	for _, name := range []string{"tls13_ok", "tls12_intercept"} {
		var cli, srv []byte
		for _, ch := range tr[name][:2] {
			if ch.fromClient {
				cli = append(cli, ch.data...)
			} else {
				srv = append(srv, ch.data...)
			}
		}
		f.Add(uint8(0), cli, srv)
		f.Add(uint8(0), cli, []byte{21, 3, 3, 0, 2, 2, 40}) // handshake_failure alert
	}
	f.Add(uint8(1), []byte("GET /api/v1/okrs?x=1 HTTP/1.1\r\nHost: App.Gtmhub.com\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\nHost: b.example\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	f.Add(uint8(2), []byte("CONNECT auth.gtmhub.com:443 HTTP/1.1\r\nHost: auth.gtmhub.com:443\r\n\r\n"), []byte("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"))
	f.Add(uint8(2), append([]byte("CONNECT app.gtmhub.com:443 HTTP/1.1\r\n\r\n"), tr["tls13_ok"][0].data...), []byte("HTTP/1.1 200 Connection established\r\n\r\n\x15\x03\x03\x00\x02\x02\x30"))
	q := dnsQueryMsg(9, apiHost)
	a := dnsAnswerMsg(9, apiHost, layers.DNSResponseCodeNoErr, "203.0.113.5")
	f.Add(uint8(3), append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...), append(binary.BigEndian.AppendUint16(nil, uint16(len(a))), a...))
	cli, srv := [4]byte{192, 0, 2, 10}, [4]byte{203, 0, 113, 5}
	f.Fuzz(func(t *testing.T, port uint8, client, server []byte) {
		if len(client) > 64<<10 || len(server) > 64<<10 {
			return
		}
		dport := streamPorts[int(port)%len(streamPorts)]
		cs, ss := uint32(1000), uint32(5000)
		half := len(client) / 2
		pkts := [][]byte{
			tcpPacket(cli, srv, 40000, dport, cs, 0, tcpSYN, nil),
			tcpPacket(srv, cli, dport, 40000, ss, cs+1, tcpSYN|tcpACK, nil),
			tcpPacket(cli, srv, 40000, dport, cs+1, ss+1, tcpACK, client[:half]),
			tcpPacket(cli, srv, 40000, dport, cs+1+uint32(half), ss+1, tcpACK, client[half:]),
			tcpPacket(srv, cli, dport, 40000, ss+1, cs+1+uint32(len(client)), tcpACK, server),
			tcpPacket(cli, srv, 40000, dport, cs+1+uint32(len(client)), ss+1+uint32(len(server)), tcpFIN|tcpACK, nil),
		}
		st := &Stats{}
		d := newDecoder("fuzz", &Config{TLSIssuers: []string{"Test Public CA"}}, st, func(o *Observation) {
			checkObservation(t, o, int64(len(pkts)))
		})
		for i, p := range pkts {
			d.packet(layers.LinkTypeRaw, p, len(p), len(p), labEpoch.Add(time.Duration(i)*8*time.Millisecond))
		}
		d.finish()
		if st.Records+st.SkippedTotal() != int64(len(pkts)) {
			t.Errorf("%d parsed + %v skipped, want %d packets accounted for", st.Records, st.Skipped, len(pkts))
		}
	})
}
