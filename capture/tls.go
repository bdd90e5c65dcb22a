package capture

import (
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// RFC 8446, Section 5.1: record content types.
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
)

// RFC 8446, Section 4: handshake message types.
const (
	handshakeClientHello = 1
	handshakeServerHello = 2
	handshakeCertificate = 11
)

// RFC 8446, Section 6: alert descriptions that name a certificate problem.
const (
	alertBadCertificate     = 42
	alertCertificateUnknown = 46
	alertUnknownCA          = 48
)

// maxHandshakeMessage bounds the handshake bytes assembled per direction.
const maxHandshakeMessage = serverStreamCap

// alert is one plaintext TLS alert.
type alert struct {
	seen        bool
	level, desc uint8
	n           int64
}

var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
	22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled",
	109: "missing_extension", 110: "unsupported_extension",
	112: "unrecognized_name", 113: "bad_certificate_status_response",
	116: "certificate_required", 120: "no_application_protocol",
}

// String formats a as "fatal unknown_ca (48)".
func (a alert) String() string {
	level := "warning"
	if a.level == 2 {
		level = "fatal"
	}
	name, ok := alertNames[a.desc]
	if !ok {
		name = "alert"
	}
	return level + " " + name + " (" + strconv.Itoa(int(a.desc)) + ")"
}

// tlsInfo is what the TLS records of one flow showed.
type tlsInfo struct {
	hello  bool // a whole ClientHello was parsed
	helloN int64
	sni    string
	ech    bool
	badSNI string // a server_name that is not a host name, quoted

	// A ClientHello cut by the snaplen: the bytes of it the capture holds
	// and its declared length, handshake header included.
	cutRead, cutLen int
	cutFixed        bool // the cut left the fixed fields whole

	serverHello  bool
	serverHelloN int64
	version      uint16 // selected by the ServerHello

	issuer string
	certN  int64

	clientAlert, serverAlert alert
	clientCCS, serverCCS     bool
	clientEnc, serverEnc     int // encrypted records
	clientEncLen             int // length of the client's first one
	clientEncN               int64
}

// done reports whether the TLS handshake got far enough to call the flow
// reached: TLS 1.3 client Finished (an encrypted record too long to be an
// alert, or several), or TLS 1.2 ChangeCipherSpec both ways.
func (t *tlsInfo) done() bool {
	if t.version == 0x0304 {
		return t.clientEnc > 1 || t.clientEnc == 1 && t.clientEncLen >= 32 || t.serverEnc > 0 && t.clientEnc > 0 && t.clientEncLen >= 32
	}
	return t.clientCCS && t.serverCCS || t.clientEnc > 0 && t.serverEnc > 0
}

// abandoned reports whether a TLS 1.3 client answered the server's flight
// with one short encrypted record (an alert, 19 to 24 bytes) and nothing
// after it.
func (t *tlsInfo) abandoned() bool {
	return t.version == 0x0304 && t.serverEnc > 0 && t.clientEnc == 1 && t.clientEncLen < 32
}

// looksTLS reports whether b starts with a TLS handshake record header.
func looksTLS(b []byte) bool {
	return len(b) >= 3 && b[0] == recordHandshake && b[1] == 3 && b[2] <= 4
}

// walkRecords calls fn for each whole TLS record header in b, with the
// bytes of the record's body that b holds (possibly fewer than length).
// It stops at the first thing that is not a record header.
func walkRecords(b []byte, fn func(typ uint8, length int, body []byte, end int) bool) {
	off := 0
	for off+5 <= len(b) {
		typ := b[off]
		if typ < 20 || typ > 24 || b[off+1] != 3 {
			return
		}
		length := int(binary.BigEndian.Uint16(b[off+3:]))
		start := off + 5
		end := start + length
		body := b[start:min(end, len(b))]
		if !fn(typ, length, body, end) {
			return
		}
		off = end
	}
}

// tlsClient reads the client's side of a TLS stream: the ClientHello
// (assembled across records), then alerts, ChangeCipherSpec and encrypted
// records.
func (d *decoder) tlsClient(f *flow, b []byte, n int64) {
	t := &f.app.tls
	d.hs = d.hs[:0]
	t.clientEnc, t.clientCCS = 0, false
	walkRecords(b, func(typ uint8, length int, body []byte, end int) bool {
		switch typ {
		case recordHandshake:
			if t.clientCCS {
				return true // encrypted Finished of TLS 1.2
			}
			if !t.hello && len(d.hs)+len(body) <= maxHandshakeMessage {
				d.hs = append(d.hs, body...)
				if len(d.hs) >= 4 && d.hs[0] != handshakeClientHello {
					return false
				}
				if len(d.hs) >= 4 {
					mlen := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
					if len(d.hs) >= 4+mlen && end <= len(b) {
						d.clientHello(f, d.hs[:4+mlen], n)
					}
				}
			}
		case recordChangeCipherSpec:
			t.clientCCS = true
		case recordAlert:
			if len(body) >= 2 && !t.clientCCS && !t.clientAlert.seen && end <= len(b) {
				t.clientAlert = alert{seen: true, level: body[0], desc: body[1], n: n}
			}
		case recordApplicationData:
			if end > len(b) {
				return false
			}
			t.clientEnc++
			if t.clientEnc == 1 {
				t.clientEncLen = length
				if t.clientEncN == 0 {
					t.clientEncN = n
				}
			}
		}
		return true
	})
	if !t.hello && f.snapN != 0 && len(d.hs) >= 4 && d.hs[0] == handshakeClientHello {
		// The stream may end at the cut for good: read what it holds
		// now; a retransmission that fills the gap gets the whole
		// message read above.
		if mlen := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3]); len(d.hs) < 4+mlen {
			d.cutClientHello(f, d.hs, 4+mlen, n)
		}
	}
}

// clientHello records a whole ClientHello message.
func (d *decoder) clientHello(f *flow, msg []byte, n int64) {
	t := &f.app.tls
	ch, err := ParseClientHello(msg)
	t.hello, t.helloN = true, n
	var bad *ServerNameError
	if errors.As(err, &bad) {
		d.badServerName(f, bad, n)
	}
	if err != nil {
		return
	}
	t.sni = lowerASCII(ch.ServerName)
	t.ech = ch.ECH
}

// cutClientHello reads the part of a ClientHello that a snaplen cut left,
// msg, of a message of mlen bytes: a server_name extension before the cut
// names the flow as surely as a whole ClientHello would.
func (d *decoder) cutClientHello(f *flow, msg []byte, mlen int, n int64) {
	t := &f.app.tls
	t.cutRead, t.cutLen = len(msg), mlen
	ch, err := ParseClientHelloPrefix(msg)
	var bad *ServerNameError
	if errors.As(err, &bad) && t.badSNI == "" {
		t.helloN = n
		d.badServerName(f, bad, n)
	}
	t.cutFixed = !errors.Is(err, ErrTruncated)
	if err != nil {
		return
	}
	if ch.ServerName != "" {
		if t.sni == "" {
			t.helloN = n
		}
		t.sni = lowerASCII(ch.ServerName)
	}
	t.ech = t.ech || ch.ECH
}

// badServerName keeps a server_name that is not a host name as evidence,
// escaped, and counts its packet, rather than report the flow by its
// address as if no name had been sent. A ClientHello read again as more
// of it arrives counts once.
func (d *decoder) badServerName(f *flow, bad *ServerNameError, n int64) {
	t := &f.app.tls
	if t.badSNI != "" {
		return
	}
	t.badSNI = fmt.Sprintf("%q", bad.Name)
	if len(bad.Name) == MaxShownServerName {
		t.badSNI += "..."
	}
	d.st.Fail(Packet(n), &ProblemError{Input: d.name, Locator: Packet(n),
		Err: fmt.Errorf("client hello: server_name not a host name: %s", t.badSNI)})
}

// tlsServer reads the server's side: the ServerHello's selected version,
// the first certificate's issuer while it is in clear, alerts,
// ChangeCipherSpec and encrypted records.
func (d *decoder) tlsServer(f *flow, b []byte, n int64) {
	t := &f.app.tls
	d.hs = d.hs[:0]
	t.serverEnc, t.serverCCS = 0, false
	walkRecords(b, func(typ uint8, length int, body []byte, end int) bool {
		switch typ {
		case recordHandshake:
			if t.serverCCS || t.version == 0x0304 {
				return true
			}
			if len(d.hs)+len(body) > maxHandshakeMessage {
				return false
			}
			d.hs = append(d.hs, body...)
			d.serverHandshake(f, n)
		case recordChangeCipherSpec:
			t.serverCCS = true
		case recordAlert:
			if len(body) >= 2 && !t.serverCCS && t.version != 0x0304 && !t.serverAlert.seen && end <= len(b) {
				t.serverAlert = alert{seen: true, level: body[0], desc: body[1], n: n}
			}
		case recordApplicationData:
			if end <= len(b) {
				t.serverEnc++
			}
		}
		return true
	})
}

// serverHandshake reads the whole handshake messages assembled so far.
func (d *decoder) serverHandshake(f *flow, n int64) {
	t := &f.app.tls
	m := d.hs
	for len(m) >= 4 {
		mlen := int(m[1])<<16 | int(m[2])<<8 | int(m[3])
		if len(m) < 4+mlen {
			return
		}
		body := m[4 : 4+mlen]
		switch m[0] {
		case handshakeServerHello:
			if !t.serverHello {
				t.serverHello, t.serverHelloN = true, n
				t.version = serverHelloVersion(body)
			}
		case handshakeCertificate:
			if t.issuer == "" && t.version != 0x0304 {
				t.issuer, t.certN = firstCertIssuer(body), n
			}
		}
		m = m[4+mlen:]
	}
}

// tlsVersionName names a protocol version as RFC 8446, Section 4.2.1 and
// its predecessors number it: "TLS 1.3", "SSL 3.0", "TLS 1.3 draft 28".
func tlsVersionName(v uint16) string {
	switch {
	case v == 0x0300:
		return "SSL 3.0"
	case v >= 0x0301 && v <= 0x0304:
		return "TLS 1." + strconv.Itoa(int(v-0x0301))
	case v>>8 == 0x7f:
		return "TLS 1.3 draft " + strconv.Itoa(int(v&0xff))
	}
	return "version 0x" + strconv.FormatUint(uint64(v)|0x10000, 16)[1:]
}

// serverHelloVersion returns the version a ServerHello selects: the
// supported_versions extension when present (RFC 8446, Section 4.2.1),
// else legacy_version.
func serverHelloVersion(b []byte) uint16 {
	if len(b) < 38 {
		return 0
	}
	legacy := binary.BigEndian.Uint16(b)
	p := 34
	p += 1 + int(b[p]) // legacy_session_id_echo
	p += 3             // cipher_suite, legacy_compression_method
	if p+2 > len(b) {
		return legacy
	}
	ext := b[p+2:]
	if l := int(binary.BigEndian.Uint16(b[p:])); l < len(ext) {
		ext = ext[:l]
	}
	for len(ext) >= 4 {
		typ := binary.BigEndian.Uint16(ext)
		l := int(binary.BigEndian.Uint16(ext[2:]))
		if len(ext) < 4+l {
			break
		}
		if typ == 43 && l == 2 {
			return binary.BigEndian.Uint16(ext[4:])
		}
		ext = ext[4+l:]
	}
	return legacy
}

// firstCertIssuer returns the issuer of the first certificate of a TLS 1.2
// Certificate message (RFC 5246, Section 7.4.2), or "".
func firstCertIssuer(b []byte) string {
	if len(b) < 6 {
		return ""
	}
	b = b[3:]
	l := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	if len(b) < 3+l {
		return ""
	}
	cert, err := x509.ParseCertificate(b[3 : 3+l])
	if err != nil {
		return ""
	}
	if cert.Issuer.CommonName != "" {
		return cert.Issuer.CommonName
	}
	return cert.Issuer.String()
}

// lowerASCII returns s in lower case (host names are ASCII or punycode).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// containsFold reports whether sub is in s, ignoring ASCII case.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		ok := true
		for j := 0; j < n; j++ {
			a, b := s[i+j], sub[j]
			if a >= 'A' && a <= 'Z' {
				a += 'a' - 'A'
			}
			if b >= 'A' && b <= 'Z' {
				b += 'a' - 'A'
			}
			if a != b {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
