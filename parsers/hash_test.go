package parsers

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// TestReadChecksum checks that the checksum a report carries is the
// SHA-256 of the input as stored: compressed bytes for a compressed input,
// every byte even when the reader stops early, and for inputs larger than
// the chunks the hashing goroutine receives.
func TestReadChecksum(t *testing.T) {
	line := "1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html\n"
	big := strings.Repeat(line, 40000) // about 4 MB: many chunks
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(big))
	zw.Close()
	tests := []struct {
		name string
		data []byte
	}{
		{"one_line", []byte(line)},
		{"many_chunks", []byte(big)},
		{"gzip", gz.Bytes()},
		{"gzip_cut", gz.Bytes()[:gz.Len()/2]},
		{"unknown_format", []byte("\x00\x01 not a log\n")},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := sha256.Sum256(tc.data)
			res, err := Read(bytes.NewReader(tc.data), tc.name, nil, nil, func(*capture.Observation) {})
			if err != nil {
				if tc.name == "unknown_format" {
					return
				}
				t.Fatal(err)
			}
			if res.SHA256 != hex.EncodeToString(want[:]) {
				t.Errorf("Read(%s).SHA256 = %s, want %x", tc.name, res.SHA256, want)
			}
		})
	}
}
