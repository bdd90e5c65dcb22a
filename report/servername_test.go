package report

import (
	"bytes"
	"encoding/csv"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// badServerNames are server_name values that are not host names, as a
// hostile or broken client may send them.
var badServerNames = []string{"<script>alert(1)</script>", "\x1b[31mred.example"}

// badServerNameCapture returns a pcap of one TLS connection per name: the
// TCP handshake, then a ClientHello naming it, which the server resets.
func badServerNameCapture(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 3, 19, 22, 33, 0, time.UTC)
	client, server := net.IPv4(192, 0, 2, 10), net.IPv4(203, 0, 113, 10)
	packet := func(fromClient bool, port uint16, flags string, seq, ack uint32, payload []byte) {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: client, DstIP: server}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(port), DstPort: 443, Seq: seq, Ack: ack, Window: 65535,
			SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"),
			PSH: strings.Contains(flags, "P"), RST: strings.Contains(flags, "R")}
		if !fromClient {
			ip.SrcIP, ip.DstIP = server, client
			tcp.SrcPort, tcp.DstPort = 443, layers.TCPPort(port)
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
		if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: clock, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Millisecond)
	}
	for i, name := range badServerNames {
		port := uint16(40000 + i)
		hello := clientHelloRecord(name)
		packet(true, port, "S", 1000, 0, nil)
		packet(false, port, "SA", 5000, 1001, nil)
		packet(true, port, "A", 1001, 5001, nil)
		packet(true, port, "PA", 1001, 5001, hello)
		packet(false, port, "RA", 5001, 1001+uint32(len(hello)), nil)
	}
	return out.Bytes()
}

// clientHelloRecord returns a TLS handshake record holding a ClientHello
// whose one extension is a server_name with host_name name.
func clientHelloRecord(name string) []byte {
	u16 := func(n int) []byte { return []byte{byte(n >> 8), byte(n)} }
	// RFC 6066, Section 3: ServerNameList of one host_name(0).
	entry := append([]byte{0x00}, append(u16(len(name)), name...)...)
	list := append(u16(len(entry)), entry...)
	ext := append([]byte{0x00, 0x00}, append(u16(len(list)), list...)...) // server_name
	// RFC 8446, Section 4.1.2: ClientHello.
	body := []byte{0x03, 0x03}                  // legacy_version
	body = append(body, make([]byte, 32)...)    // random
	body = append(body, 0x00)                   // legacy_session_id: empty
	body = append(body, 0x00, 0x02, 0x13, 0x01) // cipher_suites: TLS_AES_128_GCM_SHA256
	body = append(body, 0x01, 0x00)             // legacy_compression_methods: null
	body = append(body, append(u16(len(ext)), ext...)...)
	msg := append([]byte{0x01, 0x00}, u16(len(body))...) // client_hello, uint24 length
	msg = append(msg, body...)
	// RFC 8446, Section 5.1: TLSPlaintext of type handshake.
	return append([]byte{0x16, 0x03, 0x01}, append(u16(len(msg)), msg...)...)
}

// TestBadServerNameKept reads a capture whose ClientHellos name no host:
// the reader keeps each value escaped in the flow's detail and counts the
// packet as failed, and every report form shows it harmlessly.
func TestBadServerNameKept(t *testing.T) {
	data := badServerNameCapture(t)
	cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{})
	st := &capture.Stats{}
	var details []string
	err := capture.Read(bytes.NewReader(data), "hostile-sni.pcap", nil, st, func(o *capture.Observation) {
		if o.Kind == capture.Connection {
			if o.Host != "" {
				t.Errorf("flow %s named %q, want no host", o.Client, o.Host)
			}
			details = append(details, o.Locator.String()+" "+o.Detail)
		}
		cl.Add(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each flow is located at the server's reset, which judges it.
	wantDetails := []string{
		`packet 5 server_name not a host name: "<script>alert(1)</script>"; reset by the server`,
		`packet 10 server_name not a host name: "\x1b[31mred.example"; reset by the server`,
	}
	for i, want := range wantDetails {
		if i >= len(details) || !strings.HasPrefix(details[i], want) {
			t.Errorf("flow %d: detail %q, want it to start %q", i, details, want)
		}
	}
	if st.Failed != 2 || len(st.Problems) != 2 ||
		st.Problems[0].Err != `hostile-sni.pcap: packet 4: client hello: server_name not a host name: "<script>alert(1)</script>"` ||
		st.Problems[1].Err != `hostile-sni.pcap: packet 9: client hello: server_name not a host name: "\x1b[31mred.example"` {
		t.Fatalf("stats: %d failed, problems %q; want both packets, naming the input, packet and value", st.Failed, st.Problems)
	}

	in := rules.InputReport{Path: "hostile-sni.pcap", Format: st.Format, Records: st.Records, Errors: st.Failed}
	for _, p := range st.Problems {
		in.Problems = append(in.Problems, p.Err)
	}
	rep := cl.Report([]rules.InputReport{in})
	rawMarkup := regexp.MustCompile(`(^|[^\\])<script`)
	for _, w := range writers {
		t.Run(w.ext, func(t *testing.T) {
			var buf bytes.Buffer
			if err := w.write(&buf, rep); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.Contains(out, "\x1b[31mred") {
				t.Errorf("the escape sequence reaches the output raw")
			}
			// JUnit has a case per call, and no place for a destination's
			// evidence or an input's problems.
			if w.ext != "junit.xml" && (!strings.Contains(out, "red.example") || !strings.Contains(out, "alert(1)")) {
				t.Errorf("the server names are not shown:\n%s", out)
			}
			switch w.ext {
			case "html", "md":
				if rawMarkup.MatchString(out) {
					t.Errorf("the markup reaches the output unescaped:\n%s", out)
				}
			case "csv":
				rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil {
					t.Fatalf("CSV does not parse: %v", err)
				}
				found := false
				for _, row := range rows {
					found = found || strings.Contains(strings.Join(row, ","), `server_name not a host name: \"<script>alert(1)</script>\"`)
				}
				if !found {
					t.Errorf("no CSV cell holds the first server name, escaped:\n%s", out)
				}
			}
		})
	}
}
