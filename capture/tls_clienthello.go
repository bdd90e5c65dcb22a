package capture

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// ErrTruncated reports a message shorter than its declared length: a caller
// that reassembles a stream can wait for more bytes and try again.
var ErrTruncated = errors.New("truncated")

// ErrNotClientHello reports a handshake message of another type than
// client_hello.
var ErrNotClientHello = errors.New("not a client hello")

// ServerNameError reports a server_name extension whose host_name is not a
// host name: markup, a terminal escape, an address literal. Name holds the
// bytes as sent, at most [MaxShownServerName] of them, for a caller that
// keeps the evidence to show escaped.
type ServerNameError struct {
	Name string
	Err  error // what is wrong with it
}

func (e *ServerNameError) Error() string { return e.Err.Error() }

func (e *ServerNameError) Unwrap() error { return e.Err }

// MaxShownServerName bounds the bytes of a bad server name that a
// [ServerNameError] keeps: a host_name may be 65535 bytes long, and a
// host name is at most 253.
const MaxShownServerName = 253

// TLS extension code points read from a ClientHello.
const (
	extServerName        = 0x0000 // RFC 6066, Section 3
	extALPN              = 0x0010 // RFC 7301, Section 3.1
	extSupportedVersions = 0x002b // RFC 8446, Section 4.2.1
	extECH               = 0xfe0d // TLS Encrypted Client Hello (draft-ietf-tls-esni), Section 5
)

// ClientHello is what egress-audit reads of a TLS ClientHello.
type ClientHello struct {
	// ServerName is the host_name of the server_name extension, lower case,
	// without a trailing dot; "" when the extension is absent.
	ServerName string
	// ECH reports an encrypted_client_hello extension: ServerName is then
	// the outer (public) name, not the server the client means to reach.
	// A GREASE ECH extension looks the same on the wire and counts too.
	ECH bool
	// ALPN lists the application protocols offered, as sent (any bytes).
	ALPN []string
	// SupportedVersions lists the versions of the supported_versions
	// extension in the client's order, GREASE values (RFC 8701) left out.
	// It may be shared between results: treat it as read-only.
	SupportedVersions []uint16
	// Partial reports a message cut short (only [ParseClientHelloPrefix]
	// returns one): the fields hold what the whole extensions before the
	// cut said, and an absent one may lie past it.
	Partial bool
}

// ParseClientHello parses msg, one whole handshake message that starts with
// the handshake type 1 and its 3-byte length (RFC 8446, Section 4.1.2).
// Bytes past the declared length are ignored. It returns an error wrapping
// [ErrTruncated] when msg is shorter than its declared length and
// [ErrNotClientHello] when the type is not client_hello, and one wrapping a
// [*ServerNameError] when the server name is not a host name. The result holds
// no references into msg. It is safe for concurrent use.
func ParseClientHello(msg []byte) (ClientHello, error) {
	return parseClientHello(msg, false)
}

// ParseClientHelloPrefix parses msg as [ParseClientHello] does, but also
// a message cut short of its declared length, as a capture's snaplen
// leaves it: the extensions are read up to the last one the cut left
// whole, and the result has Partial set. A cut inside the fixed fields,
// before the extensions, still returns an error wrapping [ErrTruncated].
// When the whole message parses, it agrees with every field a prefix of it
// gave; a field a prefix left empty may lie past the cut.
func ParseClientHelloPrefix(msg []byte) (ClientHello, error) {
	return parseClientHello(msg, true)
}

func parseClientHello(msg []byte, prefix bool) (ClientHello, error) {
	var ch ClientHello

	// RFC 8446, Section 4: Handshake { msg_type; uint24 length; body }.
	if len(msg) == 0 {
		return ch, fmt.Errorf("client hello: handshake header: %w", ErrTruncated)
	}
	if msg[0] != 1 {
		return ch, fmt.Errorf("client hello: handshake type %d: %w", msg[0], ErrNotClientHello)
	}
	if len(msg) < 4 {
		return ch, fmt.Errorf("client hello: handshake header: %w", ErrTruncated)
	}
	n := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
	cut := len(msg)-4 < n
	if cut && !prefix {
		return ch, fmt.Errorf("client hello: length %d exceeds the %d bytes present: %w",
			n, len(msg)-4, ErrTruncated)
	}
	body := cryptobyte.String(msg[4:min(4+n, len(msg))])

	// RFC 8446, Section 4.1.2: legacy_version, random, legacy_session_id,
	// cipher_suites, legacy_compression_methods.
	var sessionID, suites, compression cryptobyte.String
	if !body.Skip(2+32) ||
		!body.ReadUint8LengthPrefixed(&sessionID) || len(sessionID) > 32 ||
		!body.ReadUint16LengthPrefixed(&suites) || len(suites) < 2 || len(suites)%2 != 0 ||
		!body.ReadUint8LengthPrefixed(&compression) || len(compression) < 1 {
		if cut {
			return ch, fmt.Errorf("client hello: cut after %d of its %d bytes, inside the fixed fields: %w",
				len(msg)-4, n, ErrTruncated)
		}
		return ch, errors.New("client hello: malformed fixed fields")
	}
	ch.Partial = cut

	// A hello without extensions is valid TLS 1.2 (RFC 5246, Section 7.4.1.2).
	if body.Empty() {
		return ch, nil
	}
	var exts cryptobyte.String
	if cut {
		// The block's length, then as many of its bytes as the cut left.
		var l uint16
		if !body.ReadUint16(&l) {
			return ch, nil
		}
		if len(body) > int(l) {
			return ch, errors.New("client hello: malformed extensions block")
		}
		exts = body
	} else if !body.ReadUint16LengthPrefixed(&exts) || !body.Empty() {
		return ch, errors.New("client hello: malformed extensions block")
	}
	var seen uint8 // bit per extension read below, to refuse duplicates
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			if cut {
				break // the cut falls inside this extension
			}
			return ch, errors.New("client hello: malformed extension header")
		}
		var bit uint8
		var err error
		switch typ {
		case extServerName:
			bit = 1
			ch.ServerName, err = parseServerName(data)
		case extALPN:
			bit = 2
			ch.ALPN, err = parseALPN(data)
		case extSupportedVersions:
			bit = 4
			ch.SupportedVersions, err = parseSupportedVersions(data)
		case extECH:
			bit = 8
			ch.ECH = true
		default:
			continue
		}
		if seen&bit != 0 {
			return ClientHello{}, fmt.Errorf("client hello: extension 0x%04x: duplicate", typ)
		}
		seen |= bit
		if err != nil {
			return ClientHello{}, fmt.Errorf("client hello: extension 0x%04x: %w", typ, err)
		}
	}
	return ch, nil
}

// parseServerName reads the ServerNameList of RFC 6066, Section 3 and
// returns its host_name, checked and lower-cased.
func parseServerName(data cryptobyte.String) (string, error) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() || list.Empty() {
		return "", errors.New("malformed server name list")
	}
	var name []byte
	for !list.Empty() {
		var typ uint8
		var entry cryptobyte.String
		if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&entry) || entry.Empty() {
			return "", errors.New("malformed server name entry")
		}
		if typ != 0 { // only host_name(0) is defined
			continue
		}
		if name != nil {
			return "", errors.New("two host names")
		}
		name = entry
	}
	if name == nil {
		return "", nil
	}
	host, err := hostName(name)
	if err != nil {
		return "", &ServerNameError{Name: string(name[:min(len(name), MaxShownServerName)]), Err: err}
	}
	return host, nil
}

// hostName returns b as a lower-case host name without a trailing dot, or
// an error when b is not made of LDH labels (underscore allowed, as
// internal names use it) of 1 to 63 bytes, 253 bytes at most in all. A
// ":port" suffix, which some clients wrongly send, is dropped.
func hostName(b []byte) (string, error) {
	if i := bytes.LastIndexByte(b, ':'); i > 0 && i >= len(b)-6 && i < len(b)-1 &&
		isDigits(b[i+1:]) {
		b = b[:i]
	}
	if len(b) > 1 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) > 253 {
		return "", fmt.Errorf("host name of %d bytes", len(b))
	}
	label, upper := 0, false
	for _, c := range b {
		switch {
		case c == '.':
			if label == 0 {
				return "", fmt.Errorf("host name %q: empty label", b)
			}
			label = 0
			continue
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", fmt.Errorf("host name %q: byte 0x%02x", b, c)
		}
		label++
		if label > 63 {
			return "", fmt.Errorf("host name %q: label longer than 63 bytes", b)
		}
	}
	if label == 0 {
		return "", fmt.Errorf("host name %q: empty label", b)
	}
	if upper {
		return strings.ToLower(string(b)), nil
	}
	return string(b), nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseALPN reads the ProtocolNameList of RFC 7301, Section 3.1. The names
// are substrings of one string, so the list costs two allocations.
func parseALPN(data cryptobyte.String) ([]string, error) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() || list.Empty() {
		return nil, errors.New("malformed protocol name list")
	}
	count := 0
	for l := list; !l.Empty(); count++ {
		var p cryptobyte.String
		if !l.ReadUint8LengthPrefixed(&p) || p.Empty() {
			return nil, errors.New("malformed protocol name")
		}
	}
	all := string(list)
	protos := make([]string, 0, count)
	for off := 0; off < len(all); {
		n := int(all[off])
		protos = append(protos, all[off+1:off+1+n])
		off += 1 + n
	}
	return protos, nil
}

// commonVersions holds the supported_versions lists most clients send, so
// that reading them does not allocate.
var commonVersions = [][]uint16{
	{0x0304, 0x0303},
	{0x0304},
	{0x0304, 0x0303, 0x0302, 0x0301},
	{0x0304, 0x0303, 0x0302},
}

// isGREASE reports whether v is a GREASE value of RFC 8701, Section 2.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// parseSupportedVersions reads the ClientHello form of supported_versions
// (RFC 8446, Section 4.2.1): a list of 1 to 127 versions.
func parseSupportedVersions(data cryptobyte.String) ([]uint16, error) {
	var list cryptobyte.String
	if !data.ReadUint8LengthPrefixed(&list) || !data.Empty() ||
		len(list) < 2 || len(list)%2 != 0 {
		return nil, errors.New("malformed version list")
	}
	n := 0
	for i := 0; i < len(list); i += 2 {
		if !isGREASE(uint16(list[i])<<8 | uint16(list[i+1])) {
			n++
		}
	}
next:
	for _, c := range commonVersions {
		if len(c) != n {
			continue
		}
		j := 0
		for i := 0; i < len(list); i += 2 {
			v := uint16(list[i])<<8 | uint16(list[i+1])
			if isGREASE(v) {
				continue
			}
			if c[j] != v {
				continue next
			}
			j++
		}
		return c, nil
	}
	vs := make([]uint16, 0, n)
	for i := 0; i < len(list); i += 2 {
		if v := uint16(list[i])<<8 | uint16(list[i+1]); !isGREASE(v) {
			vs = append(vs, v)
		}
	}
	return vs, nil
}
