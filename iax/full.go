package iax

import "encoding/binary"

// FullHeaderLen is the length of a full frame's header.
const FullHeaderLen = 12

// subclassLog is the C bit: the low 7 bits of the subclass are a power of
// two (RFC 5456 section 8.1.1).
const subclassLog = 0x80

// FullFrame is a full frame (RFC 5456 section 8.1.1): the reliable,
// sequenced frame that carries signalling and the first frame of a media
// stream.
//
//	|F|  source call (15)  |R| dest call (15) |
//	|            timestamp (32)               |
//	| oseq | iseq | type | C| subclass (7)    |
type FullFrame struct {
	SrcCall    uint16 // 15 bits
	DstCall    uint16 // 15 bits
	Retransmit bool   // R bit
	Timestamp  uint32
	OSeq, ISeq uint8
	Type       FrameType
	Subclass   uint8  // the raw subclass byte, C bit included, so serialization is exact
	Payload    []byte // aliases the input; for Type==FrameIAX these are IEs
}

// ParseFull parses a full frame. The payload aliases b and is not checked:
// walk IEs with RangeIEs. It returns ErrNotFull when the F bit is clear and
// ErrTooShort when b is shorter than the header.
func ParseFull(b []byte) (FullFrame, error) {
	if len(b) == 0 {
		return FullFrame{}, ErrTooShort
	}
	if b[0]&0x80 == 0 {
		return FullFrame{}, ErrNotFull
	}
	if len(b) < FullHeaderLen {
		return FullFrame{}, ErrTooShort
	}
	dst := binary.BigEndian.Uint16(b[2:])
	return FullFrame{
		SrcCall:    binary.BigEndian.Uint16(b) & callNoMask,
		DstCall:    dst & callNoMask,
		Retransmit: dst&flagFull != 0,
		Timestamp:  binary.BigEndian.Uint32(b[4:]),
		OSeq:       b[8],
		ISeq:       b[9],
		Type:       FrameType(b[10]),
		Subclass:   b[11],
		Payload:    b[FullHeaderLen:],
	}, nil
}

// AppendTo appends the frame's wire form to dst and returns the extended
// slice. It is the exact inverse of ParseFull. Call numbers are cut to 15
// bits.
func (f *FullFrame) AppendTo(dst []byte) []byte {
	dcall := f.DstCall & callNoMask
	if f.Retransmit {
		dcall |= flagFull
	}
	dst = binary.BigEndian.AppendUint16(dst, f.SrcCall&callNoMask|flagFull)
	dst = binary.BigEndian.AppendUint16(dst, dcall)
	dst = binary.BigEndian.AppendUint32(dst, f.Timestamp)
	dst = append(dst, f.OSeq, f.ISeq, byte(f.Type), f.Subclass)
	return append(dst, f.Payload...)
}

// Len returns the length of the frame's wire form.
func (f *FullFrame) Len() int { return FullHeaderLen + len(f.Payload) }

// SubclassValue returns the subclass with the C bit decoded: 1<<n when the C
// bit is set, else the 7-bit value. A shift of 32 or more cannot be
// represented and yields 0 (Asterisk treats such frames as invalid).
func (f *FullFrame) SubclassValue() uint32 {
	if f.Subclass&subclassLog == 0 {
		return uint32(f.Subclass)
	}
	n := f.Subclass &^ subclassLog
	if n >= 32 {
		return 0
	}
	return 1 << n
}

// IAXSubclass returns the IAX command of a FrameIAX frame. ok is false for
// other frame types and when the C bit is set, which no IAX command uses.
func (f *FullFrame) IAXSubclass() (IAXSubclass, bool) {
	if f.Type != FrameIAX || f.Subclass&subclassLog != 0 {
		return 0, false
	}
	return IAXSubclass(f.Subclass), true
}

// ControlSubclass returns the control subclass of a FrameControl frame. ok
// is false for other frame types and when the C bit is set.
func (f *FullFrame) ControlSubclass() (ControlSubclass, bool) {
	if f.Type != FrameControl || f.Subclass&subclassLog != 0 {
		return 0, false
	}
	return ControlSubclass(f.Subclass), true
}
