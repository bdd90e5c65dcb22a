package capture

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// helloTLS13 is a small TLS 1.3 ClientHello written field by field.
var helloTLS13 = []byte{
	0x01,             // msg_type: client_hello
	0x00, 0x00, 0x5a, // length: 90
	0x03, 0x03, // legacy_version: TLS 1.2
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, // random
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, // random
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, // random
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, // random
	0x00,                   // legacy_session_id: empty
	0x00, 0x02, 0x13, 0x01, // cipher_suites: TLS_AES_128_GCM_SHA256
	0x01, 0x00, // legacy_compression_methods: null
	0x00, 0x2f, // extensions: 47 bytes
	0x00, 0x00, // extension: server_name
	0x00, 0x10, // extension length: 16
	0x00, 0x0e, // server_name_list length: 14
	0x00,       // name_type: host_name
	0x00, 0x0b, // host_name length: 11
	'E', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'C', 'O', 'M', // host_name
	0x00, 0x10, // extension: application_layer_protocol_negotiation
	0x00, 0x0e, // extension length: 14
	0x00, 0x0c, // protocol_name_list length: 12
	0x02, 'h', '2', // protocol_name: h2
	0x08, 'h', 't', 't', 'p', '/', '1', '.', '1', // protocol_name: http/1.1
	0x00, 0x2b, // extension: supported_versions
	0x00, 0x05, // extension length: 5
	0x04,       // versions length: 4
	0x03, 0x04, // TLS 1.3
	0x03, 0x03, // TLS 1.2
}

// helloWith returns a ClientHello whose extensions block holds exts, each
// a whole extension (type, length, data).
func helloWith(exts ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(1) // client_hello
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(make([]byte, 32))
		b.AddUint8(0)                              // legacy_session_id
		b.AddBytes([]byte{0x00, 0x02, 0x13, 0x01}) // cipher_suites
		b.AddBytes([]byte{0x01, 0x00})             // compression
		if exts == nil {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddBytes(e)
			}
		})
	})
	return b.BytesOrPanic()
}

// Extensions used by the table below, each field on its own line.
var (
	extSNIOneDot = []byte{
		0x00, 0x00, // server_name
		0x00, 0x10, // extension length: 16
		0x00, 0x0e, // server_name_list length: 14
		0x00,       // host_name
		0x00, 0x0b, // length: 11
		'a', 'p', 'p', '.', 'G', 'T', 'M', 'H', 'U', 'B', '.', // "app.GTMHUB." (trailing dot)
	}
	extSNIControl = []byte{
		0x00, 0x00, // server_name
		0x00, 0x0a, // extension length: 10
		0x00, 0x08, // server_name_list length: 8
		0x00,       // host_name
		0x00, 0x05, // length: 5
		'a', '\n', 'b', '.', 'c', // a line feed inside the name
	}
	extSNITwoHosts = []byte{
		0x00, 0x00, // server_name
		0x00, 0x0c, // extension length: 12
		0x00, 0x0a, // server_name_list length: 10
		0x00,       // host_name
		0x00, 0x02, // length: 2
		'a', 'b',
		0x00,       // host_name again: forbidden by RFC 6066
		0x00, 0x02, // length: 2
		'c', 'd',
	}
	extSNIOtherType = []byte{
		0x00, 0x00, // server_name
		0x00, 0x07, // extension length: 7
		0x00, 0x05, // server_name_list length: 5
		0x07,       // name_type 7: not host_name
		0x00, 0x02, // length: 2
		'a', 'b',
	}
	extSNILongLabel = append([]byte{
		0x00, 0x00, // server_name
		0x00, 0x45, // extension length: 69
		0x00, 0x43, // server_name_list length: 67
		0x00,       // host_name
		0x00, 0x40, // length: 64
	}, bytes.Repeat([]byte{'a'}, 64)...) // one 64-byte label
	extSNIEmptyLabel = []byte{
		0x00, 0x00, // server_name
		0x00, 0x09, // extension length: 9
		0x00, 0x07, // server_name_list length: 7
		0x00,       // host_name
		0x00, 0x04, // length: 4
		'a', '.', '.', 'b', // empty label between the dots
	}
	extSNIPort = []byte{
		0x00, 0x00, // server_name
		0x00, 0x10, // extension length: 16
		0x00, 0x0e, // server_name_list length: 14
		0x00,       // host_name
		0x00, 0x0b, // length: 11
		'S', 'e', 'r', 'v', 'e', 'r', '4', ':', '4', '4', '3', // "Server4:443", a port wrongly sent
	}
	extSNIColon = []byte{
		0x00, 0x00, // server_name
		0x00, 0x08, // extension length: 8
		0x00, 0x06, // server_name_list length: 6
		0x00,       // host_name
		0x00, 0x03, // length: 3
		':', ':', '1', // an IPv6 literal, not a host name
	}
	extECHOuter = []byte{
		0xfe, 0x0d, // encrypted_client_hello
		0x00, 0x0a, // extension length: 10
		0x00,       // ECHClientHelloType: outer
		0x00, 0x01, // cipher_suite.kdf_id: HKDF-SHA256
		0x00, 0x01, // cipher_suite.aead_id: AES-128-GCM
		0x2a,       // config_id
		0x00, 0x00, // enc: empty (as after HelloRetryRequest)
		0x00, 0x00, // payload: empty here; real ones are longer
	}
	extVersionsGREASE = []byte{
		0x00, 0x2b, // supported_versions
		0x00, 0x07, // extension length: 7
		0x06,       // versions length: 6
		0x7a, 0x7a, // GREASE
		0x03, 0x04, // TLS 1.3
		0x03, 0x02, // TLS 1.1
	}
	extVersionsOdd = []byte{
		0x00, 0x2b, // supported_versions
		0x00, 0x04, // extension length: 4
		0x03, // versions length: 3, odd
		0x03, 0x04, 0x03,
	}
	extALPNEmptyName = []byte{
		0x00, 0x10, // application_layer_protocol_negotiation
		0x00, 0x05, // extension length: 5
		0x00, 0x03, // protocol_name_list length: 3
		0x02, 'h', '3', // h3
	}
	extALPNZero = []byte{
		0x00, 0x10, // application_layer_protocol_negotiation
		0x00, 0x04, // extension length: 4
		0x00, 0x02, // protocol_name_list length: 2
		0x00, // protocol_name: empty, forbidden
		0x00,
	}
	extUnknown = []byte{
		0x44, 0x69, // an unassigned extension
		0x00, 0x01, // extension length: 1
		0xff,
	}
)

func TestParseClientHello(t *testing.T) {
	tests := []struct {
		name    string
		msg     []byte
		want    ClientHello
		wantErr error // a sentinel, or errAny for any error
	}{
		{
			name: "tls13_sni_alpn",
			msg:  helloTLS13,
			want: ClientHello{
				ServerName:        "example.com",
				ALPN:              []string{"h2", "http/1.1"},
				SupportedVersions: []uint16{0x0304, 0x0303},
			},
		},
		{
			name: "trailing_bytes_ignored",
			msg:  append(slices.Clip(helloTLS13), 0x16, 0x03),
			want: ClientHello{
				ServerName:        "example.com",
				ALPN:              []string{"h2", "http/1.1"},
				SupportedVersions: []uint16{0x0304, 0x0303},
			},
		},
		{name: "no_extensions", msg: helloWith()},
		{name: "empty_extensions", msg: helloWith([]byte{})},
		{name: "sni_trailing_dot", msg: helloWith(extSNIOneDot),
			want: ClientHello{ServerName: "app.gtmhub"}},
		{name: "sni_host_port", msg: helloWith(extSNIPort),
			want: ClientHello{ServerName: "server4"}},
		{name: "sni_ipv6_literal", msg: helloWith(extSNIColon), wantErr: errAny},
		{name: "sni_other_type", msg: helloWith(extSNIOtherType)},
		{name: "sni_unknown_ext_skipped", msg: helloWith(extUnknown, extSNIOneDot),
			want: ClientHello{ServerName: "app.gtmhub"}},
		{name: "ech_outer", msg: helloWith(extSNIOneDot, extECHOuter),
			want: ClientHello{ServerName: "app.gtmhub", ECH: true}},
		{name: "versions_grease", msg: helloWith(extVersionsGREASE),
			want: ClientHello{SupportedVersions: []uint16{0x0304, 0x0302}}},
		{name: "sni_control_char", msg: helloWith(extSNIControl), wantErr: errAny},
		{name: "sni_two_hosts", msg: helloWith(extSNITwoHosts), wantErr: errAny},
		{name: "sni_long_label", msg: helloWith(extSNILongLabel), wantErr: errAny},
		{name: "sni_empty_label", msg: helloWith(extSNIEmptyLabel), wantErr: errAny},
		{name: "sni_duplicate", msg: helloWith(extSNIOneDot, extSNIOneDot), wantErr: errAny},
		{name: "versions_odd", msg: helloWith(extVersionsOdd), wantErr: errAny},
		{name: "alpn_empty_name", msg: helloWith(extALPNZero), wantErr: errAny},
		{name: "alpn_overrun", msg: helloWith(extALPNEmptyName[:len(extALPNEmptyName)-1]),
			wantErr: errAny},
		{name: "server_hello", msg: []byte{0x02, 0x00, 0x00, 0x00}, wantErr: ErrNotClientHello},
		{name: "empty", msg: nil, wantErr: ErrTruncated},
		{name: "header_only", msg: []byte{0x01, 0x00, 0x01}, wantErr: ErrTruncated},
		{name: "zero_length", msg: []byte{0x01, 0x00, 0x00, 0x00}, wantErr: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientHello(tc.msg)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("ParseClientHello(%s) error %v, want none", tc.name, err)
			case tc.wantErr == errAny && err == nil,
				tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("ParseClientHello(%s) error %v, want %v", tc.name, err, tc.wantErr)
			}
			if err != nil {
				if errors.Is(err, ErrTruncated) && tc.wantErr != ErrTruncated {
					t.Errorf("ParseClientHello(%s) = %v, malformed input reported as truncated", tc.name, err)
				}
				return
			}
			if !sameHello(got, tc.want) {
				t.Errorf("ParseClientHello(%s) = %+v, want %+v", tc.name, got, tc.want)
			}
		})
	}
}

// errAny stands for any error in table tests.
var errAny = errors.New("any error")

func sameHello(a, b ClientHello) bool {
	return a.ServerName == b.ServerName && a.ECH == b.ECH &&
		slices.Equal(a.ALPN, b.ALPN) && slices.Equal(a.SupportedVersions, b.SupportedVersions)
}

// TestParseClientHelloPrefixes checks that every strict prefix of a valid
// hello fails with ErrTruncated and never half-succeeds.
func TestParseClientHelloPrefixes(t *testing.T) {
	hellos := map[string][]byte{
		"tls13_sni_alpn": helloTLS13,
		"ech_outer":      helloWith(extSNIOneDot, extECHOuter),
		"go_default":     goClientHello(t, &tls.Config{ServerName: "app.gtmhub.com", NextProtos: []string{"h2"}}),
	}
	for name, msg := range hellos {
		if _, err := ParseClientHello(msg); err != nil {
			t.Fatalf("ParseClientHello(%s) error %v", name, err)
		}
		for i := range len(msg) {
			if _, err := ParseClientHello(msg[:i]); !errors.Is(err, ErrTruncated) {
				t.Fatalf("ParseClientHello(%s[:%d]) error %v, want ErrTruncated", name, i, err)
			}
		}
	}
}

// TestParseClientHelloPrefix cuts helloTLS13 where a snaplen might: a
// server_name extension the cut left whole is read, one it cut into is not.
func TestParseClientHelloPrefix(t *testing.T) {
	whole, err := ParseClientHello(helloTLS13)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cut  int // bytes of helloTLS13 kept
		want ClientHello
		err  error
	}{
		{"inside_fixed_fields", 40, ClientHello{}, ErrTruncated},
		{"inside_extensions_length", 46, ClientHello{Partial: true}, nil},
		{"before_server_name", 47, ClientHello{Partial: true}, nil},
		{"inside_server_name", 66, ClientHello{Partial: true}, nil},
		{"after_server_name", 67, ClientHello{ServerName: "example.com", Partial: true}, nil},
		{"inside_alpn", 80, ClientHello{ServerName: "example.com", Partial: true}, nil},
		{"after_alpn", 85, ClientHello{ServerName: "example.com", ALPN: []string{"h2", "http/1.1"}, Partial: true}, nil},
		{"whole", len(helloTLS13), whole, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientHelloPrefix(helloTLS13[:tc.cut])
			if !errors.Is(err, tc.err) || !sameHello(got, tc.want) || got.Partial != tc.want.Partial {
				t.Errorf("ParseClientHelloPrefix(%s) = %+v, %v, want %+v, %v", tc.name, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestParseClientHelloPrefixAgrees checks every prefix of valid hellos:
// ParseClientHelloPrefix fails with ErrTruncated or returns a partial
// result that the whole message agrees with.
func TestParseClientHelloPrefixAgrees(t *testing.T) {
	hellos := map[string][]byte{
		"tls13_sni_alpn": helloTLS13,
		"ech_outer":      helloWith(extSNIOneDot, extECHOuter),
		"go_default":     goClientHello(t, &tls.Config{ServerName: "app.gtmhub.com", NextProtos: []string{"h2"}}),
	}
	for name, msg := range hellos {
		whole, err := ParseClientHello(msg)
		if err != nil {
			t.Fatalf("ParseClientHello(%s) error %v", name, err)
		}
		named := false
		for i := range len(msg) {
			got, err := ParseClientHelloPrefix(msg[:i])
			if err != nil {
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("ParseClientHelloPrefix(%s[:%d]) error %v, want ErrTruncated", name, i, err)
				}
				continue
			}
			if d := partOf(got, whole); d != "" {
				t.Fatalf("ParseClientHelloPrefix(%s[:%d]): %s", name, i, d)
			}
			named = named || got.ServerName != ""
		}
		if !named {
			t.Errorf("ParseClientHelloPrefix(%s): no prefix gave the server name", name)
		}
		if got, err := ParseClientHelloPrefix(msg); err != nil || got.Partial || !sameHello(got, whole) {
			t.Errorf("ParseClientHelloPrefix(%s) = %+v, %v, want %+v", name, got, err, whole)
		}
	}
}

// partOf describes how a parse of a prefix disagrees with the parse of the
// whole message, or returns "".
func partOf(part, whole ClientHello) string {
	switch {
	case !part.Partial:
		return "not marked partial"
	case part.ServerName != "" && part.ServerName != whole.ServerName:
		return fmt.Sprintf("server name %q, whole %q", part.ServerName, whole.ServerName)
	case part.ALPN != nil && !slices.Equal(part.ALPN, whole.ALPN):
		return fmt.Sprintf("ALPN %q, whole %q", part.ALPN, whole.ALPN)
	case part.SupportedVersions != nil && !slices.Equal(part.SupportedVersions, whole.SupportedVersions):
		return fmt.Sprintf("versions %x, whole %x", part.SupportedVersions, whole.SupportedVersions)
	case part.ECH && !whole.ECH:
		return "ECH, whole without"
	}
	return ""
}

// TestParseClientHelloGo parses hellos written by crypto/tls, including its
// default post-quantum key share and a real ECH outer hello, and compares
// with what a crypto/tls server reads of the same bytes.
func TestParseClientHelloGo(t *testing.T) {
	echList := testECHConfigList(t, "public.example")
	tests := []struct {
		name string
		cfg  *tls.Config
		want ClientHello
	}{
		{
			name: "default_pq",
			cfg:  &tls.Config{ServerName: "App.GTMHub.com", NextProtos: []string{"h2", "http/1.1"}},
			want: ClientHello{
				ServerName:        "app.gtmhub.com",
				ALPN:              []string{"h2", "http/1.1"},
				SupportedVersions: []uint16{0x0304, 0x0303},
			},
		},
		{
			name: "tls12_only",
			cfg:  &tls.Config{ServerName: "auth.gtmhub.com", MaxVersion: tls.VersionTLS12},
			want: ClientHello{ServerName: "auth.gtmhub.com", SupportedVersions: []uint16{0x0303}},
		},
		{
			name: "no_sni",
			cfg:  &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h3"}},
			want: ClientHello{ALPN: []string{"h3"}, SupportedVersions: []uint16{0x0304, 0x0303}},
		},
		{
			name: "ech",
			cfg: &tls.Config{ServerName: "secret.example", MinVersion: tls.VersionTLS13,
				EncryptedClientHelloConfigList: echList, NextProtos: []string{"h2"}},
			want: ClientHello{ServerName: "public.example", ECH: true,
				ALPN: []string{"h2"}, SupportedVersions: []uint16{0x0304}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := goClientHello(t, tc.cfg)
			if tc.name == "default_pq" && len(msg) < 1100 {
				t.Errorf("hello of %d bytes: no post-quantum key share?", len(msg))
			}
			got, err := ParseClientHello(msg)
			if err != nil {
				t.Fatalf("ParseClientHello(%s) error %v", tc.name, err)
			}
			if !sameHello(got, tc.want) {
				t.Errorf("ParseClientHello(%s) = %+v, want %+v", tc.name, got, tc.want)
			}
			info, ok := goServerReads(msg)
			if !ok {
				t.Fatalf("crypto/tls server refused the hello")
			}
			if d := disagree(got, info); d != "" {
				t.Errorf("ParseClientHello(%s) and crypto/tls disagree: %s", tc.name, d)
			}
		})
	}
}

// goClientHello runs a crypto/tls client against a pipe and returns the
// handshake message it writes first, records removed.
func goClientHello(tb testing.TB, cfg *tls.Config) []byte {
	tb.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		_ = tls.Client(c, cfg).Handshake()
		c.Close()
	}()
	var msg []byte
	for len(msg) < 4 || len(msg) < 4+(int(msg[1])<<16|int(msg[2])<<8|int(msg[3])) {
		var hdr [5]byte
		if _, err := io.ReadFull(s, hdr[:]); err != nil {
			tb.Fatalf("reading the client's record: %v", err)
		}
		if hdr[0] != 22 {
			tb.Fatalf("record type %d, want handshake", hdr[0])
		}
		rec := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(s, rec); err != nil {
			tb.Fatalf("reading the client's record: %v", err)
		}
		msg = append(msg, rec...)
	}
	return msg
}

// goServerReads hands msg to a crypto/tls server and returns what it read
// of it; ok is false when the server refused the message.
func goServerReads(msg []byte) (info tls.ClientHelloInfo, ok bool) {
	c, s := net.Pipe()
	var wg sync.WaitGroup
	// Write msg in records of at most 2^14 bytes while draining what the
	// server answers: the pipe is synchronous.
	wg.Go(func() {
		for rest := msg; len(rest) > 0; {
			n := min(len(rest), 1<<14)
			rec := append([]byte{22, 3, 1, byte(n >> 8), byte(n)}, rest[:n]...)
			if _, err := c.Write(rec); err != nil {
				return
			}
			rest = rest[n:]
		}
	})
	wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
	errStop := errors.New("stop")
	srv := tls.Server(s, &tls.Config{
		GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
			info, ok = *chi, true
			return nil, errStop
		},
	})
	_ = s.SetDeadline(time.Now().Add(5 * time.Second))
	_ = srv.Handshake()
	s.Close()
	c.Close()
	wg.Wait()
	return info, ok
}

// disagree compares a parse with crypto/tls's reading of the same hello and
// returns "" when they agree.
func disagree(got ClientHello, info tls.ClientHelloInfo) string {
	if want, _ := hostName([]byte(info.ServerName)); got.ServerName != want && info.ServerName != "" ||
		got.ServerName != "" && info.ServerName == "" {
		return "server name " + got.ServerName + " vs " + info.ServerName
	}
	if got.ECH != slices.Contains(info.Extensions, extECH) {
		return "ech"
	}
	if !slices.Equal(got.ALPN, info.SupportedProtos) {
		return "alpn"
	}
	if slices.Contains(info.Extensions, extSupportedVersions) {
		want := slices.DeleteFunc(slices.Clone(info.SupportedVersions), isGREASE)
		if !slices.Equal(got.SupportedVersions, want) {
			return "supported versions"
		}
	}
	return ""
}

// testECHConfigList returns an ECHConfigList (draft-ietf-tls-esni, Section
// 4) with a fresh X25519 key and the given public name.
func testECHConfigList(tb testing.TB, publicName string) []byte {
	list, _, _ := testECHConfig(tb, publicName)
	return list
}

// testECHConfig returns an ECHConfigList holding one ECHConfig with a
// fresh X25519 key, that ECHConfig alone, and its private key.
func testECHConfig(tb testing.TB, publicName string) (list, config, private []byte) {
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddUint16(extECH) // version
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(7)       // config_id
		b.AddUint16(0x0020) // kem_id: DHKEM(X25519, HKDF-SHA256)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(key.PublicKey().Bytes())
		})
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(0x0001) // kdf_id: HKDF-SHA256
			b.AddUint16(0x0001) // aead_id: AES-128-GCM
		})
		b.AddUint8(0) // maximum_name_length
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes([]byte(publicName))
		})
		b.AddUint16(0) // extensions
	})
	config = b.BytesOrPanic()
	var l cryptobyte.Builder
	l.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(config) })
	return l.BytesOrPanic(), config, key.Bytes()
}

func FuzzParseClientHello(f *testing.F) {
	f.Add(helloTLS13)
	for _, e := range [][]byte{extSNIOneDot, extSNIControl, extSNIPort, extSNIColon, extSNITwoHosts, extECHOuter,
		extVersionsGREASE, extALPNEmptyName, extSNILongLabel} {
		f.Add(helloWith(e))
	}
	f.Add(goClientHello(f, &tls.Config{ServerName: "app.gtmhub.com", NextProtos: []string{"h2"}}))
	f.Add(goClientHello(f, &tls.Config{ServerName: "auth.gtmhub.com", MaxVersion: tls.VersionTLS12}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, err := ParseClientHello(msg)
		if err != nil {
			return
		}
		if got.ServerName != "" {
			if n, err := hostName([]byte(got.ServerName)); err != nil || n != got.ServerName {
				t.Fatalf("ServerName %q is not a lower-case host name", got.ServerName)
			}
		}
		for _, p := range got.ALPN {
			if p == "" {
				t.Fatalf("empty ALPN protocol in %q", got.ALPN)
			}
		}
		n := 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
		if _, err := ParseClientHello(msg[:n-1]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d bytes: error %v, want ErrTruncated", n-1, err)
		}
		if p, err := ParseClientHelloPrefix(msg); err != nil || p.Partial || !sameHello(p, got) {
			t.Fatalf("ParseClientHelloPrefix of the whole = %+v, %v, want %+v", p, err, got)
		}
		// A cut at any point, as a snaplen leaves it, tells no more than
		// the whole message; a bounded number of cuts keeps it fast.
		for i := 0; i < n; i += max(1, n/64) {
			p, err := ParseClientHelloPrefix(msg[:i])
			if err != nil {
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("ParseClientHelloPrefix(msg[:%d]) error %v, want ErrTruncated", i, err)
				}
				continue
			}
			if d := partOf(p, got); d != "" {
				t.Fatalf("ParseClientHelloPrefix(msg[:%d]): %s", i, d)
			}
		}
		if n > 1<<16 {
			return // crypto/tls refuses long messages
		}
		if info, ok := goServerReads(msg[:n]); ok {
			if d := disagree(got, info); d != "" {
				t.Fatalf("ParseClientHello and crypto/tls disagree: %s", d)
			}
		}
	})
}

func BenchmarkParseClientHello(b *testing.B) {
	cases := []struct {
		name string
		msg  []byte
	}{
		{"go_default_pq", goClientHello(b, &tls.Config{ServerName: "app.gtmhub.com",
			NextProtos: []string{"h2", "http/1.1"}})},
		{"go_no_alpn", goClientHello(b, &tls.Config{ServerName: "app.gtmhub.com"})},
		{"go_no_sni_no_alpn", goClientHello(b, &tls.Config{InsecureSkipVerify: true})},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.msg)))
			for b.Loop() {
				if _, err := ParseClientHello(c.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestParseClientHelloAllocs pins the allocations: none without a name or
// ALPN (the version list of common clients is shared), one for the name.
func TestParseClientHelloAllocs(t *testing.T) {
	tests := []struct {
		name string
		cfg  *tls.Config
		want float64
	}{
		{"no_sni_no_alpn", &tls.Config{InsecureSkipVerify: true}, 0},
		{"sni_no_alpn", &tls.Config{ServerName: "app.gtmhub.com"}, 1},
		{"sni_alpn", &tls.Config{ServerName: "app.gtmhub.com", NextProtos: []string{"h2"}}, 3},
	}
	for _, tc := range tests {
		msg := goClientHello(t, tc.cfg)
		got := testing.AllocsPerRun(100, func() { _, _ = ParseClientHello(msg) })
		if got != tc.want {
			t.Errorf("ParseClientHello(%s) allocates %v times, want %v", tc.name, got, tc.want)
		}
	}
}

// TestServerNameError checks that a server name that is not a host name
// fails with the bytes as sent, bounded, so that a reader can keep them as
// evidence.
func TestServerNameError(t *testing.T) {
	long := bytes.Repeat([]byte{'<'}, 300)
	tests := []struct {
		name string
		ext  []byte
		want string
	}{
		{"control_char", extSNIControl, "a\nb.c"},
		{"ipv6_literal", extSNIColon, "::1"},
		{"empty_label", extSNIEmptyLabel, "a..b"},
		{"long_markup", append([]byte{
			0x00, 0x00, // server_name
			0x01, 0x31, // extension length: 305
			0x01, 0x2f, // server_name_list length: 303
			0x00,       // host_name
			0x01, 0x2c, // length: 300
		}, long...), strings.Repeat("<", MaxShownServerName)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClientHello(helloWith(tc.ext))
			var bad *ServerNameError
			if !errors.As(err, &bad) || bad.Name != tc.want {
				t.Errorf("ParseClientHello(%s) = %v, want a ServerNameError holding %q", tc.name, err, tc.want)
			}
		})
	}
	if _, err := ParseClientHello(helloWith(extSNITwoHosts)); errors.As(err, new(*ServerNameError)) {
		t.Errorf("two host names: %v, want a malformed list, not a bad name", err)
	}
}

// TestReadBadServerName reads a TLS connection whose ClientHello names no
// host: the flow keeps the value, escaped, in its detail, and the packet
// is counted as failed with a message naming it, instead of the flow
// showing as an address only.
func TestReadBadServerName(t *testing.T) {
	c := newCap(t)
	k := c.conn(labClient, labServer)
	k.handshake()
	hello := helloWith(extSNIControl)
	k.client(append([]byte{0x16, 0x03, 0x01, byte(len(hello) >> 8), byte(len(hello))}, hello...)) // TLSPlaintext, handshake
	k.serverRST()
	obs, st := readAll(t, c.pcap(), nil)
	if len(obs) != 1 {
		t.Fatalf("%d observations, want 1", len(obs))
	}
	o := obs[0]
	if o.Host != "" || !strings.Contains(o.Detail, `server_name not a host name: "a\nb.c"`) {
		t.Errorf("observation host %q detail %q, want no host and the escaped name", o.Host, o.Detail)
	}
	want := `test.pcap: packet 4: client hello: server_name not a host name: "a\nb.c"`
	if st.Failed != 1 || len(st.Problems) != 1 || st.Problems[0].Err != want {
		t.Errorf("stats: %d failed, problems %v; want 1 and %q", st.Failed, st.Problems, want)
	}
}
