package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The checks here read a lab capture frame by frame, apart from the audit,
// to show that a scenario made the traffic it claims to: a test of the
// reassembly is worth little if the ClientHello fitted in one segment.

// labFrame is one captured frame: its length on the wire and its bytes.
type labFrame struct {
	wire int
	data []byte
}

// readLabFrames returns every frame of a pcap or pcapng file and its link
// type.
func readLabFrames(path string) ([]labFrame, layers.LinkType, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var r interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var link layers.LinkType
	if strings.HasSuffix(path, ".pcapng") {
		ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		r, link = ng, ng.LinkType()
	} else {
		p, err := pcapgo.NewReader(f)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		r, link = p, p.LinkType()
	}
	var frames []labFrame
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames, link, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: packet %d: %w", path, n, err)
		}
		frames = append(frames, labFrame{wire: ci.Length, data: data})
	}
}

// clientHelloSegments returns, for each TCP connection to port 443 in the
// order they start, how many segments from the client carry its first TLS
// record, a ClientHello. A connection whose first record is no ClientHello
// counts 0.
func clientHelloSegments(frames []labFrame, link layers.LinkType) []int {
	type hello struct {
		need, got, segments int
	}
	byPort := make(map[uint16]*hello)
	var order []uint16
	for _, f := range frames {
		p := gopacket.NewPacket(f.data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || tcp.DstPort != 443 || len(tcp.Payload) == 0 {
			continue
		}
		h := byPort[uint16(tcp.SrcPort)]
		if h == nil {
			h = &hello{}
			byPort[uint16(tcp.SrcPort)] = h
			order = append(order, uint16(tcp.SrcPort))
			// RFC 8446, Section 5.1: content type 22 (handshake), a
			// version, a length; then Section 4: handshake type 1.
			pl := tcp.Payload
			if len(pl) < 6 || pl[0] != 22 || pl[5] != 1 {
				h.need = -1
				continue
			}
			h.need = 5 + int(binary.BigEndian.Uint16(pl[3:5]))
		}
		if h.need <= 0 || h.got >= h.need {
			continue
		}
		h.got += len(tcp.Payload)
		h.segments++
	}
	out := make([]int, 0, len(order))
	for _, port := range order {
		h := byPort[port]
		if h.need <= 0 || h.got < h.need {
			out = append(out, 0)
			continue
		}
		out = append(out, h.segments)
	}
	return out
}

// checkLabFrames checks the case's frame expectations on a capture.
func checkLabFrames(t reporter, path string, tc labCase) {
	t.Helper()
	if tc.helloSegments == 0 && tc.maxFrame == 0 {
		return
	}
	frames, link, err := readLabFrames(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if tc.helloSegments > 0 {
		segs := clientHelloSegments(frames, link)
		if len(segs) == 0 {
			t.Errorf("%s: no TLS connection to port 443", path)
		}
		for i, n := range segs {
			if n != tc.helloSegments {
				t.Errorf("%s: connection %d to port 443: ClientHello in %d segments, want %d (all: %v)", path, i+1, n, tc.helloSegments, segs)
			}
		}
	}
	if tc.maxFrame > 0 {
		largest := 0
		for _, f := range frames {
			largest = max(largest, f.wire)
		}
		// The ClientHello's first segment fills the link: the largest
		// frame is the limit itself, else the MTU was not the one set.
		if largest != tc.maxFrame {
			t.Errorf("%s: largest frame %d bytes, want %d (the MTU plus the Ethernet header)", path, largest, tc.maxFrame)
		}
	}
}
