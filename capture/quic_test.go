package capture

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// RFC 9001, Appendix A.2: the client Initial of the RFC's sample handshake
// (Destination Connection ID 8394c8f03e515708, packet number 2, a
// ClientHello for example.com offering ALPN "alpn"), padded to 1200 bytes.
var rfc9001ClientInitial = unhex(
	"c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11" +
		"d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399" +
		"1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c" +
		"8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212" +
		"30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5" +
		"457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208" +
		"4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec" +
		"4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3" +
		"485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db" +
		"059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c" +
		"7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8" +
		"9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556" +
		"be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74" +
		"68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a" +
		"c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00" +
		"f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632" +
		"291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964" +
		"25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd" +
		"14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff" +
		"ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198" +
		"e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd" +
		"c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73" +
		"203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f" +
		"cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e" +
		"fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade" +
		"a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047" +
		"90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2" +
		"162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4" +
		"40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0" +
		"6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e" +
		"8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0" +
		"be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400" +
		"54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab" +
		"760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9" +
		"f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4" +
		"056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064" +
		"7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241" +
		"e221af44860018ab0856972e194cd934")

// RFC 9001, Appendix A.3: the server's Initial answer (a ServerHello and
// an ACK), sent to the client's empty connection ID.
var rfc9001ServerInitial = unhex(
	"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a" +
		"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3" +
		"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84" +
		"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4" +
		"2158407dd074ee")

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestInitialSecrets(t *testing.T) {
	dcid := unhex("8394c8f03e515708")
	tests := []struct {
		name        string
		version     uint32
		server      bool
		key, iv, hp string
	}{
		// RFC 9001, Appendix A.1.
		{"v1_client", QUICv1, false,
			"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{"v1_server", QUICv1, true,
			"cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		// RFC 9369, Appendix A.1.
		{"v2_client", QUICv2, false,
			"8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, iv, hp := initialSecrets(tc.version, dcid, tc.server)
			got := hex.EncodeToString(key) + " " + hex.EncodeToString(iv) + " " + hex.EncodeToString(hp)
			want := tc.key + " " + tc.iv + " " + tc.hp
			if got != want {
				t.Errorf("initialSecrets(%s) = %s, want %s", tc.name, got, want)
			}
		})
	}
	if key, _, _ := initialSecrets(0x51303530, dcid, false); key != nil {
		t.Errorf("initialSecrets(Q050) = %x, want nil", key)
	}
}

func TestParseQUICInitialRFC9001(t *testing.T) {
	got, err := ParseQUICInitial(rfc9001ClientInitial)
	if err != nil {
		t.Fatalf("ParseQUICInitial(rfc9001) error %v", err)
	}
	want := ClientHello{ServerName: "example.com", ALPN: []string{"alpn"},
		SupportedVersions: []uint16{0x0304}}
	if !sameHello(got, want) {
		t.Errorf("ParseQUICInitial(rfc9001) = %+v, want %+v", got, want)
	}
	orig := slices.Clone(rfc9001ClientInitial)
	if _, _ = ParseQUICInitial(rfc9001ClientInitial); !bytes.Equal(orig, rfc9001ClientInitial) {
		t.Errorf("ParseQUICInitial modified its input")
	}
	// Every strict prefix fails cleanly.
	for i := range len(rfc9001ClientInitial) {
		if h, err := ParseQUICInitial(rfc9001ClientInitial[:i]); err == nil {
			t.Fatalf("ParseQUICInitial(rfc9001[:%d]) = %+v, want an error", i, h)
		}
	}
	// The server's Initial is not a client's.
	if _, err := ParseQUICInitial(rfc9001ServerInitial); err == nil {
		t.Errorf("ParseQUICInitial(server initial) succeeded")
	}
}

// Test addresses: a client and a server in the documentation ranges.
var (
	testClient = netip.MustParseAddrPort("192.0.2.10:50000")
	testServer = netip.MustParseAddrPort("203.0.113.5:443")
)

// testPacket is a long header packet to seal for a test.
type testPacket struct {
	version    uint32
	typ        quicPacketType // version 1 numbering
	dcid, scid []byte
	keyDCID    []byte // the connection ID the keys come from; dcid when nil
	server     bool
	pn         uint64
	pnLen      int
	frames     []byte
}

// seal protects p as RFC 9001, Section 5 says (with Initial keys, also for
// the other packet types: nothing decrypts those).
func (p testPacket) seal() []byte {
	if p.pnLen == 0 {
		p.pnLen = 2
	}
	for len(p.frames)+p.pnLen < 4 {
		p.frames = append(p.frames, 0) // PADDING, so there is a sample
	}
	keyDCID := p.keyDCID
	if keyDCID == nil {
		keyDCID = p.dcid
	}
	k, err := newInitialKeys(p.version, keyDCID, p.server)
	if err != nil {
		panic(err)
	}
	typ := byte(p.typ)
	if p.version == QUICv2 {
		typ = (typ + 1) & 3
	}
	b := []byte{0xc0 | typ<<4 | byte(p.pnLen-1)}
	b = append(b, byte(p.version>>24), byte(p.version>>16), byte(p.version>>8), byte(p.version))
	b = append(b, byte(len(p.dcid)))
	b = append(b, p.dcid...)
	b = append(b, byte(len(p.scid)))
	b = append(b, p.scid...)
	if p.typ == quicInitial {
		b = append(b, 0) // no token
	}
	n := p.pnLen + len(p.frames) + 16
	b = append(b, 0x40|byte(n>>8), byte(n)) // Length, 2-byte varint
	pnOffset := len(b)
	for i := p.pnLen - 1; i >= 0; i-- {
		b = append(b, byte(p.pn>>(8*i)))
	}
	nonce := k.iv
	for i := range 8 {
		nonce[11-i] ^= byte(p.pn >> (8 * i))
	}
	b = k.aead.Seal(b, nonce[:], p.frames, b)
	var mask [16]byte
	k.hp.Encrypt(mask[:], b[pnOffset+4:pnOffset+20])
	b[0] ^= mask[0] & 0x0f
	for i := range p.pnLen {
		b[pnOffset+i] ^= mask[1+i]
	}
	return b
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	default:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// cryptoFrame returns a CRYPTO frame carrying data at offset.
func cryptoFrame(offset int, data []byte) []byte {
	b := appendVarint([]byte{0x06}, uint64(offset))
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// ackFrame is an ACK of packet 0 with one ECN count block.
var ackFrame = []byte{
	0x03,             // ACK with ECN counts
	0x00,             // Largest Acknowledged
	0x0a,             // ACK Delay
	0x00,             // ACK Range Count
	0x00,             // First ACK Range
	0x01, 0x00, 0x00, // ECT0, ECT1, ECN-CE counts
}

// closeFrame is a CONNECTION_CLOSE with a TLS handshake_failure alert.
var closeFrame = []byte{
	0x1c,       // CONNECTION_CLOSE (transport)
	0x41, 0x28, // Error Code: 0x128, CRYPTO_ERROR with alert 40
	0x06, // Frame Type: CRYPTO
	0x04, // Reason Phrase Length
	'n', 'o', 'p', 'e',
}

// cat joins byte slices into a datagram.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// dgram is one datagram of a tracker test.
type dgram struct {
	fromServer bool
	b          []byte
	icmp       bool // an ICMP prohibited quoting the client's datagram
}

func TestQUICTracker(t *testing.T) {
	dcid := unhex("0123456789abcdef")
	dcid2 := unhex("fedcba9876543210aa")
	scid := unhex("c1c1c1c1")
	srvID := unhex("5e5e5e5e5e5e")
	hello := goClientHello(t, &tls.Config{ServerName: "App.Gtmhub.com", NextProtos: []string{"h3"}})
	echHello := helloWith(extSNIOneDot, extECHOuter)
	h1, h2, h3 := hello[:300], hello[300:900], hello[900:]
	client := func(v uint32, pn uint64, frames ...[]byte) []byte {
		return testPacket{version: v, typ: quicInitial, dcid: dcid, scid: scid, pn: pn,
			frames: cat(frames...)}.seal()
	}
	server := func(v uint32, typ quicPacketType, frames ...[]byte) []byte {
		return testPacket{version: v, typ: typ, dcid: scid, scid: srvID, keyDCID: dcid,
			server: true, frames: cat(frames...)}.seal()
	}
	padding := make([]byte, 40)

	tests := []struct {
		name    string
		dgrams  []dgram
		host    string
		helloOK bool
		ech     bool
		outcome Outcome
		reason  Reason
		detail  string // a substring of the observation's detail
	}{
		{
			name:    "v1_one_packet_no_answer",
			dgrams:  []dgram{{b: client(QUICv1, 0, cryptoFrame(0, hello), padding)}},
			host:    "app.gtmhub.com",
			helloOK: true,
			outcome: OutcomeBlocked, reason: NoResponse, detail: "1 QUIC Initial packets, no answer",
		},
		{
			name: "v2_two_datagrams_answered",
			dgrams: []dgram{
				{b: client(QUICv2, 0, cryptoFrame(0, hello[:700]))},
				{b: client(QUICv2, 1, cryptoFrame(700, hello[700:]))},
				{fromServer: true, b: cat(server(QUICv2, quicInitial, ackFrame), server(QUICv2, quicHandshake, padding))},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeOK,
		},
		{
			name: "draft29_coalesced_out_of_order",
			dgrams: []dgram{{b: cat(
				client(quicDraft29, 0, []byte{0x01}, cryptoFrame(900, h3), padding),
				client(quicDraft29, 1, cryptoFrame(300, h2), []byte{0x00, 0x01}),
				client(quicDraft29, 2, padding, cryptoFrame(0, h1)),
				make([]byte, 25), // zero padding after the packets
			)}},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeBlocked, reason: NoResponse,
		},
		{
			name: "overlapping_and_repeated_crypto",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello[:500]), cryptoFrame(200, hello[200:800]))},
				{b: client(QUICv1, 0, cryptoFrame(0, hello[:500]))}, // a retransmission
				{b: client(QUICv1, 1, cryptoFrame(700, hello[700:]))},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeBlocked, reason: NoResponse,
		},
		{
			name: "incomplete_hello",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello[:700]))},
			},
			outcome: OutcomeBlocked, reason: NoResponse, detail: "client hello incomplete",
		},
		{
			name: "server_tls_alert",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello))},
				{fromServer: true, b: server(QUICv1, quicInitial, closeFrame)},
			},
			host: "app.gtmhub.com", helloOK: true,
			outcome: OutcomeBlocked, reason: TLSAlert, detail: "TLS alert 40",
		},
		{
			name: "version_negotiation",
			dgrams: []dgram{
				{b: client(QUICv2, 0, cryptoFrame(0, hello))},
				{fromServer: true, b: cat(
					[]byte{0x80},                   // long header, no fixed bit needed
					[]byte{0x00, 0x00, 0x00, 0x00}, // Version 0: negotiation
					[]byte{0x04}, scid,             // DCID: the client's SCID
					[]byte{0x08}, dcid[:8], // SCID: the client's DCID
					[]byte{0x00, 0x00, 0x00, 0x01}, // supported: version 1
					[]byte{0xff, 0x00, 0x00, 0x1d}, // supported: draft-29
				)},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeUnknown,
			detail: "offers 0x00000001 0xff00001d",
		},
		{
			name: "version_negotiation_then_v1",
			dgrams: []dgram{
				{b: client(QUICv2, 0, cryptoFrame(0, hello))},
				{fromServer: true, b: cat([]byte{0xc0, 0, 0, 0, 0, 4}, scid, []byte{8}, dcid[:8], []byte{0, 0, 0, 1})},
				{b: client(QUICv1, 0, cryptoFrame(0, hello))},
				{fromServer: true, b: server(QUICv1, quicInitial, ackFrame)},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeOK,
		},
		{
			name: "retry_then_new_keys",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello[:400]))},
				{fromServer: true, b: cat([]byte{0xf0, 0, 0, 0, 1, 4}, scid, []byte{9}, dcid2,
					[]byte("token"), make([]byte, 16))}, // Retry: token and integrity tag
				{b: testPacket{version: QUICv1, typ: quicInitial, dcid: dcid2, scid: scid,
					frames: cryptoFrame(0, hello)}.seal()},
				{fromServer: true, b: testPacket{version: QUICv1, typ: quicInitial, dcid: scid,
					scid: srvID, keyDCID: dcid2, server: true, frames: ackFrame}.seal()},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeOK,
		},
		{
			name: "stateless_reset",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello))},
				{fromServer: true, b: cat([]byte{0x4f}, bytes.Repeat([]byte{0x5a}, 40))},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeBlocked, reason: Reset,
			detail: "stateless reset",
		},
		{
			name: "client_1rtt_after_handshake",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello))},
				{fromServer: true, b: server(QUICv1, quicHandshake, padding)},
				{fromServer: true, b: cat([]byte{0x4f}, bytes.Repeat([]byte{0x5a}, 40))},
				{b: cat([]byte{0x41}, bytes.Repeat([]byte{0x11}, 40))},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeOK,
		},
		{
			name: "ech_outer_name",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, echHello))},
				{fromServer: true, b: server(QUICv1, quicInitial, ackFrame)},
			},
			host: "app.gtmhub", helloOK: true, ech: true, outcome: OutcomeOK,
			detail: "encrypted_client_hello",
		},
		{
			name: "icmp_prohibited",
			dgrams: []dgram{
				{b: client(QUICv1, 0, cryptoFrame(0, hello)), icmp: true},
			},
			host: "app.gtmhub.com", helloOK: true, outcome: OutcomeBlocked, reason: ICMPProhibited,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var done []*QUICConn
			tr := NewQUICTracker(QUICOptions{Done: func(c *QUICConn) { done = append(done, c) }})
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for i, d := range tc.dgrams {
				src, dst := testClient, testServer
				if d.fromServer {
					src, dst = dst, src
				}
				kind, err := tr.Datagram(src, dst, d.b, at.Add(time.Duration(i)*time.Millisecond), Packet(int64(i+1)))
				if kind != QUICUsed || err != nil {
					t.Fatalf("Datagram(%d) = %v, %v, want QUICUsed", i+1, kind, err)
				}
				if d.icmp && !tr.ICMP(testClient, testServer, true, Packet(int64(i+100))) {
					t.Fatalf("ICMP did not match the connection")
				}
			}
			tr.Flush()
			if len(done) != 1 {
				t.Fatalf("Flush gave %d connections, want 1", len(done))
			}
			c := done[0]
			o := c.Observation()
			if (c.HelloErr == nil) != tc.helloOK {
				t.Errorf("HelloErr = %v, want ok=%v", c.HelloErr, tc.helloOK)
			}
			if o.Host != tc.host || o.ECH != tc.ech || o.Outcome != tc.outcome || o.Reason != tc.reason {
				t.Errorf("Observation() = host %q ech %v %s %q, want %q %v %s %q (detail %q)",
					o.Host, o.ECH, o.Outcome, o.Reason, tc.host, tc.ech, tc.outcome, tc.reason, o.Detail)
			}
			if !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("Observation().Detail = %q, want it to contain %q", o.Detail, tc.detail)
			}
			if o.Transport != QUIC || o.Client != testClient || o.Server != testServer {
				t.Errorf("Observation() = %s %v -> %v, want quic %v -> %v",
					o.Transport, o.Client, o.Server, testClient, testServer)
			}
			if tc.host != "" && o.HostSource != SourceQUIC {
				t.Errorf("Observation().HostSource = %q, want quic", o.HostSource)
			}
		})
	}
}

// TestQUICTrackerSameAddresses checks that a second connection from the
// same socket to the same server is reported apart, while the first one's
// later Initials (to the server's connection ID) stay with it.
func TestQUICTrackerSameAddresses(t *testing.T) {
	dcidA, dcidB := unhex("0a0a0a0a0a0a0a0a"), unhex("0b0b0b0b0b0b0b0b")
	scid, srvID := unhex("c1c1"), unhex("5e5e5e5e")
	helloA := goClientHello(t, &tls.Config{ServerName: "app.gtmhub.com"})
	helloB := goClientHello(t, &tls.Config{ServerName: "auth.gtmhub.com"})
	dgrams := []dgram{
		{b: testPacket{version: QUICv1, typ: quicInitial, dcid: dcidA, scid: scid,
			frames: cryptoFrame(0, helloA)}.seal()},
		{fromServer: true, b: testPacket{version: QUICv1, typ: quicInitial, dcid: scid, scid: srvID,
			keyDCID: dcidA, server: true, frames: ackFrame}.seal()},
		{b: testPacket{version: QUICv1, typ: quicInitial, dcid: srvID, scid: scid, keyDCID: dcidA,
			pn: 1, frames: ackFrame}.seal()},
		{b: testPacket{version: QUICv1, typ: quicInitial, dcid: dcidB, scid: scid,
			frames: cryptoFrame(0, helloB)}.seal()},
	}
	var done []*QUICConn
	tr := NewQUICTracker(QUICOptions{Done: func(c *QUICConn) { done = append(done, c) }})
	at := time.Unix(1700000000, 0)
	for i, d := range dgrams {
		src, dst := testClient, testServer
		if d.fromServer {
			src, dst = dst, src
		}
		if k, err := tr.Datagram(src, dst, d.b, at, Packet(int64(i+1))); k != QUICUsed || err != nil {
			t.Fatalf("Datagram(%d) = %v, %v", i+1, k, err)
		}
	}
	tr.Flush()
	if len(done) != 2 {
		t.Fatalf("%d connections, want 2", len(done))
	}
	a, b := done[0].Observation(), done[1].Observation()
	if a.Host != "app.gtmhub.com" || a.Outcome != OutcomeOK || done[0].ClientInitials != 2 ||
		b.Host != "auth.gtmhub.com" || b.Outcome != OutcomeBlocked || b.Locator != Packet(4) {
		t.Errorf("connections %q %s (%d initials), %q %s at %s; want app.gtmhub.com ok (2), auth.gtmhub.com blocked at packet 4",
			a.Host, a.Outcome, done[0].ClientInitials, b.Host, b.Outcome, b.Locator)
	}
}

func TestQUICTrackerRFC9001(t *testing.T) {
	var done []*QUICConn
	tr := NewQUICTracker(QUICOptions{Done: func(c *QUICConn) { done = append(done, c) }})
	at := time.Unix(1700000000, 0)
	if k, err := tr.Datagram(testClient, testServer, rfc9001ClientInitial, at, Packet(1)); k != QUICUsed || err != nil {
		t.Fatalf("Datagram(client initial) = %v, %v", k, err)
	}
	if k, err := tr.Datagram(testServer, testClient, rfc9001ServerInitial, at, Packet(2)); k != QUICUsed || err != nil {
		t.Fatalf("Datagram(server initial) = %v, %v", k, err)
	}
	tr.Flush()
	if len(done) != 1 {
		t.Fatalf("got %d connections, want 1", len(done))
	}
	c := done[0]
	if c.Hello.ServerName != "example.com" || !c.ServerInitial || c.Close != nil ||
		c.HelloPacket != Packet(1) || c.ServerPacket != Packet(2) {
		t.Errorf("connection = %+v", c)
	}
}

func TestQUICTrackerRejects(t *testing.T) {
	tr := NewQUICTracker(QUICOptions{})
	at := time.Unix(1700000000, 0)
	dns := unhex("abcd01000001000000000000036170700667746d68756203636f6d0000010001")
	tests := []struct {
		name    string
		b       []byte
		want    QUICDatagram
		wantErr error
	}{
		{"dns_query", dns, QUICNone, nil},
		{"empty", nil, QUICNone, nil},
		{"short_header_unknown_flow", cat([]byte{0x40}, dns), QUICNone, nil},
		{"gquic_q050", cat([]byte{0xc3}, []byte("Q050"), dns), QUICNone, nil},
		{"server_initial_unseen", rfc9001ServerInitial, QUICUnmatched, nil},
		{"client_initial_cut", rfc9001ClientInitial[:600], QUICUnmatched, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tr.Datagram(testClient, testServer, tc.b, at, Packet(1))
			if got != tc.want || (tc.wantErr == nil) != (err == nil) || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Datagram(%s) = %v, %v, want %v, %v", tc.name, got, err, tc.want, tc.wantErr)
			}
		})
	}
	if tr.Len() != 0 {
		t.Errorf("tracker follows %d connections, want 0", tr.Len())
	}
}

func TestQUICTrackerBounds(t *testing.T) {
	var done []*QUICConn
	tr := NewQUICTracker(QUICOptions{MaxConns: 2, Idle: time.Minute,
		Done: func(c *QUICConn) { done = append(done, c) }})
	at := time.Unix(1700000000, 0)
	for i := range 3 {
		src := netip.AddrPortFrom(testClient.Addr(), uint16(40000+i))
		k, err := tr.Datagram(src, testServer, rfc9001ClientInitial, at, Packet(int64(i+1)))
		if i < 2 && (k != QUICUsed || err != nil) || i == 2 && k != QUICUnmatched {
			t.Fatalf("Datagram(%d) = %v, %v", i+1, k, err)
		}
	}
	if tr.Dropped != 1 || tr.Len() != 2 {
		t.Fatalf("Dropped = %d, Len = %d, want 1, 2", tr.Dropped, tr.Len())
	}
	// Past the idle time both are finished, and a new one fits.
	src := netip.AddrPortFrom(testClient.Addr(), 40009)
	if k, err := tr.Datagram(src, testServer, rfc9001ClientInitial, at.Add(2*time.Minute), Packet(9)); k != QUICUsed || err != nil {
		t.Fatalf("Datagram after idle = %v, %v", k, err)
	}
	if len(done) != 2 || done[0].FirstPacket != Packet(1) || done[1].FirstPacket != Packet(2) {
		t.Fatalf("finished %d connections, want packets 1 and 2 in order", len(done))
	}
}

// TestQUICTrackerAllocs pins the cost of datagrams that are not QUIC.
func TestQUICTrackerAllocs(t *testing.T) {
	tr := NewQUICTracker(QUICOptions{})
	at := time.Unix(1700000000, 0)
	tr.Datagram(testClient, testServer, rfc9001ClientInitial, at, Packet(1))
	dns := unhex("abcd01000001000000000000036170700667746d687562")
	if n := testing.AllocsPerRun(100, func() {
		tr.Datagram(testClient, testServer, dns, at, Packet(2))
		tr.Datagram(testClient, testServer, cat([]byte{0x45}, dns), at, Packet(3))
	}); n != 1 { // the cat above
		t.Errorf("non-QUIC datagrams allocate %v times, want 0", n-1)
	}
}

func FuzzParseQUICInitial(f *testing.F) {
	f.Add(rfc9001ClientInitial)
	f.Add(rfc9001ServerInitial)
	hello := helloTLS13
	for _, v := range []uint32{QUICv1, QUICv2, quicDraft29} {
		f.Add(testPacket{version: v, typ: quicInitial, dcid: []byte{1, 2, 3, 4, 5, 6, 7, 8},
			frames: cat(ackFrame, cryptoFrame(0, hello), closeFrame)}.seal())
		f.Add(cat(
			testPacket{version: v, typ: quicInitial, dcid: []byte{9}, frames: cryptoFrame(50, hello[50:])}.seal(),
			testPacket{version: v, typ: quicInitial, dcid: []byte{9}, pn: 1, frames: cryptoFrame(0, hello[:50])}.seal()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := slices.Clone(b)
		h, err := ParseQUICInitial(b)
		if !bytes.Equal(orig, b) {
			t.Fatalf("ParseQUICInitial modified its input")
		}
		if err == nil && h.ServerName != "" {
			if n, err := hostName([]byte(h.ServerName)); err != nil || n != h.ServerName {
				t.Fatalf("ServerName %q is not a lower-case host name", h.ServerName)
			}
		}
		// The tracker reads the same bytes from both sides without panic.
		tr := NewQUICTracker(QUICOptions{MaxConns: 4})
		at := time.Unix(1700000000, 0)
		tr.Datagram(testClient, testServer, b, at, Packet(1))
		tr.Datagram(testServer, testClient, b, at, Packet(2))
		tr.Datagram(testClient, testServer, b, at, Packet(3))
		tr.Flush()
		if !bytes.Equal(orig, b) {
			t.Fatalf("QUICTracker.Datagram modified its input")
		}
	})
}

// FuzzQUICInitialPayload seals its input as the payload of client and
// server Initial packets, so that the frame parser and the reassembly see
// inputs that decrypt.
func FuzzQUICInitialPayload(f *testing.F) {
	f.Add(cat(ackFrame, cryptoFrame(0, helloTLS13), closeFrame), uint8(0))
	f.Add(cat(cryptoFrame(40, helloTLS13[40:]), []byte{0x01}, cryptoFrame(0, helloTLS13[:40])), uint8(1))
	f.Add(cat(cryptoFrame(0, helloTLS13[:10]), cryptoFrame(5, helloTLS13[5:])), uint8(2))
	f.Fuzz(func(t *testing.T, frames []byte, split uint8) {
		if len(frames) > 8000 {
			return // the test sealer writes 2-byte lengths
		}
		dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		cut := int(split) % (len(frames) + 1)
		at := time.Unix(1700000000, 0)
		tr := NewQUICTracker(QUICOptions{Done: func(c *QUICConn) {
			if c.HelloErr == nil && c.Hello.ServerName != "" {
				if n, err := hostName([]byte(c.Hello.ServerName)); err != nil || n != c.Hello.ServerName {
					t.Fatalf("ServerName %q is not a lower-case host name", c.Hello.ServerName)
				}
			}
			_ = c.Observation()
		}})
		for i, part := range [][]byte{frames[:cut], frames[cut:]} {
			b := testPacket{version: QUICv1, typ: quicInitial, dcid: dcid, pn: uint64(i),
				frames: slices.Clone(part)}.seal()
			tr.Datagram(testClient, testServer, b, at, Packet(int64(2*i+1)))
			b = testPacket{version: QUICv1, typ: quicInitial, dcid: nil, keyDCID: dcid,
				server: true, pn: uint64(i), frames: slices.Clone(part)}.seal()
			tr.Datagram(testServer, testClient, b, at, Packet(int64(2*i+2)))
		}
		tr.Flush()
	})
}

func BenchmarkQUICTracker(b *testing.B) {
	dns := unhex("abcd01000001000000000000036170700667746d687562")
	at := time.Unix(1700000000, 0)
	busy := NewQUICTracker(QUICOptions{})
	for i := range 1000 {
		src := netip.AddrPortFrom(testClient.Addr(), uint16(20000+i))
		busy.Datagram(src, testServer, rfc9001ClientInitial, at, Packet(int64(i+1)))
	}
	cases := []struct {
		name string
		tr   *QUICTracker
		b    []byte
	}{
		{"not_quic_dns", NewQUICTracker(QUICOptions{}), dns},
		{"not_quic_dns_1000_conns", busy, dns},
		{"short_header_other_port_1000_conns", busy, cat([]byte{0x45}, dns)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.b)))
			src, dst := testClient, netip.AddrPortFrom(testServer.Addr(), 53)
			for b.Loop() {
				c.tr.Datagram(src, dst, c.b, at, Packet(1))
			}
		})
	}
	b.Run("short_header_known_conn", func(b *testing.B) {
		b.ReportAllocs()
		src := netip.AddrPortFrom(testClient.Addr(), 20000)
		short := cat([]byte{0x45}, dns)
		for b.Loop() {
			busy.Datagram(src, testServer, short, at, Packet(1))
		}
	})
	b.Run("client_initial_new_conn", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(rfc9001ClientInitial)))
		for b.Loop() {
			tr := NewQUICTracker(QUICOptions{})
			tr.Datagram(testClient, testServer, rfc9001ClientInitial, at, Packet(1))
		}
	})
	b.Run("client_initial_known_conn", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(rfc9001ClientInitial)))
		tr := NewQUICTracker(QUICOptions{})
		for b.Loop() {
			tr.Datagram(testClient, testServer, rfc9001ClientInitial, at, Packet(1))
		}
	})
}

func BenchmarkParseQUICInitial(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(rfc9001ClientInitial)))
	for b.Loop() {
		if _, err := ParseQUICInitial(rfc9001ClientInitial); err != nil {
			b.Fatal(err)
		}
	}
}
