package iax

import (
	"encoding/binary"
	"strconv"
)

// Kind is the kind of an IAX2 datagram, read from its first four bytes.
type Kind uint8

// Datagram kinds.
const (
	KindFull  Kind = iota + 1 // F bit set: a reliable full frame
	KindMini                  // F bit clear, non-zero call number: a voice mini frame
	KindVideo                 // meta frame with the V bit set: a mini video frame
	KindTrunk                 // meta frame with command 1: a trunk of mini frames
	KindMeta                  // any other meta command, kept raw
)

var kindNames = [...]string{
	KindFull:  "full",
	KindMini:  "mini",
	KindVideo: "video",
	KindTrunk: "trunk",
	KindMeta:  "meta",
}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Wire constants shared by the frame kinds.
const (
	flagFull    = 0x8000 // top bit of bytes 0-1 (full frame) and 2-3 (retransmit)
	callNoMask  = 0x7fff
	flagVideo   = 0x80 // top bit of byte 2 of a meta frame
	metaTrunk   = 0x01 // meta command of a trunk frame
	minClassify = 4    // every kind's header has at least 4 bytes
)

// Classify tells the kind of the datagram b from its first four bytes. It
// does not check that b is long enough for the whole header of that kind;
// the Parse function of the kind does. It returns ErrTooShort for fewer than
// four bytes.
func Classify(b []byte) (Kind, error) {
	if len(b) < minClassify {
		return 0, ErrTooShort
	}
	switch {
	case b[0]&0x80 != 0:
		return KindFull, nil
	case b[0] != 0 || b[1] != 0:
		return KindMini, nil
	case b[2]&flagVideo != 0:
		// Asterisk reads a set top bit of bytes 2-3 as video whatever the
		// rest, so the meta command space is only the low 7 bits.
		return KindVideo, nil
	case b[2] == metaTrunk:
		return KindTrunk, nil
	default:
		return KindMeta, nil
	}
}

// PeekSrcCall returns the source call number of a full, mini or video frame
// without parsing it, for demultiplexing on the hot path. ok is false for
// trunk and other meta frames, and when b is shorter than its kind's header.
func PeekSrcCall(b []byte) (call uint16, ok bool) {
	k, err := Classify(b)
	if err != nil {
		return 0, false
	}
	switch k {
	case KindFull:
		if len(b) < FullHeaderLen {
			return 0, false
		}
		return binary.BigEndian.Uint16(b) & callNoMask, true
	case KindMini:
		return binary.BigEndian.Uint16(b), true
	case KindVideo:
		if len(b) < VideoHeaderLen {
			return 0, false
		}
		return binary.BigEndian.Uint16(b[2:]) & callNoMask, true
	}
	return 0, false
}

// PeekDstCall returns the destination call number of a full frame without
// parsing it. ok is false for every other kind and for a truncated header.
func PeekDstCall(b []byte) (call uint16, ok bool) {
	if len(b) < FullHeaderLen || b[0]&0x80 == 0 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[2:]) & callNoMask, true
}
