package capture

import (
	"crypto/tls"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestQUICInitialUnread reads QUIC attempts whose client Initial the
// tracker cannot read: cut by the snaplen, or protected with keys of
// another connection ID. Each such Initial is skipped with its reason, and
// the attempt is still reported, with the server's answer and a note.
func TestQUICInitialUnread(t *testing.T) {
	dcid := unhex("0123456789abcdef")
	scid := unhex("c1c1c1c1")
	srvID := unhex("5e5e5e5e5e5e")
	hello := goClientHello(t, &tls.Config{ServerName: apiHost, NextProtos: []string{"h3"},
		CurvePreferences: []tls.CurveID{tls.X25519}})
	// RFC 9000, Section 14.1: the client pads its Initial to 1200 bytes.
	initial := testPacket{version: QUICv1, typ: quicInitial, dcid: dcid, scid: scid,
		frames: cat(cryptoFrame(0, hello), make([]byte, 1200))}.seal()
	wrongKeys := testPacket{version: QUICv1, typ: quicInitial, dcid: dcid, scid: scid,
		keyDCID: unhex("ffffffffffffffff"), frames: cat(cryptoFrame(0, hello), make([]byte, 1200))}.seal()
	serverInitial := testPacket{version: QUICv1, typ: quicInitial, dcid: scid, scid: srvID,
		keyDCID: dcid, server: true, frames: ackFrame}.seal()
	const cutAt = 14 + 20 + 8 + 200 // Ethernet, IPv4, UDP, then 200 bytes of QUIC

	type step struct {
		fromServer bool
		b          []byte
		capLen     int
	}
	cases := []struct {
		name    string
		port    uint16
		dns     bool // a DNS answer names the server first
		steps   []step
		want    want
		skipped map[string]int64
	}{
		{"whole_initial", 443, false, []step{{false, initial, 0}, {true, serverInitial, 0}},
			want{kind: Connection, host: apiHost, source: SourceQUIC, outcome: OutcomeOK, packet: 1}, nil},
		{"cut_answered", 443, false, []step{{false, initial, cutAt}, {true, serverInitial, 0}},
			want{kind: Connection, outcome: OutcomeOK, packet: 1,
				detail: "packet 1, the client's QUIC Initial, was cut by the capture's snaplen"},
			map[string]int64{skipQUICCut: 1}},
		{"cut_twice_unanswered", 443, false, []step{{false, initial, cutAt}, {false, initial, cutAt}},
			want{kind: Connection, outcome: OutcomeBlocked, reason: NoResponse, packet: 1,
				detail: "no datagram came back from the server; packet 1, the client's QUIC Initial, was cut"},
			map[string]int64{skipQUICCut: 2}},
		{"cut_other_port_named_by_dns", 4433, true, []step{{false, initial, cutAt}, {true, serverInitial, 0}},
			want{kind: Connection, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 3,
				detail: "was cut by the capture's snaplen"},
			map[string]int64{skipQUICCut: 1}},
		{"does_not_decrypt", 443, false, []step{{false, wrongKeys, 0}, {true, serverInitial, 0}},
			want{kind: Connection, outcome: OutcomeOK, packet: 1,
				detail: "packet 1, the client's QUIC Initial, does not decrypt"},
			map[string]int64{skipQUICUnread: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCap(t)
			server := netipPort(labServer, tc.port)
			if tc.dns {
				c.udp(labClient, labResolver, dnsQueryMsg(3, apiHost))
				c.udp(labResolver, labClient, dnsAnswerMsg(3, apiHost, layers.DNSResponseCodeNoErr, server.Addr().String()))
			}
			for _, s := range tc.steps {
				if s.fromServer {
					c.udp(server, labClient, s.b)
				} else {
					c.udp(labClient, server, s.b)
				}
				c.frames[len(c.frames)-1].capLen = s.capLen
			}
			obs, st := readAll(t, c.pcap(), nil)
			var conns []Observation
			for _, o := range obs {
				if o.Kind == Connection {
					conns = append(conns, o)
				}
			}
			if len(conns) != 1 {
				t.Fatalf("got %d connections, want 1: %v", len(conns), conns)
			}
			if !matches(conns[0], tc.want) {
				t.Errorf("got %v detail %q, want %v detail ~%q", summary(conns[0]), conns[0].Detail, tc.want, tc.want.detail)
			}
			if got := st.Records + st.SkippedTotal() + st.Failed; got != int64(len(c.frames)) {
				t.Errorf("counted %d packets, wrote %d", got, len(c.frames))
			}
			if len(tc.skipped) == 0 && st.SkippedTotal() != 0 {
				t.Errorf("skipped %v, want none", st.Skipped)
			}
			for reason, n := range tc.skipped {
				if st.Skipped[reason] != n {
					t.Errorf("skipped %q = %d, want %d (all: %v)", reason, st.Skipped[reason], n, st.Skipped)
				}
			}
		})
	}
}
