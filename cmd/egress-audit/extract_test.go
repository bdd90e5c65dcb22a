package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The QUIC captures the capture package's tests made with quic-go.
const (
	quicECHCapture   = "../../testdata/captures/quic/quic_ech.pcap"
	quicPlainCapture = "../../testdata/captures/quic/quic_v1_h3.pcap"
)

// TestExtractECH checks the ech field of extract's JSON lines on captures of
// a QUIC ClientHello with and without Encrypted Client Hello.
func TestExtractECH(t *testing.T) {
	cases := []struct {
		name, file, host string
		ech              bool
	}{
		{"quic_ech", quicECHCapture, "public.example", true},
		{"quic_plain", quicPlainCapture, "app.gtmhub.com", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, "", "extract", tc.file)
			if r.code != exitOK {
				t.Fatalf("exit code %d, stderr %s", r.code, r.stderr)
			}
			var o map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &o); err != nil {
				t.Fatalf("extract %s: %v\n%s", tc.file, err, r.stdout)
			}
			got, present := o["ech"]
			if o["host"] != tc.host || present != tc.ech || tc.ech && got != true {
				t.Errorf("extract %s: host %v ech %v (present %v), want %s and ech present %v",
					tc.file, o["host"], got, present, tc.host, tc.ech)
			}
		})
	}
}

// TestExtractGzipCapture checks that a gzipped capture is read as the
// capture itself: the same observations, named after the .gz file.
func TestExtractGzipCapture(t *testing.T) {
	raw, err := os.ReadFile(quicPlainCapture)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain := writeFile(t, filepath.Join(dir, "quic.pcap"), string(raw))
	zipped := writeFile(t, filepath.Join(dir, "quic.pcap.gz"), gz.String())

	want := runWith(t, nil, "", "extract", plain)
	got := runWith(t, nil, "", "extract", zipped)
	if got.code != exitOK || want.code != exitOK {
		t.Fatalf("exit codes %d and %d, stderr %s", got.code, want.code, got.stderr)
	}
	if got.stdout == "" || strings.ReplaceAll(got.stdout, zipped, plain) != want.stdout {
		t.Errorf("extract %s:\n%s\nwant as %s:\n%s", zipped, got.stdout, plain, want.stdout)
	}
}

// TestExtractConnectPort checks that a denied CONNECT, which names a port
// but no server address, keeps its port in extract's output.
func TestExtractConnectPort(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, filepath.Join(dir, "access.log"),
		"1764752401.352 0 192.0.2.10 TCP_DENIED/403 3910 CONNECT app.gtmhub.com:8443 - HIER_NONE/- text/html\n")
	r := runWith(t, nil, "", "extract", log)
	if r.code != exitOK {
		t.Fatalf("exit code %d, stderr %s", r.code, r.stderr)
	}
	var o struct{ Server, Host, Reason string }
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &o); err != nil {
		t.Fatalf("extract: %v\n%s", err, r.stdout)
	}
	if o.Server != ":8443" || o.Host != "app.gtmhub.com" || o.Reason != "proxy-denied" {
		t.Errorf("extract = server %q host %q reason %q, want \":8443\" app.gtmhub.com proxy-denied", o.Server, o.Host, o.Reason)
	}
}
