package capture

import (
	"encoding/binary"
	"testing"
)

// httpsAnswer builds a DNS response to an HTTPS question for name whose
// answer section holds one HTTPS record (RFC 9460) with the given SvcParams.
func httpsAnswer(name string, params []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, 7)      // ID
	b = binary.BigEndian.AppendUint16(b, 0x8180) // QR, RD, RA; rcode 0
	b = binary.BigEndian.AppendUint16(b, 1)      // QDCOUNT
	b = binary.BigEndian.AppendUint16(b, 1)      // ANCOUNT
	b = binary.BigEndian.AppendUint16(b, 0)      // NSCOUNT
	b = binary.BigEndian.AppendUint16(b, 0)      // ARCOUNT
	qname := len(b)
	for _, label := range splitLabels(name) {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, typeHTTPS) // QTYPE
	b = binary.BigEndian.AppendUint16(b, 1)         // QCLASS IN
	b = binary.BigEndian.AppendUint16(b, 0xc000|uint16(qname))
	b = binary.BigEndian.AppendUint16(b, typeHTTPS) // TYPE
	b = binary.BigEndian.AppendUint16(b, 1)         // CLASS IN
	b = binary.BigEndian.AppendUint32(b, 300)       // TTL
	rdata := []byte{0, 1, 0}                        // SvcPriority 1, TargetName "."
	rdata = append(rdata, params...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

func splitLabels(name string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			out = append(out, name[start:i])
			start = i + 1
		}
	}
	return out
}

func TestDNSHTTPSRecordECH(t *testing.T) {
	alpn := []byte{0, 1, 0, 3, 2, 'h', '2'}     // key 1 (alpn), length 3, "h2"
	ech := []byte{0, 5, 0, 4, 0xfe, 0x0d, 0, 0} // key 5 (ech), length 4
	tests := []struct {
		name   string
		params []byte
		want   bool
	}{
		{"alpn_only", alpn, false},
		{"alpn_and_ech", append(append([]byte(nil), alpn...), ech...), true},
	}
	for _, tc := range tests {
		var m dnsMessage
		if err := parseDNS(httpsAnswer("app.gtmhub.com", tc.params), &m); err != nil {
			t.Fatalf("%s: parseDNS: %v", tc.name, err)
		}
		if m.question != "app.gtmhub.com" || m.ech != tc.want {
			t.Errorf("%s: question %q, ech %v; want app.gtmhub.com, %v", tc.name, m.question, m.ech, tc.want)
		}
	}
}
