package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ownCaptures lists the captures the project generates itself, and the
// corpus captures when EGRESS_AUDIT_CORPUS is set.
func ownCaptures(t *testing.T, corpus bool) []string {
	t.Helper()
	var files []string
	for _, g := range []string{"../testdata/samples/*.pcap*", "../testdata/captures/*.pcap*", "../testdata/captures/*/*.pcap*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no captures under ../testdata")
	}
	if dir := os.Getenv("EGRESS_AUDIT_CORPUS"); corpus && dir != "" {
		m, _ := filepath.Glob(filepath.Join(dir, "pcap", "*.pcap*"))
		for _, f := range m {
			if !strings.HasSuffix(f, ".json") {
				files = append(files, f)
			}
		}
	}
	return files
}

// recordEnds returns the offsets where the records of a capture end: pcap
// records, or pcapng blocks (all of them in blocks, the packet blocks in
// packets). A cut at one of them is a clean end.
func recordEnds(file []byte) (ends, packets []int) {
	if IsPcap(file) {
		bo := binary.ByteOrder(binary.LittleEndian)
		if m := bo.Uint32(file); m != pcapMagicMicro && m != pcapMagicNano {
			bo = binary.BigEndian
		}
		for off := 24; off+16 <= len(file); {
			off += 16 + int(bo.Uint32(file[off+8:]))
			ends = append(ends, off)
		}
		return ends, ends
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	for off := 0; off+12 <= len(file); {
		if binary.LittleEndian.Uint32(file[off:]) == pcapngMagic {
			bo = binary.LittleEndian
			if binary.BigEndian.Uint32(file[off+8:]) == 0x1a2b3c4d {
				bo = binary.BigEndian
			}
		}
		typ, n := bo.Uint32(file[off:]), int(bo.Uint32(file[off+4:]))
		if n < 12 {
			break
		}
		off += n
		ends = append(ends, off)
		if typ == ngEnhancedPacket || typ == ngSimplePacket || typ == ngPacketObsolete {
			packets = append(packets, off)
		}
	}
	return ends, packets
}

// obsKey is what a partial read must still find of an observation: the
// flow, and the question of a lookup. A connection's name may come from a
// packet long after its first one (a late ClientHello, a later DNS answer).
func obsKey(o *Observation) string {
	host := o.Host
	if o.Kind == Connection {
		host = "-"
	}
	return fmt.Sprintf("%s %s %s>%s %s", o.Kind, host, o.Client, o.Server, o.Transport)
}

// TestTruncatedCaptures cuts every capture the project writes (and the
// corpus captures when EGRESS_AUDIT_CORPUS is set) at many offsets: every
// byte of small files, about 200 spread offsets of larger ones. A cut never
// panics and never errors; a cut inside a record sets Truncated and names
// the packet; every observation whose first packet lies well before the
// cut is still found.
func TestTruncatedCaptures(t *testing.T) {
	// margin is how many packets after an observation's first one a cut
	// must leave for the observation to be complete (handshake, a split
	// ClientHello, the answer).
	const margin = 40
	for _, path := range ownCaptures(t, true) {
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			full := map[string]int64{}
			fullSt := &Stats{}
			if err := Read(bytes.NewReader(file), path, nil, fullSt, func(o *Observation) {
				k := obsKey(o)
				if n, ok := full[k]; !ok || o.Locator.N < n {
					full[k] = o.Locator.N
				}
			}); err != nil {
				t.Fatalf("full read: %v", err)
			}
			ends, packets := recordEnds(file)
			atEnd := map[int]bool{}
			for _, e := range ends {
				atEnd[e] = true
			}
			step := 1
			if len(file) > 4096 {
				step = len(file)/200 + 1
			}
			for cut := 0; cut < len(file); cut += step {
				cutAt(t, file, cut, atEnd, packets, full, margin, fullSt.Truncated != "")
			}
		})
	}
}

func cutAt(t *testing.T, file []byte, cut int, atEnd map[int]bool, ends []int, full map[string]int64, margin int64, damaged bool) {
	t.Helper()
	got := map[string]bool{}
	st := &Stats{}
	err := Read(bytes.NewReader(file[:cut]), "cut", nil, st, func(o *Observation) { got[obsKey(o)] = true })
	switch {
	case cut < 4:
		if cut > 0 && err == nil {
			t.Errorf("cut at %d (inside the magic): no error", cut)
		}
		return
	case err != nil:
		t.Fatalf("cut at %d: %v", cut, err)
	}
	whole := int64(0) // packet records wholly before the cut
	for _, e := range ends {
		if e <= cut {
			whole++
		}
	}
	if damaged {
		return
	}
	if !atEnd[cut] && cut > 24 && st.Truncated == "" {
		t.Errorf("cut at %d inside a record: Truncated not set (%d records)", cut, st.Records)
	}
	if atEnd[cut] && IsPcap(file) && st.Truncated != "" {
		t.Errorf("cut at %d at a record boundary: Truncated = %q", cut, st.Truncated)
	}
	if st.Truncated != "" && !strings.Contains(st.Truncated, "packet") && !strings.Contains(st.Truncated, "header") {
		t.Errorf("cut at %d: Truncated = %q names neither a packet nor a header", cut, st.Truncated)
	}
	n := st.Records + st.SkippedTotal() + st.Failed
	if n > whole || n < whole-4 {
		t.Errorf("cut at %d: %d records accounted for, %d blocks before the cut", cut, n, whole)
	}
	for k, first := range full {
		if first+margin < n && !got[k] {
			t.Errorf("cut at %d after %d packets: lost %s (packet %d)", cut, n, k, first)
		}
	}
}

// ngFile writes a pcapng capture of pkts (raw IP) and returns it with the
// offsets of each enhanced packet block.
func ngFile(t *testing.T, pkts [][]byte) ([]byte, []int) {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for i, p := range pkts {
		w.Flush()
		offs = append(offs, b.Len())
		ci := gopacket.CaptureInfo{Timestamp: labEpoch.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes(), offs
}

// TestDamagedContainers reads captures whose container lies: each read
// gives a message naming the input, the packet and what is wrong, and
// reading goes on where the container allows it.
func TestDamagedContainers(t *testing.T) {
	ip := sniFlowIP(t)
	good := rawPcap(binary.LittleEndian, false, layers.LinkTypeRaw, ip)
	ng, offs := ngFile(t, ip)

	patch := func(file []byte, off int, v uint32) []byte {
		c := bytes.Clone(file)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	// The second record of the pcap file starts after the first.
	rec2 := 24 + 16 + len(ip[0])
	var secondSection []byte
	{
		// A whole second section (SHB, IDB, packets) appended in the
		// middle: the packets after it are read with its interfaces.
		a, _ := ngFile(t, ip[:2])
		b, _ := ngFile(t, ip[2:])
		secondSection = append(a, b...)
	}
	outOfOrder := func() []byte {
		c := bytes.Clone(good)
		// Swap the timestamps of the first and last records.
		last := 24
		for i := 0; i < len(ip)-1; i++ {
			last += 16 + len(ip[i])
		}
		t0 := binary.LittleEndian.Uint32(c[24:])
		binary.LittleEndian.PutUint32(c[24:], binary.LittleEndian.Uint32(c[last:])+3600)
		binary.LittleEndian.PutUint32(c[last:], t0-3600)
		return c
	}()
	aboveSnaplen := func() []byte {
		c := bytes.Clone(good)
		binary.LittleEndian.PutUint32(c[16:], 40) // snaplen 40
		return c
	}()

	cases := []struct {
		name      string
		file      []byte
		err       string // Read's error, "" for none
		truncated string // substring of Truncated, "" for none
		problem   string // substring of the first problem, "" for none
		records   int64  // packets used
		host      bool   // the SNI flow is still found
		backwards int64  // packets stamped before the one before them
	}{
		{name: "zero_length", file: nil, err: "not a pcap"},
		{name: "wrong_magic", file: append([]byte("GIF89a"), good[6:]...), err: "not a pcap"},
		{name: "pcap_header_only", file: good[:24], records: 0},
		{name: "pcap_cut_header", file: good[:20], truncated: "file header"},
		{name: "pcap_record_above_256k", file: patch(good, rec2+8, 300<<10),
			truncated: "packet 2", problem: "cut: packet 2: record length 307200 exceeds", records: 1},
		{name: "pcap_record_above_snaplen", file: aboveSnaplen,
			problem: "cut: packet 1: captured length", records: 0},
		// The first packet is an hour late, the last an hour early: the
		// second and the last go back in time.
		{name: "pcap_out_of_time_order", file: outOfOrder, records: int64(len(ip)), host: true, backwards: 2},
		{name: "pcapng_block_too_big", file: patch(ng, offs[1]+4, 1<<30),
			truncated: "packet 2", problem: "cut: packet 2: pcapng block of type 0x6 claims 1073741824 bytes", records: 1},
		{name: "pcapng_block_longer_than_said", file: patch(ng, offs[1]+4, binary.LittleEndian.Uint32(ng[offs[1]+4:])+4),
			truncated: "packet 2", problem: "cut: packet 2: pcapng block of type 0x6 claims", records: 1},
		{name: "pcapng_block_too_small", file: patch(ng, offs[1]+4, 8),
			truncated: "packet 2", problem: "cut: packet 2:", records: 1},
		{name: "pcapng_block_not_multiple_of_4", file: patch(ng, offs[1]+4, binary.LittleEndian.Uint32(ng[offs[1]+4:])+1),
			truncated: "packet 2", problem: "cut: packet 2:", records: 1},
		{name: "pcapng_caplen_above_block", file: patch(ng, offs[1]+20, 200<<10),
			truncated: "packet 2", problem: "cut: packet 2:", records: 1},
		{name: "pcapng_caplen_above_256k", file: patch(ng, offs[1]+20, 300<<10),
			truncated: "packet 2", problem: "cut: packet 2:", records: 1},
		// The second section's packets are stamped from the same start
		// as the first's: its first packet goes back in time.
		{name: "pcapng_section_in_the_middle", file: secondSection, records: int64(len(ip)), host: true, backwards: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &Stats{}
			var hosts []string
			err := Read(bytes.NewReader(tc.file), "cut", nil, st, func(o *Observation) { hosts = append(hosts, o.Host) })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one holding %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if tc.truncated == "" && st.Truncated != "" || !strings.Contains(st.Truncated, tc.truncated) {
				t.Errorf("Truncated = %q, want %q", st.Truncated, tc.truncated)
			}
			if tc.problem == "" && len(st.Problems) > 0 {
				t.Errorf("problems = %v, want none", st.Problems)
			}
			if tc.problem != "" && (len(st.Problems) == 0 || !strings.HasPrefix(st.Problems[0].Err, tc.problem)) {
				t.Errorf("problems = %v, want the first to start with %q", st.Problems, tc.problem)
			}
			if st.Records != tc.records {
				t.Errorf("Records = %d, want %d (skipped %v, failed %d)", st.Records, tc.records, st.Skipped, st.Failed)
			}
			if st.OutOfOrder != tc.backwards {
				t.Errorf("OutOfOrder = %d, want %d", st.OutOfOrder, tc.backwards)
			}
			found := false
			for _, h := range hosts {
				found = found || h == apiHost
			}
			if tc.host && !found {
				t.Errorf("hosts = %q, want %s among them", hosts, apiHost)
			}
		})
	}
}
