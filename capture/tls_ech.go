package capture

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// svcParamECH is the SvcParamKey of an Encrypted Client Hello
// configuration list (RFC 9460, Section 14.3.2).
const svcParamECH = 5

// SVCBHasECH reports whether the RDATA of a DNS SVCB or HTTPS record (types
// 64 and 65, RFC 9460, Section 2.2) carries the ech parameter: the name
// publishes an Encrypted Client Hello configuration, so its clients may
// hide it behind a public name. rdata is the record's data alone, whose
// TargetName is never compressed. An AliasMode record (SvcPriority 0)
// carries no parameters and reports false.
func SVCBHasECH(rdata []byte) (bool, error) {
	s := cryptobyte.String(rdata)
	var priority uint16
	if !s.ReadUint16(&priority) {
		return false, errors.New("svcb: truncated priority")
	}
	// TargetName: uncompressed labels up to the root.
	for n := 0; ; {
		var label cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&label) {
			return false, errors.New("svcb: truncated target name")
		}
		if len(label) > 63 {
			return false, fmt.Errorf("svcb: target name label of %d bytes", len(label))
		}
		if n += 1 + len(label); n > 255 {
			return false, errors.New("svcb: target name longer than 255 bytes")
		}
		if len(label) == 0 {
			break
		}
	}
	// SvcParams, in strictly increasing key order (Section 2.2).
	last, has := -1, false
	for !s.Empty() {
		var key uint16
		var value cryptobyte.String
		if !s.ReadUint16(&key) || !s.ReadUint16LengthPrefixed(&value) {
			return false, errors.New("svcb: truncated parameter")
		}
		if int(key) <= last {
			return false, fmt.Errorf("svcb: parameter key %d after %d", key, last)
		}
		last = int(key)
		if key == svcParamECH {
			if len(value) == 0 {
				return false, errors.New("svcb: empty ech parameter")
			}
			has = true
		}
	}
	return has, nil
}
