package iax

import "encoding/binary"

// MiniHeaderLen is the length of a mini frame's header.
const MiniHeaderLen = 4

// MiniFrame is a mini frame (RFC 5456 section 8.1.2): unreliable voice with
// the low 16 bits of the timestamp; the codec and the high timestamp bits
// come from the call's last full voice frame.
//
//	|0| source call (15) | timestamp (16) |
type MiniFrame struct {
	SrcCall   uint16 // 15 bits, never zero (zero marks a meta frame)
	Timestamp uint16
	Payload   []byte // aliases the input
}

// ParseMini parses a mini frame. It returns ErrNotMini for a full or meta
// frame and ErrTooShort when b is shorter than the header.
func ParseMini(b []byte) (MiniFrame, error) {
	if len(b) < MiniHeaderLen {
		return MiniFrame{}, ErrTooShort
	}
	call := binary.BigEndian.Uint16(b)
	if call&flagFull != 0 || call == 0 {
		return MiniFrame{}, ErrNotMini
	}
	return MiniFrame{
		SrcCall:   call,
		Timestamp: binary.BigEndian.Uint16(b[2:]),
		Payload:   b[MiniHeaderLen:],
	}, nil
}

// AppendTo appends the frame's wire form to dst and returns the extended
// slice; it is the exact inverse of ParseMini. The call number is cut to 15
// bits; a zero call number would make the result a meta frame, so the caller
// must not pass one.
func (m *MiniFrame) AppendTo(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, m.SrcCall&callNoMask)
	dst = binary.BigEndian.AppendUint16(dst, m.Timestamp)
	return append(dst, m.Payload...)
}

// Len returns the length of the frame's wire form.
func (m *MiniFrame) Len() int { return MiniHeaderLen + len(m.Payload) }
