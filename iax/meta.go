package iax

import (
	"encoding/binary"
	"fmt"
)

// Header lengths of the meta frame kinds.
const (
	VideoHeaderLen      = 6
	TrunkHeaderLen      = 8
	MetaHeaderLen       = 3 // the 16 zero bits and the command byte
	trunkEntryLen       = 4 // R|call, length
	trunkEntryLenTS     = 6 // length, R|call, timestamp
	maxTrunkEntryData   = 0xffff
	trunkTimestampsFlag = 0x01 // the T bit of a trunk frame's command data
)

// VideoFrame is a meta video frame (RFC 5456 section 8.1.3): unreliable
// video with 15 bits of timestamp.
//
//	| 0 (16)             |
//	|1| source call (15) |
//	|M| timestamp (15)   |
type VideoFrame struct {
	SrcCall   uint16 // 15 bits
	Timestamp uint16 // raw 16 bits, the top (marker) bit included
	Payload   []byte // aliases the input
}

// ParseVideo parses a meta video frame. It returns ErrNotVideo for any other
// kind and ErrTooShort when b is shorter than the header.
func ParseVideo(b []byte) (VideoFrame, error) {
	if len(b) < MetaHeaderLen {
		return VideoFrame{}, ErrTooShort
	}
	if b[0] != 0 || b[1] != 0 || b[2]&flagVideo == 0 {
		return VideoFrame{}, ErrNotVideo
	}
	if len(b) < VideoHeaderLen {
		return VideoFrame{}, ErrTooShort
	}
	return VideoFrame{
		SrcCall:   binary.BigEndian.Uint16(b[2:]) & callNoMask,
		Timestamp: binary.BigEndian.Uint16(b[4:]),
		Payload:   b[VideoHeaderLen:],
	}, nil
}

// AppendTo appends the frame's wire form to dst and returns the extended
// slice; it is the exact inverse of ParseVideo.
func (v *VideoFrame) AppendTo(dst []byte) []byte {
	dst = append(dst, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, v.SrcCall&callNoMask|flagFull)
	dst = binary.BigEndian.AppendUint16(dst, v.Timestamp)
	return append(dst, v.Payload...)
}

// Marker reports the top bit of the timestamp field, which Asterisk sets on
// the last packet of a video frame.
func (v *VideoFrame) Marker() bool { return v.Timestamp&0x8000 != 0 }

// TrunkFrame is a meta trunk frame (RFC 5456 section 8.1.4): mini frames of
// several calls between the same two hosts, sent together.
//
//	| 0 (16) | 0|cmd=1 (8) | cmd data (8) |
//	|          timestamp (32)             |
//	| entries ...                         |
type TrunkFrame struct {
	CmdData   uint8 // bit 0 is the T bit: entries carry their own timestamps
	Timestamp uint32
	Entries   []byte // raw entries, aliasing the input; walk them with Range
}

// ParseTrunk parses a meta trunk frame's header. The entries are checked
// only when walked with Range. It returns ErrNotTrunk for any other kind and
// ErrTooShort when b is shorter than the header.
func ParseTrunk(b []byte) (TrunkFrame, error) {
	if len(b) < MetaHeaderLen {
		return TrunkFrame{}, ErrTooShort
	}
	if b[0] != 0 || b[1] != 0 || b[2] != metaTrunk {
		return TrunkFrame{}, ErrNotTrunk
	}
	if len(b) < TrunkHeaderLen {
		return TrunkFrame{}, ErrTooShort
	}
	return TrunkFrame{
		CmdData:   b[3],
		Timestamp: binary.BigEndian.Uint32(b[4:]),
		Entries:   b[TrunkHeaderLen:],
	}, nil
}

// AppendTo appends the frame's wire form to dst and returns the extended
// slice; it is the exact inverse of ParseTrunk.
func (t *TrunkFrame) AppendTo(dst []byte) []byte {
	dst = append(dst, 0, 0, metaTrunk, t.CmdData)
	dst = binary.BigEndian.AppendUint32(dst, t.Timestamp)
	return append(dst, t.Entries...)
}

// HasTimestamps reports the T bit: each entry carries a mini frame header
// with its own 16-bit timestamp.
func (t *TrunkFrame) HasTimestamps() bool { return t.CmdData&trunkTimestampsFlag != 0 }

// TrunkEntry is one call's data in a trunk frame. Without trunk timestamps
// an entry is
//
//	|R| source call (15) | data length (16) | data
//
// and with them
//
//	| data length (16) |R| source call (15) | timestamp (16) | data
type TrunkEntry struct {
	SrcCall      uint16 // 15 bits
	Retransmit   bool   // the R bit, kept so serialization is exact
	Timestamp    uint16 // valid when HasTimestamp
	HasTimestamp bool
	Data         []byte // aliases the frame
}

// Range calls fn for each entry in order until fn returns false. It does not
// allocate. It returns an error wrapping ErrTruncated, with the entry's
// offset within Entries, when an entry's header or data runs past the end;
// fn has then been called for every entry before it.
func (t *TrunkFrame) Range(fn func(TrunkEntry) bool) error {
	ts := t.HasTimestamps()
	b := t.Entries
	off := 0
	for off < len(b) {
		e, n, err := parseTrunkEntry(b[off:], ts)
		if err != nil {
			return fmt.Errorf("trunk entry at offset %d: %w", off, err)
		}
		if !fn(e) {
			return nil
		}
		off += n
	}
	return nil
}

// parseTrunkEntry parses the entry at the start of b and returns it with its
// total length.
func parseTrunkEntry(b []byte, withTimestamps bool) (TrunkEntry, int, error) {
	var e TrunkEntry
	var hdr, n int
	var call uint16
	if withTimestamps {
		hdr = trunkEntryLenTS
		if len(b) < hdr {
			return e, 0, ErrTruncated
		}
		n = int(binary.BigEndian.Uint16(b))
		call = binary.BigEndian.Uint16(b[2:])
		e.Timestamp = binary.BigEndian.Uint16(b[4:])
		e.HasTimestamp = true
	} else {
		hdr = trunkEntryLen
		if len(b) < hdr {
			return e, 0, ErrTruncated
		}
		call = binary.BigEndian.Uint16(b)
		n = int(binary.BigEndian.Uint16(b[2:]))
	}
	if len(b)-hdr < n {
		return e, 0, ErrTruncated
	}
	e.SrcCall = call & callNoMask
	e.Retransmit = call&flagFull != 0
	e.Data = b[hdr : hdr+n : hdr+n]
	return e, hdr + n, nil
}

// AppendTrunkEntry appends one entry in the format the T bit selects and
// returns the extended slice. e.HasTimestamp is ignored: withTimestamps
// decides. An entry whose data is longer than 65,535 bytes cannot be encoded
// and is left out (no UDP datagram could carry it).
func AppendTrunkEntry(dst []byte, withTimestamps bool, e TrunkEntry) []byte {
	if len(e.Data) > maxTrunkEntryData {
		return dst
	}
	call := e.SrcCall & callNoMask
	if e.Retransmit {
		call |= flagFull
	}
	if withTimestamps {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(e.Data)))
		dst = binary.BigEndian.AppendUint16(dst, call)
		dst = binary.BigEndian.AppendUint16(dst, e.Timestamp)
	} else {
		dst = binary.BigEndian.AppendUint16(dst, call)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(e.Data)))
	}
	return append(dst, e.Data...)
}

// MetaFrame is a meta frame with a command other than trunk and video, kept
// byte for byte (iaxcrypt's encrypted frames are of this kind).
//
//	| 0 (16) | 0|command (7) | rest ...
type MetaFrame struct {
	Command uint8  // the raw command byte; its top bit is clear
	Rest    []byte // everything after the command byte, aliasing the input
}

// ParseMeta parses a meta frame of KindMeta. It returns ErrNotMeta for a
// datagram not starting with 16 zero bits, for video frames and for trunk
// frames, and ErrTooShort for fewer than three bytes.
func ParseMeta(b []byte) (MetaFrame, error) {
	if len(b) < MetaHeaderLen {
		return MetaFrame{}, ErrTooShort
	}
	if b[0] != 0 || b[1] != 0 || b[2]&flagVideo != 0 || b[2] == metaTrunk {
		return MetaFrame{}, ErrNotMeta
	}
	return MetaFrame{Command: b[2], Rest: b[MetaHeaderLen:]}, nil
}

// AppendTo appends the frame's wire form to dst and returns the extended
// slice; it is the exact inverse of ParseMeta.
func (m *MetaFrame) AppendTo(dst []byte) []byte {
	dst = append(dst, 0, 0, m.Command)
	return append(dst, m.Rest...)
}
