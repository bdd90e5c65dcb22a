package capture

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/quic-go/quic-go"
)

// The QUIC captures of testdata/captures/quic are made by this file: a
// quic-go client and server talk over loopback through a net.PacketConn that
// records every datagram sent, and the datagrams are written to a pcap as
// raw IPv4 with documentation addresses. Regenerate them with
//
//	go test ./capture -run TestQUICCaptures -quic-captures
var makeQUICCaptures = flag.Bool("quic-captures", false,
	"regenerate testdata/captures/quic with quic-go on loopback")

const quicCaptureDir = "../testdata/captures/quic"

// The addresses the captures show in place of loopback.
var (
	captureClient = netip.MustParseAddr("192.0.2.10")
	captureServer = netip.MustParseAddrPort("203.0.113.5:443")
)

// quicCaptureCases are the captures and what reading each must give.
var quicCaptureCases = []struct {
	file    string
	make    func(t *testing.T, rec *datagramRecorder)
	version uint32
	host    string
	ech     bool
	outcome Outcome
	reason  Reason
	detail  string
}{
	{
		file:    "quic_v1_h3.pcap",
		make:    func(t *testing.T, rec *datagramRecorder) { quicExchange(t, rec, quicScenario{}) },
		version: QUICv1, host: "app.gtmhub.com", outcome: OutcomeOK,
	},
	{
		file: "quic_v2.pcap",
		make: func(t *testing.T, rec *datagramRecorder) {
			quicExchange(t, rec, quicScenario{name: "auth.gtmhub.com", version: quic.Version2})
		},
		version: QUICv2, host: "auth.gtmhub.com", outcome: OutcomeOK,
	},
	{
		file: "quic_retry.pcap",
		make: func(t *testing.T, rec *datagramRecorder) {
			quicExchange(t, rec, quicScenario{retry: true})
		},
		version: QUICv1, host: "app.gtmhub.com", outcome: OutcomeOK,
	},
	{
		file: "quic_alpn_refused.pcap",
		make: func(t *testing.T, rec *datagramRecorder) {
			quicExchange(t, rec, quicScenario{clientALPN: "hq-interop", fail: true})
		},
		version: QUICv1, host: "app.gtmhub.com",
		outcome: OutcomeBlocked, reason: TLSAlert, detail: "TLS alert 120",
	},
	{
		file: "quic_ech.pcap",
		make: func(t *testing.T, rec *datagramRecorder) {
			quicExchange(t, rec, quicScenario{name: "secret.gtmhub.com", ech: "public.example"})
		},
		version: QUICv1, host: "public.example", ech: true, outcome: OutcomeOK,
	},
	{
		file: "quic_no_answer.pcap",
		make: func(t *testing.T, rec *datagramRecorder) {
			quicExchange(t, rec, quicScenario{name: "app.gtmhub.us", silent: true, fail: true})
		},
		version: QUICv1, host: "app.gtmhub.us",
		outcome: OutcomeBlocked, reason: NoResponse, detail: "no answer",
	},
}

// TestQUICCaptures reads the captures the project makes itself.
func TestQUICCaptures(t *testing.T) {
	for _, tc := range quicCaptureCases {
		t.Run(strings.TrimSuffix(tc.file, ".pcap"), func(t *testing.T) {
			path := filepath.Join(quicCaptureDir, tc.file)
			if *makeQUICCaptures {
				rec := &datagramRecorder{}
				tc.make(t, rec)
				rec.writePcap(t, path)
			}
			var conns []*QUICConn
			tr := NewQUICTracker(QUICOptions{Done: func(c *QUICConn) { conns = append(conns, c) }})
			readUDP(t, path, func(src, dst netip.AddrPort, b []byte, ci gopacket.CaptureInfo, n int64) {
				kind, err := tr.Datagram(src, dst, b, ci.Timestamp, Packet(n))
				if kind != QUICUsed || err != nil {
					t.Errorf("packet %d: Datagram = %v, %v, want QUICUsed", n, kind, err)
				}
			})
			tr.Flush()
			if len(conns) != 1 {
				t.Fatalf("%d connections, want 1", len(conns))
			}
			c := conns[0]
			o := c.Observation()
			if c.Version != tc.version || o.Host != tc.host || o.ECH != tc.ech ||
				o.Outcome != tc.outcome || o.Reason != tc.reason {
				t.Errorf("got version 0x%x host %q ech %v %s %q, want 0x%x %q %v %s %q (detail %q)",
					c.Version, o.Host, o.ECH, o.Outcome, o.Reason,
					tc.version, tc.host, tc.ech, tc.outcome, tc.reason, o.Detail)
			}
			if !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", o.Detail, tc.detail)
			}
			if o.Client.Addr() != captureClient || o.Server != captureServer {
				t.Errorf("connection %v -> %v, want %v -> %v", o.Client, o.Server, captureClient, captureServer)
			}
			// Go's default post-quantum key share spreads the hello over
			// two Initial packets in two datagrams.
			if c.HelloErr == nil && c.HelloPacket.N <= c.FirstPacket.N {
				t.Errorf("hello complete in %s, the first Initial: want it split", c.HelloPacket)
			}
			if tc.file == "quic_retry.pcap" && !c.Retry {
				t.Errorf("no Retry seen")
			}
		})
	}
}

// quicScenario is one exchange between a quic-go client and server.
type quicScenario struct {
	name       string       // the client's server name; app.gtmhub.com when empty
	version    quic.Version // 0 for version 1
	retry      bool         // the server validates the address with a Retry
	clientALPN string       // h3 when empty; the server offers only h3
	ech        string       // the ECH public name, when ECH is used
	silent     bool         // nothing answers the client
	fail       bool         // the handshake is expected to fail
}

// quicExchange runs one exchange on loopback, recording every datagram.
func quicExchange(t *testing.T, rec *datagramRecorder, s quicScenario) {
	if s.name == "" {
		s.name = "app.gtmhub.com"
	}
	if s.clientALPN == "" {
		s.clientALPN = "h3"
	}
	conf := &quic.Config{HandshakeIdleTimeout: 2 * time.Second}
	if s.version != 0 {
		conf.Versions = []quic.Version{s.version}
	}
	if s.silent {
		conf.HandshakeIdleTimeout = 700 * time.Millisecond
	}
	clientTLS := &tls.Config{ServerName: s.name, NextProtos: []string{s.clientALPN},
		InsecureSkipVerify: true}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{testCertificate(t, s.name)},
		NextProtos: []string{"h3"}}
	if s.ech != "" {
		list, config, key := testECHConfig(t, s.ech)
		clientTLS.EncryptedClientHelloConfigList = list
		clientTLS.MinVersion = tls.VersionTLS13
		serverTLS.EncryptedClientHelloKeys = []tls.EncryptedClientHelloKey{{Config: config, PrivateKey: key}}
	}

	srvConn := listenUDP(t)
	defer srvConn.Close()
	var wg sync.WaitGroup
	if !s.silent {
		tr := &quic.Transport{Conn: rec.wrap(srvConn)}
		if s.retry {
			tr.VerifySourceAddress = func(net.Addr) bool { return true }
		}
		defer tr.Close()
		ln, err := tr.Listen(serverTLS, conf)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { quicEcho(ln) })
	}

	cliConn := listenUDP(t)
	defer cliConn.Close()
	ctr := &quic.Transport{Conn: rec.wrap(cliConn)}
	defer ctr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := ctr.Dial(ctx, srvConn.LocalAddr(), clientTLS, conf)
	if s.fail {
		if err == nil {
			t.Fatalf("handshake succeeded, want a failure")
		}
		time.Sleep(100 * time.Millisecond) // let the server's close be sent
		return
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if b, err := io.ReadAll(st); err != nil || string(b) != "ping" {
		t.Fatalf("echo = %q, %v", b, err)
	}
	conn.CloseWithError(0, "")
	time.Sleep(50 * time.Millisecond)
	wg.Wait()
}

// quicEcho answers one stream of one connection with what it reads.
func quicEcho(ln *quic.Listener) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := ln.Accept(ctx)
	if err != nil {
		return
	}
	st, err := conn.AcceptStream(ctx)
	if err != nil {
		return
	}
	b, _ := io.ReadAll(st)
	st.Write(b)
	st.Close()
	<-conn.Context().Done()
}

func listenUDP(t *testing.T) net.PacketConn {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testCertificate returns a self-signed certificate for name.
func testCertificate(t *testing.T, name string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// datagramRecorder keeps every datagram its wrapped connections send.
type datagramRecorder struct {
	mu   sync.Mutex
	sent []sentDatagram
}

type sentDatagram struct {
	at       time.Time
	src, dst netip.AddrPort
	b        []byte
}

// wrap returns c recording what it sends. It hides the optional interfaces
// of *net.UDPConn, so quic-go sends one datagram per write.
func (r *datagramRecorder) wrap(c net.PacketConn) net.PacketConn {
	return &recordingConn{PacketConn: c, rec: r}
}

type recordingConn struct {
	net.PacketConn
	rec *datagramRecorder
}

func (c *recordingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	src := c.LocalAddr().(*net.UDPAddr).AddrPort()
	dst := addr.(*net.UDPAddr).AddrPort()
	c.rec.mu.Lock()
	c.rec.sent = append(c.rec.sent, sentDatagram{time.Now(), src, dst, append([]byte(nil), b...)})
	c.rec.mu.Unlock()
	return c.PacketConn.WriteTo(b, addr)
}

// writePcap writes the datagrams as raw IPv4 packets, the client shown as
// captureClient and the server (the first datagram's destination) as
// captureServer.
func (r *datagramRecorder) writePcap(t *testing.T, path string) {
	if len(r.sent) == 0 {
		t.Fatalf("no datagram recorded")
	}
	server := r.sent[0].dst
	addr := func(a netip.AddrPort) netip.AddrPort {
		if a == server {
			return captureServer
		}
		return netip.AddrPortFrom(captureClient, a.Port())
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	for i, d := range r.sent {
		src, dst := addr(d.src), addr(d.dst)
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: uint16(i + 1),
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
		if err := gopacket.SerializeLayers(buf, opts, ip, udp, gopacket.Payload(d.b)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: d.at, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkQUICCapture feeds the datagrams of quic_v1_h3.pcap, held in
// memory, to a new tracker per round: a whole handshake with a split
// ClientHello, then 1-RTT traffic.
func BenchmarkQUICCapture(b *testing.B) {
	type datagram struct {
		src, dst netip.AddrPort
		b        []byte
		at       time.Time
	}
	var ds []datagram
	var size int64
	readUDP(b, filepath.Join(quicCaptureDir, "quic_v1_h3.pcap"),
		func(src, dst netip.AddrPort, p []byte, ci gopacket.CaptureInfo, n int64) {
			ds = append(ds, datagram{src, dst, append([]byte(nil), p...), ci.Timestamp})
			size += int64(len(p))
		})
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		tr := NewQUICTracker(QUICOptions{})
		for i, d := range ds {
			tr.Datagram(d.src, d.dst, d.b, d.at, Packet(int64(i+1)))
		}
		tr.Flush()
	}
}
