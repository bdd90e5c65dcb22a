package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// rawPcap writes a pcap file by hand, in either byte order and with micro
// or nanosecond timestamps.
func rawPcap(bo binary.ByteOrder, nanos bool, lt layers.LinkType, pkts [][]byte) []byte {
	var b bytes.Buffer
	magic := uint32(pcapMagicMicro)
	if nanos {
		magic = pcapMagicNano
	}
	hdr := make([]byte, 24)
	bo.PutUint32(hdr, magic)
	bo.PutUint16(hdr[4:], 2)
	bo.PutUint16(hdr[6:], 4)
	bo.PutUint32(hdr[16:], 65535)
	bo.PutUint32(hdr[20:], uint32(lt))
	b.Write(hdr)
	for i, p := range pkts {
		rec := make([]byte, 16)
		bo.PutUint32(rec, uint32(labEpoch.Unix())+uint32(i))
		bo.PutUint32(rec[8:], uint32(len(p)))
		bo.PutUint32(rec[12:], uint32(len(p)))
		b.Write(rec)
		b.Write(p)
	}
	return b.Bytes()
}

// sniFlowIP returns the IP packets of a TLS flow to apiHost: handshake,
// ClientHello, server answer.
func sniFlowIP(t *testing.T) [][]byte {
	tr := transcripts(t)["tls13_ok"]
	c := newCap(t)
	k := c.conn(labClient, labServer)
	k.handshake()
	k.replay(tr[:2], 1400)
	var out [][]byte
	for _, f := range c.frames {
		out = append(out, f.data[14:])
	}
	return out
}

func wrap(pkts [][]byte, hdr func(ip []byte) []byte) [][]byte {
	var out [][]byte
	for _, p := range pkts {
		out = append(out, append(hdr(p), p...))
	}
	return out
}

func TestReadLinkTypes(t *testing.T) {
	ip := sniFlowIP(t)
	eth := func(tags ...uint16) func([]byte) []byte {
		return func([]byte) []byte {
			h := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
			for _, tag := range tags {
				h = binary.BigEndian.AppendUint16(h, tag)
				h = append(h, 0, 5)
			}
			return binary.BigEndian.AppendUint16(h, 0x0800)
		}
	}
	cases := []struct {
		name string
		file []byte
	}{
		{"ethernet_le_micro", rawPcap(binary.LittleEndian, false, layers.LinkTypeEthernet, wrap(ip, eth()))},
		{"ethernet_be_nano", rawPcap(binary.BigEndian, true, layers.LinkTypeEthernet, wrap(ip, eth()))},
		{"vlan_qinq", rawPcap(binary.LittleEndian, false, layers.LinkTypeEthernet, wrap(ip, eth(0x88a8, 0x8100)))},
		{"linux_sll", rawPcap(binary.LittleEndian, false, layers.LinkTypeLinuxSLL, wrap(ip, func([]byte) []byte {
			return []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}
		}))},
		{"linux_sll2", rawPcap(binary.LittleEndian, false, layers.LinkTypeLinuxSLL2, wrap(ip, func([]byte) []byte {
			return []byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
		}))},
		{"raw_ip", rawPcap(binary.LittleEndian, false, layers.LinkTypeRaw, ip)},
		{"bsd_null", rawPcap(binary.LittleEndian, false, layers.LinkTypeNull, wrap(ip, func([]byte) []byte { return []byte{2, 0, 0, 0} }))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs, st := readAll(t, tc.file, nil)
			if st.Records != int64(len(ip)) {
				t.Errorf("Records = %d, want %d (skipped %v)", st.Records, len(ip), st.Skipped)
			}
			if len(obs) != 1 || obs[0].Host != apiHost || obs[0].HostSource != SourceSNI {
				t.Fatalf("observations = %+v, want one with SNI %s", obs, apiHost)
			}
			if obs[0].Time.Before(labEpoch) || obs[0].Time.After(labEpoch.Add(time.Minute)) {
				t.Errorf("Time = %v, want near %v", obs[0].Time, labEpoch)
			}
		})
	}
}

// TestReadPcapngInterfaces reads a pcapng whose two interfaces have
// different link types, the flow's packets alternating between them.
func TestReadPcapngInterfaces(t *testing.T) {
	ip := sniFlowIP(t)
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&out, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ip {
		ci := gopacket.CaptureInfo{Timestamp: labEpoch.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if i%2 == 0 {
			frame := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}, p...)
			ci.CaptureLength, ci.Length = len(frame), len(frame)
			err = w.WritePacket(ci, frame)
		} else {
			ci.InterfaceIndex = raw
			err = w.WritePacket(ci, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	obs, st := readAll(t, out.Bytes(), nil)
	if st.Records != int64(len(ip)) {
		t.Errorf("Records = %d, want %d (skipped %v)", st.Records, len(ip), st.Skipped)
	}
	if len(obs) != 1 || obs[0].Host != apiHost {
		t.Fatalf("observations = %+v, want one with SNI %s", obs, apiHost)
	}
	if !obs[0].Time.Equal(labEpoch) {
		t.Errorf("Time = %v, want %v", obs[0].Time, labEpoch)
	}
}

// TestReadTruncated cuts a capture at every byte: reading never fails, the
// packets before the cut are counted, and a cut inside a record is said.
func TestReadTruncated(t *testing.T) {
	file := rawPcap(binary.LittleEndian, false, layers.LinkTypeRaw, sniFlowIP(t))
	// Every byte of the first packets, then every 7th (each read takes a
	// 1 MiB buffer).
	for cut := 24; cut < len(file); cut += 1 + 6*(cut/600) {
		var st Stats
		err := Read(bytes.NewReader(file[:cut]), "cut.pcap", nil, &st, func(*Observation) {})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		atBoundary := false
		for off := 24; off <= cut; {
			if off == cut {
				atBoundary = true
				break
			}
			off += 16 + int(binary.LittleEndian.Uint32(file[off+8:]))
		}
		if atBoundary != (st.Truncated == "") {
			t.Fatalf("cut at %d: Truncated = %q, at a record boundary: %v", cut, st.Truncated, atBoundary)
		}
	}
	var st Stats
	Read(bytes.NewReader(file[:len(file)-3]), "cut.pcap", nil, &st, func(*Observation) {})
	if !strings.Contains(st.Truncated, "packet 7") || st.Records != 6 {
		t.Errorf("Truncated = %q after %d records, want packet 7 named after 6", st.Truncated, st.Records)
	}
}

func TestReadNotACapture(t *testing.T) {
	var st Stats
	if err := Read(strings.NewReader("hello world"), "x", nil, &st, func(*Observation) {}); err == nil {
		t.Error("Read(text) = nil, want an error")
	}
}

// pcapngTimestamps writes a pcapng file of raw IP packets on one interface
// whose if_tsresol option is tsresol and whose if_tsoffset is offset
// seconds (none when 0), packet i stamped at labEpoch + i ms. pcapgo's
// writer fixes both options, so the blocks are laid out here (the pcapng
// draft, Sections 4.1, 4.2 and 4.3).
func pcapngTimestamps(t *testing.T, packets [][]byte, tsresol uint8, offset int64) []byte {
	t.Helper()
	le := binary.LittleEndian
	var out []byte
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		out = le.AppendUint32(out, typ)
		out = le.AppendUint32(out, n)
		out = append(out, body...)
		out = le.AppendUint32(out, n)
	}
	// Section header: byte-order magic, version 1.0, section length unknown.
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	block(0x0a0d0d0a, shb)

	idb := le.AppendUint16(nil, uint16(layers.LinkTypeRaw))
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 65535)
	idb = le.AppendUint16(idb, 9) // if_tsresol
	idb = le.AppendUint16(idb, 1)
	idb = append(idb, tsresol, 0, 0, 0)
	if offset != 0 {
		idb = le.AppendUint16(idb, 14) // if_tsoffset
		idb = le.AppendUint16(idb, 8)
		idb = le.AppendUint64(idb, uint64(offset))
	}
	idb = le.AppendUint32(idb, 0) // opt_endofopt
	block(1, idb)

	// Units a second: 10^-n, or 2^-n when the high bit is set.
	perSecond := uint64(1)
	for i := 0; i < int(tsresol&0x7f); i++ {
		if tsresol&0x80 != 0 {
			perSecond *= 2
		} else {
			perSecond *= 10
		}
	}
	for i, p := range packets {
		ts := labEpoch.Add(time.Duration(i) * time.Millisecond).Add(-time.Duration(offset) * time.Second)
		units := uint64(ts.Unix())*perSecond + uint64(ts.Nanosecond())*perSecond/1e9
		epb := le.AppendUint32(nil, 0)
		epb = le.AppendUint32(epb, uint32(units>>32))
		epb = le.AppendUint32(epb, uint32(units))
		epb = le.AppendUint32(epb, uint32(len(p)))
		epb = le.AppendUint32(epb, uint32(len(p)))
		block(6, append(epb, p...))
	}
	return out
}

// TestReadPcapngTimestamps reads interfaces whose timestamps are in other
// units than pcapgo's writer uses, and shifted by if_tsoffset: evidence
// carries the time the packets were stamped with.
func TestReadPcapngTimestamps(t *testing.T) {
	ip := sniFlowIP(t)
	tests := []struct {
		name    string
		tsresol uint8
		offset  int64
		within  time.Duration
	}{
		{name: "microseconds_default_units", tsresol: 6},
		{name: "nanoseconds", tsresol: 9},
		{name: "milliseconds", tsresol: 3},
		{name: "binary_2_pow_minus_20", tsresol: 0x80 | 20, within: time.Microsecond},
		{name: "offset_seconds", tsresol: 6, offset: 1_700_000_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs, st := readAll(t, pcapngTimestamps(t, ip, tc.tsresol, tc.offset), nil)
			if st.Records != int64(len(ip)) {
				t.Fatalf("%d records, want %d (skipped %v, problems %v)", st.Records, len(ip), st.Skipped, st.Problems)
			}
			if len(obs) != 1 || obs[0].Host != apiHost {
				t.Fatalf("observations = %+v, want one with SNI %s", obs, apiHost)
			}
			if d := obs[0].Time.Sub(labEpoch); d < -tc.within || d > tc.within {
				t.Errorf("Time = %v, want %v (within %v)", obs[0].Time, labEpoch, tc.within)
			}
		})
	}
}
