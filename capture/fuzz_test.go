package capture

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/egress-audit/egress-audit/testdata/bench/gencap"
)

// FuzzRead feeds arbitrary bytes to the capture reader, seeded with the
// lab capture and a small generated one: it must not panic, must account
// for every record, and every host it reports must be lower case.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"../testdata/captures/lab_egress.pcap", "../testdata/captures/lab_egress.pcapng", "../testdata/captures/lab_egress_sll2.pcap"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	var g bytes.Buffer
	gencap.Generate(&g, 200, 3)
	f.Add(g.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		var st Stats
		Read(bytes.NewReader(data), "fuzz", &Config{MaxFlows: 64}, &st, func(o *Observation) {
			if strings.ContainsAny(o.Host, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				t.Errorf("host %q has upper-case letters", o.Host)
			}
			if o.Locator.N < 1 {
				t.Errorf("locator %v before the first packet", o.Locator)
			}
		})
		if st.Records < 0 || st.Failed < 0 {
			t.Errorf("negative counts: %+v", st)
		}
	})
}

// FuzzParseDNS checks that parseDNS never panics and that a message it
// accepts has a question name of at most 255 bytes.
func FuzzParseDNS(f *testing.F) {
	f.Add(dnsQueryMsg(1, "app.gtmhub.com"))
	f.Add(dnsAnswerMsg(2, "app.gtmhub.com", layers.DNSResponseCodeNoErr, "cname:edge.example.net", "203.0.113.5", "2001:db8::5"))
	f.Add(dnsAnswerMsg(3, "missing.example", layers.DNSResponseCodeNXDomain))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m dnsMessage
		if err := parseDNS(b, &m); err != nil {
			return
		}
		if len(m.question) == 0 || len(m.question) > 255 {
			t.Errorf("question %q: length %d", m.question, len(m.question))
		}
		if strings.ContainsAny(m.question, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("question %q has upper-case letters", m.question)
		}
	})
}

func TestParseDNSChain(t *testing.T) {
	cases := []struct {
		name    string
		msg     []byte
		answers string
		rcode   uint8
	}{
		{"a_record", dnsAnswerMsg(1, "App.Gtmhub.com", layers.DNSResponseCodeNoErr, "203.0.113.5"), "[203.0.113.5]", 0},
		{"cname_chain", dnsAnswerMsg(1, "app.gtmhub.com", layers.DNSResponseCodeNoErr, "cname:a.example.net", "cname:b.example.net", "203.0.113.7", "2001:db8::7"), "[203.0.113.7 2001:db8::7]", 0},
		{"nxdomain", dnsAnswerMsg(1, "x.example", layers.DNSResponseCodeNXDomain), "[]", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m dnsMessage
			if err := parseDNS(tc.msg, &m); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(strings.Fields(strings.Trim(strings.ReplaceAll(fmtAddrs(m), ",", " "), "")), " "); got != tc.answers || m.rcode != tc.rcode {
				t.Errorf("parseDNS(%s) = %s rcode %d, want %s rcode %d", tc.name, got, m.rcode, tc.answers, tc.rcode)
			}
		})
	}
	// Every strict prefix fails cleanly.
	msg := cases[1].msg
	for i := 0; i < len(msg); i++ {
		var m dnsMessage
		if err := parseDNS(msg[:i], &m); err == nil {
			t.Errorf("parseDNS(prefix %d) = nil error", i)
		}
	}
}

func fmtAddrs(m dnsMessage) string {
	var s []string
	for _, a := range m.answers {
		s = append(s, a.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}
