package capture

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The test network: lab addresses only.
var (
	labClient   = netip.MustParseAddrPort("192.0.2.10:40000")
	labServer   = netip.MustParseAddrPort("203.0.113.5:443")
	labResolver = netip.MustParseAddrPort("198.51.100.53:53")
	labClient6  = netip.MustParseAddrPort("[2001:db8::10]:40000")
	labServer6  = netip.MustParseAddrPort("[2001:db8:1::5]:443")
	labEpoch    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// frame is one packet of a test capture: link-layer bytes and how many of
// them the capture keeps.
type frame struct {
	data   []byte
	capLen int // 0: all of it
	t      time.Time
}

// capBuilder builds test captures packet by packet with gopacket's
// serialisation, Ethernet framed.
type capBuilder struct {
	tb     testing.TB
	frames []frame
	clock  time.Time
}

func newCap(tb testing.TB) *capBuilder { return &capBuilder{tb: tb, clock: labEpoch} }

// wait advances the capture clock.
func (c *capBuilder) wait(d time.Duration) { c.clock = c.clock.Add(d) }

// ipLayers returns the network layer for a packet from src to dst.
func ipLayers(src, dst netip.Addr, proto layers.IPProtocol) (gopacket.SerializableLayer, gopacket.NetworkLayer, layers.EthernetType) {
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: 7}
		return ip, ip, layers.EthernetTypeIPv4
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	return ip, ip, layers.EthernetTypeIPv6
}

func (c *capBuilder) serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		c.tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func (c *capBuilder) add(data []byte, capLen int) {
	c.frames = append(c.frames, frame{data: data, capLen: capLen, t: c.clock})
	c.wait(time.Millisecond)
}

// ether wraps an IP packet's layers in Ethernet.
func (c *capBuilder) ether(et layers.EthernetType, ls ...gopacket.SerializableLayer) []byte {
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: et,
	}
	return c.serialize(append([]gopacket.SerializableLayer{eth}, ls...)...)
}

// tcp adds one TCP segment.
func (c *capBuilder) tcp(src, dst netip.AddrPort, flags string, seq, ack uint32, payload []byte) []byte {
	ip, nl, et := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'R':
			tcp.RST = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		}
	}
	tcp.SetNetworkLayerForChecksum(nl)
	b := c.ether(et, ip, tcp, gopacket.Payload(payload))
	c.add(b, 0)
	return b
}

// udp adds one UDP datagram.
func (c *capBuilder) udp(src, dst netip.AddrPort, payload []byte) {
	ip, nl, et := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	u.SetNetworkLayerForChecksum(nl)
	c.add(c.ether(et, ip, u, gopacket.Payload(payload)), 0)
}

// conn is a TCP connection under construction, tracking both sequence
// numbers.
type conn struct {
	c          *capBuilder
	cli, srv   netip.AddrPort
	cseq, sseq uint32
}

func (c *capBuilder) conn(cli, srv netip.AddrPort) *conn {
	return &conn{c: c, cli: cli, srv: srv, cseq: 1000, sseq: 5000}
}

func (k *conn) syn()    { k.c.tcp(k.cli, k.srv, "S", k.cseq, 0, nil) }
func (k *conn) synAck() { k.c.tcp(k.srv, k.cli, "SA", k.sseq, k.cseq+1, nil) }

// handshake adds the three packets of a TCP handshake.
func (k *conn) handshake() {
	k.syn()
	k.synAck()
	k.cseq++
	k.sseq++
	k.c.tcp(k.cli, k.srv, "A", k.cseq, k.sseq, nil)
}

func (k *conn) client(b []byte) {
	k.c.tcp(k.cli, k.srv, "PA", k.cseq, k.sseq, b)
	k.cseq += uint32(len(b))
}

func (k *conn) server(b []byte) {
	k.c.tcp(k.srv, k.cli, "PA", k.sseq, k.cseq, b)
	k.sseq += uint32(len(b))
}

func (k *conn) clientRST() { k.c.tcp(k.cli, k.srv, "RA", k.cseq, k.sseq, nil) }
func (k *conn) serverRST() { k.c.tcp(k.srv, k.cli, "RA", k.sseq, k.cseq, nil) }
func (k *conn) clientFIN() { k.c.tcp(k.cli, k.srv, "FA", k.cseq, k.sseq, nil); k.cseq++ }
func (k *conn) serverFIN() { k.c.tcp(k.srv, k.cli, "FA", k.sseq, k.cseq, nil); k.sseq++ }

// pcap returns the capture as a pcap file.
func (c *capBuilder) pcap() []byte {
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		c.tb.Fatal(err)
	}
	for _, f := range c.frames {
		n := len(f.data)
		if f.capLen > 0 {
			n = f.capLen
		}
		ci := gopacket.CaptureInfo{Timestamp: f.t, CaptureLength: n, Length: len(f.data)}
		if err := w.WritePacket(ci, f.data[:n]); err != nil {
			c.tb.Fatal(err)
		}
	}
	return out.Bytes()
}

// readAll reads a capture and returns its observations and stats.
func readAll(tb testing.TB, data []byte, cfg *Config) ([]Observation, *Stats) {
	tb.Helper()
	var obs []Observation
	st := &Stats{}
	err := Read(bytes.NewReader(data), "test.pcap", cfg, st, func(o *Observation) {
		c := *o
		c.Answers = append([]netip.Addr(nil), o.Answers...)
		obs = append(obs, c)
	})
	if err != nil {
		tb.Fatalf("Read: %v", err)
	}
	return obs, st
}

// dnsQuery builds a DNS query for name.
func dnsQueryMsg(id uint16, name string) []byte {
	d := &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	return serializeDNS(d)
}

// dnsAnswerMsg builds a response to a query for name: rcode, then the
// answers (CNAMEs as "cname:target", addresses as text).
func dnsAnswerMsg(id uint16, name string, rcode layers.DNSResponseCode, answers ...string) []byte {
	d := &layers.DNS{ID: id, QR: true, RD: true, RA: true, ResponseCode: rcode,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	owner := name
	for _, a := range answers {
		rr := layers.DNSResourceRecord{Name: []byte(owner), Class: layers.DNSClassIN, TTL: 300}
		if target, ok := bytes.CutPrefix([]byte(a), []byte("cname:")); ok {
			rr.Type, rr.CNAME = layers.DNSTypeCNAME, target
			owner = string(target)
		} else {
			ip := netip.MustParseAddr(a)
			rr.IP = ip.AsSlice()
			rr.Type = layers.DNSTypeA
			if ip.Is6() {
				rr.Type = layers.DNSTypeAAAA
			}
		}
		d.Answers = append(d.Answers, rr)
	}
	return serializeDNS(d)
}

func serializeDNS(d *layers.DNS) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// chunk is one write of a TLS transcript.
type chunk struct {
	fromClient bool
	data       []byte
}

// recConn records what one side writes.
type recConn struct {
	net.Conn
	fromClient bool
	mu         *sync.Mutex
	log        *[]chunk
}

func (r recConn) Write(b []byte) (int, error) {
	r.mu.Lock()
	*r.log = append(*r.log, chunk{r.fromClient, append([]byte(nil), b...)})
	r.mu.Unlock()
	return r.Conn.Write(b)
}

// tlsTranscript runs a real TLS handshake between Go's client and server
// over a pipe and returns what each side wrote, in order. The client sends
// one request and the server one answer when the handshake succeeds.
func tlsTranscript(tb testing.TB, client *tls.Config, server *tls.Config) []chunk {
	tb.Helper()
	// Loopback TCP rather than net.Pipe: the kernel's buffers let a side
	// write its alert while the other is not reading.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var log []chunk
	cc := tls.Client(recConn{a, true, &mu, &log}, client)
	sc := tls.Server(recConn{b, false, &mu, &log}, server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sc.Handshake(); err == nil {
			buf := make([]byte, 5)
			io.ReadFull(sc, buf)
			sc.Write([]byte("world"))
		}
		sc.Close()
	}()
	if err := cc.Handshake(); err == nil {
		cc.Write([]byte("hello"))
		buf := make([]byte, 5)
		io.ReadFull(cc, buf)
	}
	cc.Close()
	a.Close()
	<-done
	b.Close()
	return log
}

// testPKI is a CA and a server certificate it issued.
type testPKI struct {
	pool *x509.CertPool
	cert tls.Certificate
}

func newPKI(tb testing.TB, caName, host string) testPKI {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: caName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return testPKI{pool: pool, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// replay adds a transcript to a connection, one segment per write (split
// at mss bytes).
func (k *conn) replay(log []chunk, mss int) {
	for _, ch := range log {
		for b := ch.data; len(b) > 0; {
			n := min(len(b), mss)
			if ch.fromClient {
				k.client(b[:n])
			} else {
				k.server(b[:n])
			}
			b = b[n:]
		}
	}
}

type netipAddrPort = netip.AddrPort

var (
	labRouter4 = netip.MustParseAddr("198.51.100.1")
	labRouter6 = netip.MustParseAddr("2001:db8:ffff::1")
)

func netipPort(ap netip.AddrPort, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr(), port)
}
