// Package gencap writes synthetic packet captures of realistic egress
// traffic, of any size, for benchmarks: DNS lookups, TCP handshakes, TLS
// ClientHellos (a third of them in two segments, some of those swapped),
// server flights and application data, HTTP requests, CONNECT through a
// proxy, resets, unanswered SYNs and QUIC-sized UDP datagrams; a third of
// the flows over IPv6. The output is deterministic for a given seed.
package gencap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
)

// Stats says what Generate wrote.
type Stats struct {
	Packets int64
	Bytes   int64 // file size
	Flows   int64
}

type gen struct {
	w     *bufio.Writer
	rng   *rand.Rand
	st    Stats
	ts    int64 // microseconds since the epoch
	pkt   []byte
	flowN uint32
	v6    bool
	cli   [16]byte
	srv   [16]byte
	cport uint16
	sport uint16
	hello []byte
}

// Generate writes a little-endian microsecond pcap of Ethernet frames with
// at least packets packets to w.
func Generate(w io.Writer, packets int64, seed uint64) (Stats, error) {
	g := &gen{w: bufio.NewWriterSize(w, 1<<20), rng: rand.New(rand.NewPCG(seed, 1)), ts: 1767225600_000000}
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	g.w.Write(hdr)
	g.st.Bytes = 24
	for g.st.Packets < packets {
		g.flow()
	}
	return g.st, g.w.Flush()
}

var hosts = []string{
	"app.gtmhub.com", "auth.gtmhub.com", "api.atlassian.com", "marketplace.atlassian.com",
	"www.google.com", "login.microsoftonline.com", "github.com", "objects.githubusercontent.com",
	"cdn.jsdelivr.net", "update.example.org", "telemetry.example.net", "registry.npmjs.org",
}

func (g *gen) flow() {
	g.st.Flows++
	g.flowN++
	g.v6 = g.flowN%3 == 0
	g.addrs()
	host := hosts[g.rng.IntN(len(hosts))]
	switch r := g.rng.IntN(100); {
	case r < 25:
		g.dns(host)
	case r < 70:
		g.tls(host)
	case r < 78:
		g.http(host)
	case r < 82:
		g.connect(host)
	case r < 88:
		g.unanswered()
	case r < 92:
		g.reset()
	default:
		g.quic()
	}
}

func (g *gen) addrs() {
	n := g.flowN
	if g.v6 {
		copy(g.cli[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10})
		copy(g.srv[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, byte(n >> 8), byte(n)})
	} else {
		copy(g.cli[:4], []byte{192, 0, 2, 10})
		copy(g.srv[:4], []byte{203, 0, 113, byte(n)})
	}
	g.cport = uint16(32768 + n%28000)
	g.sport = 443
}

// packet writes one Ethernet/IP/TCP-or-UDP frame.
func (g *gen) packet(fromClient bool, proto byte, flags byte, seq, ack uint32, payload []byte) {
	b := g.pkt[:0]
	b = append(b, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1)
	src, dst := g.cli, g.srv
	sp, dp := g.cport, g.sport
	if !fromClient {
		src, dst, sp, dp = dst, src, dp, sp
	}
	l4 := 20
	if proto == 17 {
		l4 = 8
	}
	if g.v6 {
		b = append(b, 0x86, 0xdd, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(l4+len(payload)))
		b = append(b, proto, 64)
		b = append(b, src[:]...)
		b = append(b, dst[:]...)
	} else {
		b = append(b, 0x08, 0x00, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(20+l4+len(payload)))
		b = append(b, 0, 1, 0x40, 0, 64, proto, 0, 0)
		b = append(b, src[:4]...)
		b = append(b, dst[:4]...)
	}
	b = binary.BigEndian.AppendUint16(b, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	if proto == 17 {
		b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
		b = append(b, 0, 0)
	} else {
		b = binary.BigEndian.AppendUint32(b, seq)
		b = binary.BigEndian.AppendUint32(b, ack)
		b = append(b, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0)
	}
	b = append(b, payload...)
	g.pkt = b
	var rec [16]byte
	g.ts += int64(50 + g.rng.IntN(400))
	binary.LittleEndian.PutUint32(rec[0:], uint32(g.ts/1e6))
	binary.LittleEndian.PutUint32(rec[4:], uint32(g.ts%1e6))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(b)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(b)))
	g.w.Write(rec[:])
	g.w.Write(b)
	g.st.Packets++
	g.st.Bytes += int64(16 + len(b))
}

const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

// tcpOpen writes a handshake and returns the next sequence numbers.
func (g *gen) tcpOpen() (c, s uint32) {
	c, s = g.rng.Uint32(), g.rng.Uint32()
	g.packet(true, 6, syn, c, 0, nil)
	g.packet(false, 6, syn|ack, s, c+1, nil)
	g.packet(true, 6, ack, c+1, s+1, nil)
	return c + 1, s + 1
}

func (g *gen) tcpClose(c, s uint32) {
	g.packet(true, 6, fin|ack, c, s, nil)
	g.packet(false, 6, fin|ack, s, c+1, nil)
	g.packet(true, 6, ack, c+1, s+1, nil)
}

// clientHello builds a ClientHello record for host, padded to size bytes
// (a post-quantum key share makes it 1.5 to 1.8 KB).
func (g *gen) clientHello(host string, size int) []byte {
	sni := []byte{0, 0}
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(host)+5))
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(host)+3))
	sni = append(sni, 0)
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(host)))
	sni = append(sni, host...)
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = append(body, 0, 2, 0x13, 0x01, 1, 0)
	pad := size - 9 - len(body) - 2 - len(sni) - 4
	if pad < 0 {
		pad = 0
	}
	exts := append(sni, 0, 21)
	exts = binary.BigEndian.AppendUint16(exts, uint16(pad))
	exts = append(exts, make([]byte, pad)...)
	body = binary.BigEndian.AppendUint16(body, uint16(len(exts)))
	body = append(body, exts...)
	msg := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	rec := []byte{22, 3, 1}
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(msg)))
	return append(rec, msg...)
}

var serverFlight, appData, finished []byte

func init() {
	// A TLS 1.3 ServerHello with supported_versions, then encrypted records.
	sh := []byte{3, 3}
	sh = append(sh, make([]byte, 32)...)
	sh = append(sh, 0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4)
	msg := append([]byte{2, 0, 0, byte(len(sh))}, sh...)
	serverFlight = append([]byte{22, 3, 3, 0, byte(len(msg))}, msg...)
	serverFlight = append(serverFlight, 20, 3, 3, 0, 1, 1)
	enc := make([]byte, 2600)
	serverFlight = append(serverFlight, 23, 3, 3, byte(len(enc)>>8), byte(len(enc)))
	serverFlight = append(serverFlight, enc...)
	finished = append([]byte{20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 53}, make([]byte, 53)...)
	appData = append([]byte{23, 3, 3, 0x05, 0x5b}, make([]byte, 1371)...)
}

func (g *gen) tls(host string) {
	c, s := g.tcpOpen()
	ch := g.clientHello(host, 1500+g.rng.IntN(300))
	switch r := g.rng.IntN(6); {
	case r < 4 || len(ch) <= 1448:
		g.packet(true, 6, psh|ack, c, s, ch[:min(len(ch), 1448)])
		if len(ch) > 1448 {
			g.packet(true, 6, psh|ack, c+1448, s, ch[1448:])
		}
	case r == 4:
		g.packet(true, 6, ack, c, s, ch[:1200])
		g.packet(true, 6, psh|ack, c+1200, s, ch[1200:])
	default: // swapped
		g.packet(true, 6, psh|ack, c+1200, s, ch[1200:])
		g.packet(true, 6, ack, c, s, ch[:1200])
	}
	c += uint32(len(ch))
	for off := 0; off < len(serverFlight); off += 1448 {
		end := min(off+1448, len(serverFlight))
		g.packet(false, 6, ack, s, c, serverFlight[off:end])
	}
	s += uint32(len(serverFlight))
	g.packet(true, 6, psh|ack, c, s, finished)
	c += uint32(len(finished))
	n := 1 + g.rng.IntN(10)
	for i := 0; i < n; i++ {
		g.packet(true, 6, psh|ack, c, s, appData[:200])
		c += 200
		g.packet(false, 6, psh|ack, s, c, appData)
		s += uint32(len(appData))
		g.packet(true, 6, ack, c, s, nil)
	}
	g.tcpClose(c, s)
}

func (g *gen) http(host string) {
	g.sport = 80
	c, s := g.tcpOpen()
	req := fmt.Appendf(nil, "GET /rest/api/2/item/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n", g.flowN, host)
	g.packet(true, 6, psh|ack, c, s, req)
	c += uint32(len(req))
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1200\r\n\r\n"), make([]byte, 1200)...)
	g.packet(false, 6, psh|ack, s, c, resp)
	s += uint32(len(resp))
	g.tcpClose(c, s)
}

func (g *gen) connect(host string) {
	g.sport = 3128
	c, s := g.tcpOpen()
	req := fmt.Appendf(nil, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", host, host)
	g.packet(true, 6, psh|ack, c, s, req)
	c += uint32(len(req))
	status := "HTTP/1.1 200 Connection established\r\n\r\n"
	if g.rng.IntN(3) == 0 {
		status = "HTTP/1.1 403 Forbidden\r\n\r\n"
	}
	g.packet(false, 6, psh|ack, s, c, []byte(status))
	s += uint32(len(status))
	if status[9] == '2' {
		ch := g.clientHello(host, 600)
		g.packet(true, 6, psh|ack, c, s, ch)
		c += uint32(len(ch))
		g.packet(false, 6, psh|ack, s, c, serverFlight[:1448])
		s += 1448
	}
	g.tcpClose(c, s)
}

func (g *gen) unanswered() {
	c := g.rng.Uint32()
	for i := 0; i < 3; i++ {
		g.packet(true, 6, syn, c, 0, nil)
	}
}

func (g *gen) reset() {
	c := g.rng.Uint32()
	g.packet(true, 6, syn, c, 0, nil)
	g.packet(false, 6, rst|ack, 0, c+1, nil)
}

func (g *gen) dns(host string) {
	g.sport = 53
	id := uint16(g.flowN)
	q := binary.BigEndian.AppendUint16(nil, id)
	q = append(q, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, label := range splitDots(host) {
		q = append(q, byte(len(label)))
		q = append(q, label...)
	}
	q = append(q, 0, 0, 1, 0, 1)
	g.packet(true, 17, 0, 0, 0, q)
	r := append([]byte(nil), q...)
	r[2], r[3], r[7] = 0x81, 0x80, 1
	r = append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 203, 0, 113, byte(g.flowN))
	g.packet(false, 17, 0, 0, 0, r)
}

func (g *gen) quic() {
	d := make([]byte, 1200)
	d[0] = 0xc3
	g.packet(true, 17, 0, 0, 0, d)
	g.packet(false, 17, 0, 0, 0, d[:900])
	g.packet(true, 17, 0, 0, 0, d[:60])
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
