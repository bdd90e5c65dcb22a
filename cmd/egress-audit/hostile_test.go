package main

import (
	"bytes"
	"encoding/csv"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// hostileCapture builds, with gopacket's serialisation, a capture of TCP
// flows whose client sends each of requests after a handshake, and whose
// server answers with a status line.
func hostileCapture(t *testing.T, requests ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cli, srv := net.IPv4(192, 0, 2, 10).To4(), net.IPv4(203, 0, 113, 7).To4()
	for i, req := range requests {
		cport, sport := layers.TCPPort(40000+i), layers.TCPPort(80)
		if strings.HasPrefix(req, "CONNECT") {
			sport = 3128
		}
		cseq, sseq := uint32(1000), uint32(5000)
		send := func(fromClient bool, flags string, payload string) {
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli, DstIP: srv}
			tcp := &layers.TCP{SrcPort: cport, DstPort: sport, Seq: cseq, Ack: sseq, Window: 65535}
			if !fromClient {
				ip.SrcIP, ip.DstIP = srv, cli
				tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack = sport, cport, sseq, cseq
			}
			tcp.SYN = strings.Contains(flags, "S")
			tcp.ACK = strings.Contains(flags, "A")
			tcp.PSH = payload != ""
			tcp.SetNetworkLayerForChecksum(ip)
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			buf := gopacket.NewSerializeBuffer()
			opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
			if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(10 * time.Millisecond)
			b := buf.Bytes()
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: clock, CaptureLength: len(b), Length: len(b)}, b); err != nil {
				t.Fatal(err)
			}
			n := uint32(len(payload))
			if tcp.SYN {
				n++
			}
			if fromClient {
				cseq += n
			} else {
				sseq += n
			}
		}
		send(true, "S", "")
		send(false, "SA", "")
		send(true, "A", "")
		send(true, "A", req)
		send(false, "A", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
	}
	return out.Bytes()
}

// hostile is text an attacker may put in a host name: markup, a terminal
// escape sequence, and a spreadsheet formula.
const (
	markupHost  = `<script>alert(1)</script>.example`
	escapeHost  = "\x1b]0;owned\x07\x1b[2J\x1b[31mred.example"
	formulaHost = `=HYPERLINK("http://x.example","y")`
)

// Secrets the inputs carry in headers and queries.
var hostileSecrets = []string{
	"c2VjcmV0OnBhc3N3b3Jk", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl",
	"sessionCookieValue42", "oauthCodeValue77", "accessTokenValue88", "zeekPassw0rdValue",
}

// TestHostileCaptureOutputs audits a capture whose HTTP Host headers and
// CONNECT target hold markup, escape sequences and a formula, and whose
// requests carry an Authorization header, a cookie, a bearer token in the
// query and an OAuth code, through the command line in every output form:
// HTML escapes the markup, the table shows control characters escaped, CSV
// neutralises the formula, no form shows a raw escape byte, and no form,
// log line or message shows a secret.
func TestHostileCaptureOutputs(t *testing.T) {
	dir := t.TempDir()
	pcap := writeInput(t, dir, "hostile.pcap", hostileCapture(t,
		"GET /a?access_token=accessTokenValue88&x=1 HTTP/1.1\r\nHost: "+markupHost+"\r\nAuthorization: Basic c2VjcmV0OnBhc3N3b3Jk\r\nCookie: s=sessionCookieValue42\r\n\r\n",
		"GET /callback?code=oauthCodeValue77&state=1 HTTP/1.1\r\nHost: "+escapeHost+"\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: "+formulaHost+"\r\n\r\n",
		"CONNECT "+markupHost+":443 HTTP/1.1\r\nHost: "+markupHost+":443\r\nProxy-Authorization: Basic c2VjcmV0OnBhc3N3b3Jk\r\n\r\n",
	))
	zeekHTTP := "#separator \\x09\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tusername\tpassword\tstatus_code\n" +
		"1767323045.1\tC1\t192.0.2.10\t40100\t203.0.113.8\t80\t1\tGET\tz.example\t/cb?code=oauthCodeValue77&token=accessTokenValue88\talice\tzeekPassw0rdValue\t200\n"
	zeek := writeInput(t, dir, "http.log", []byte(zeekHTTP))
	squid := writeInput(t, dir, "access.log", []byte(
		"1767323046.000 1 192.0.2.10 TCP_MISS/200 1 GET http://q.example/cb?code=oauthCodeValue77 - HIER_DIRECT/203.0.113.9 -\n"+
			"1767323047.000 1 192.0.2.10 TCP_MISS/200 1 GET http://q.example/?x=1 Bearer%20eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl HIER_DIRECT/203.0.113.9 -\n"))

	runs := map[string][]string{}
	for _, o := range outputs {
		runs["audit_"+o] = []string{"audit", "-o", o, "--log-level", "debug", pcap, zeek, squid}
	}
	runs["extract_jsonl"] = []string{"extract", "--log-level", "debug", pcap, zeek, squid}
	runs["extract_table"] = []string{"extract", "-o", "table", pcap, zeek, squid}
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runInputs(t, "", args...)
			if code == exitUsage {
				t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stdout, "example") {
				t.Fatalf("stdout names no host:\n%s", stdout)
			}
			for _, s := range hostileSecrets {
				if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
					t.Errorf("secret %q in output:\n%s\n%s", s, stdout, stderr)
				}
			}
			if strings.ContainsAny(stdout, "\x1b\x07") || strings.ContainsAny(stderr, "\x1b\x07") {
				t.Errorf("a raw escape or bell byte reaches the output:\n%q", stdout)
			}
			switch {
			case strings.HasSuffix(name, "_html"):
				if strings.Contains(stdout, "<script>alert") {
					t.Errorf("HTML holds the markup unescaped")
				}
				if !strings.Contains(stdout, "&lt;script&gt;alert(1)&lt;/script&gt;.example") {
					t.Errorf("HTML lacks the escaped host")
				}
			case strings.HasSuffix(name, "_table"):
				if !strings.Contains(stdout, `\x1b[31mred.example`) {
					t.Errorf("table lacks the escape sequence shown escaped:\n%s", stdout)
				}
			case strings.HasSuffix(name, "_csv"):
				rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
				if err != nil {
					t.Fatalf("CSV: %v", err)
				}
				seen := false
				for _, row := range rows {
					for _, cell := range row {
						if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
							t.Errorf("CSV cell %q starts with a formula character", cell)
						}
						seen = seen || strings.HasPrefix(cell, `'=hyperlink(`)
					}
				}
				if !seen {
					t.Errorf("CSV lacks the formula host (neutralised):\n%s", stdout)
				}
			}
		})
	}
}
