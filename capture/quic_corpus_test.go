package capture

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// quicCorpusExceptions lists the QUIC server names tshark finds in the
// corpus that the tracker is not expected to find, with the reason.
var quicCorpusExceptions = map[string]string{
	"ndpi_quic_t51.pcap www.google.com": "Google QUIC T051 protects its Initials with " +
		"a salt of its own, not a version this package reads",
}

// quicCorpusNoConn lists the corpus captures of IETF QUIC in which no
// connection can be followed, with the reason.
var quicCorpusNoConn = map[string]string{
	"tcpdump_quic_handshake_truncated.pcap": "the snaplen kept 204 of the 1200 " +
		"bytes of each client Initial: each is reported as truncated",
}

// TestQUICCorpus feeds the UDP datagrams of the corpus captures that hold
// QUIC to a QUICTracker and checks that every server name tshark found in
// a QUIC ClientHello is found. The captures are read with gopacket here,
// independently of the packet path under test elsewhere.
func TestQUICCorpus(t *testing.T) {
	dir := os.Getenv("EGRESS_AUDIT_CORPUS")
	if dir == "" {
		t.Skip("EGRESS_AUDIT_CORPUS is not set")
	}
	cats := quicCorpusFiles(t, filepath.Join(dir, "pcap", "MANIFEST.tsv"))
	files := slices.Sorted(maps.Keys(cats))
	if len(files) == 0 {
		t.Fatalf("no QUIC capture in the corpus manifest")
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "pcap", name)
			var truth struct {
				QUICSNI []string `json:"quic_sni"`
			}
			raw, err := os.ReadFile(path + ".truth.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &truth); err != nil {
				t.Fatal(err)
			}

			var conns []*QUICConn
			tr := NewQUICTracker(QUICOptions{Done: func(c *QUICConn) { conns = append(conns, c) }})
			var failed []string
			readUDP(t, path, func(src, dst netip.AddrPort, payload []byte, ci gopacket.CaptureInfo, n int64) {
				_, err := tr.Datagram(src, dst, payload, ci.Timestamp, Packet(n))
				if err != nil {
					failed = append(failed, Packet(n).String()+": "+err.Error())
				}
			})
			tr.Flush()

			found := map[string]bool{}
			for _, c := range conns {
				if c.HelloErr == nil && c.Hello.ServerName != "" {
					found[c.Hello.ServerName] = true
				}
			}
			for _, want := range truth.QUICSNI {
				// tshark shows the name as sent; a ":port" suffix is dropped.
				if n, err := hostName([]byte(want)); err == nil && found[n] {
					continue
				}
				if why, ok := quicCorpusExceptions[name+" "+want]; ok {
					t.Logf("accepted miss %q: %s", want, why)
					continue
				}
				t.Errorf("server name %q not found; found %v; errors %q", want, found, failed)
			}
			for _, c := range conns {
				o := c.Observation()
				t.Logf("%s %v -> %v %q %s %s %q", o.Locator, o.Client, o.Server,
					o.Host, o.Outcome, o.Reason, o.Detail)
				if c.HelloErr != nil {
					t.Errorf("%s: no client hello: %v", c.FirstPacket, c.HelloErr)
				}
			}
			if why, ok := quicCorpusNoConn[name]; ok {
				if len(conns) != 0 {
					t.Errorf("%d connections, want none (%s)", len(conns), why)
				}
			} else if isIETF := slices.ContainsFunc(cats[name], func(c string) bool {
				return c == "quic-v1" || c == "quic-v2" || c == "quic-draft"
			}); isIETF && len(conns) == 0 {
				t.Errorf("no QUIC connection found; datagram errors %q", failed)
			}
			if _, ok := quicCorpusNoConn[name]; !ok && len(failed) > 0 {
				t.Errorf("datagram errors %q", failed)
			}
		})
	}
}

// quicCorpusFiles returns the categories of the captures the manifest
// files under a QUIC category.
func quicCorpusFiles(t *testing.T, manifest string) map[string][]string {
	f, err := os.Open(manifest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 7 {
			continue
		}
		cats := strings.Split(cols[6], ",")
		if slices.ContainsFunc(cats, func(c string) bool {
			return strings.HasPrefix(c, "quic") || c == "gquic"
		}) {
			files[cols[0]] = cats
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// readUDP calls fn for every UDP datagram of a pcap or pcapng file, with
// its packet number counted from 1.
func readUDP(t testing.TB, path string, fn func(src, dst netip.AddrPort, payload []byte, ci gopacket.CaptureInfo, n int64)) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var next func() ([]byte, gopacket.CaptureInfo, error)
	var linkOf func(ci gopacket.CaptureInfo) layers.LinkType
	if string(magic[:]) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		next = r.ReadPacketData
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			intf, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				return r.LinkType()
			}
			return intf.LinkType
		}
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		next = r.ReadPacketData
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return r.LinkType() }
	}
	for n := int64(1); ; n++ {
		data, ci, err := next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return
		}
		if err != nil {
			t.Logf("packet %d: %v", n, err)
			return
		}
		p := gopacket.NewPacket(data, linkOf(ci), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil {
			continue
		}
		var sa, da netip.Addr
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			sa, _ = netip.AddrFromSlice(ip.SrcIP)
			da, _ = netip.AddrFromSlice(ip.DstIP)
		case *layers.IPv6:
			sa, _ = netip.AddrFromSlice(ip.SrcIP)
			da, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		fn(netip.AddrPortFrom(sa.Unmap(), uint16(udp.SrcPort)),
			netip.AddrPortFrom(da.Unmap(), uint16(udp.DstPort)), udp.Payload, ci, n)
	}
}
