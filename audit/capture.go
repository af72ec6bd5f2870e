package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// ReadFile audits the capture at path (pcap or pcapng, told apart by their
// first bytes). A file that ends in the middle of a packet, as one whose
// capture was killed does, is not an error: the report says so (CutShort)
// and covers every complete packet. Any other read error is returned with
// the report of the packets before it.
func ReadFile(path string, opts Options) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err) // the path is in err
	}
	defer f.Close()
	r, err := Read(f, opts)
	if r != nil {
		r.File = path
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Read audits a capture read from r.
func Read(r io.Reader, opts Options) (*Report, error) {
	src, err := openCapture(r)
	if err != nil {
		return nil, err
	}
	a := newAuditor(opts)
	for n := 1; ; n++ {
		data, ci, link, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			a.report.CutShort = true
			break
		}
		if err != nil {
			return a.finish(), fmt.Errorf("packet %d: %w", n, err)
		}
		a.packet(n, ci.Timestamp, link, data, ci.CaptureLength < ci.Length)
	}
	return a.finish(), nil
}

// packetReader is what both pcapgo readers offer.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// captureSource reads packets with their link type: one per file for pcap,
// one per interface for pcapng.
type captureSource struct {
	r      packetReader
	ng     bool
	link   layers.LinkType
	reader string
}

// pcapngMagic starts a pcapng file (its section header block type).
var pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

func openCapture(r io.Reader) (*captureSource, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %d bytes, too short for a pcap or pcapng file", ErrCapture, len(magic))
	}
	if bytes.Equal(magic, pcapngMagic) {
		// Interfaces of different link types (a capture on several
		// interfaces) are all read; pcapgo then reports each packet's.
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("%w: pcapng: %v", ErrCapture, err)
		}
		return &captureSource{r: ng, ng: true, reader: "pcapng"}, nil
	}
	p, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: neither pcap nor pcapng (%v); give a file written by tcpdump -w, tshark -w or dumpcap", ErrCapture, err)
	}
	return &captureSource{r: p, link: p.LinkType(), reader: "pcap"}, nil
}

// next returns the next packet. A panic inside the third-party reader on a
// corrupt file becomes an error: a bad file must not crash the audit.
func (s *captureSource) next() (data []byte, ci gopacket.CaptureInfo, link uint32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s reader failed: %v", ErrCapture, s.reader, p)
		}
	}()
	data, ci, err = s.r.ReadPacketData()
	if err != nil {
		return nil, ci, 0, err
	}
	link = uint32(s.link)
	if s.ng && len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			link = uint32(lt)
		}
	}
	return data, ci, link, nil
}
