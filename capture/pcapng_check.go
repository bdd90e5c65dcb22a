package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
)

// pcapng block types the check looks at.
const (
	ngSimplePacket   = 3
	ngPacketObsolete = 2
	ngEnhancedPacket = 6
	ngByteOrderMagic = 0x1a2b3c4d
)

// maxBlock bounds one pcapng block: a packet record of [maxRecord] bytes
// with room for its header and options.
const maxBlock = maxRecord + 64<<10

// checkPcapngBlocks looks at the blocks buffered at the head of br, up to
// and including the next packet block, before the pcapng reader trusts
// their lengths: a length below 12, not a multiple of 4, above [maxBlock]
// or disagreeing with its trailing copy, or a captured length larger than
// its block, is damage, not a file cut short. bo follows the byte order of
// the current section.
func checkPcapngBlocks(br *bufio.Reader, bo *binary.ByteOrder) error {
	for off := 0; off+28 <= br.Size(); {
		h, _ := br.Peek(off + 28)
		if len(h) < off+8 {
			return nil // a clean end or a cut, which the reader reports
		}
		typ := binary.LittleEndian.Uint32(h[off:])
		if typ == pcapngMagic && len(h) >= off+12 {
			*bo = binary.LittleEndian
			if binary.BigEndian.Uint32(h[off+8:]) == ngByteOrderMagic {
				*bo = binary.BigEndian
			}
		}
		typ = (*bo).Uint32(h[off:])
		n := int((*bo).Uint32(h[off+4:]))
		switch {
		case n < 12 || n%4 != 0:
			return fmt.Errorf("pcapng block of type %#x claims %d bytes: not a multiple of 4 of at least 12", typ, n)
		case n > maxBlock:
			return fmt.Errorf("pcapng block of type %#x claims %d bytes, above the limit of %d", typ, n, maxBlock)
		}
		if typ == ngEnhancedPacket && len(h) >= off+24 {
			if c := int((*bo).Uint32(h[off+20:])); c > maxRecord || c > n-32 {
				return fmt.Errorf("pcapng packet claims %d captured bytes in a block of %d bytes", c, n)
			}
		}
		if b, err := br.Peek(off + n); err == nil {
			if m := int((*bo).Uint32(b[off+n-4:])); m != n {
				return fmt.Errorf("pcapng block of type %#x claims %d bytes but its trailing length says %d", typ, n, m)
			}
		}
		off += n
		if typ == ngEnhancedPacket || typ == ngSimplePacket || typ == ngPacketObsolete {
			return nil
		}
	}
	return nil
}
