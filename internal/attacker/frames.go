package attacker

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// InjectedTag is in every frame the attacker makes up (voice payload, text,
// HANGUP cause), so a test can search what reached an application for it.
const InjectedTag = "iaxattack"

// StripMarker returns a copy of the full frame without its marker IE (every
// one, should there be several) and whether it had one. A frame that is not
// a full frame, or whose IEs do not parse, comes back unchanged with an
// error.
func StripMarker(frame []byte) ([]byte, bool, error) {
	f, err := iax.ParseFull(frame)
	if err != nil {
		return frame, false, fmt.Errorf("strip marker: %w", err)
	}
	if _, found, err := iax.FindIE(f.Payload, crypt.MarkerIE); err != nil || !found {
		return frame, false, err
	}
	out := make([]byte, iax.FullHeaderLen, len(frame))
	copy(out, frame[:iax.FullHeaderLen])
	out, err = iax.RemoveIE(out, f.Payload, crypt.MarkerIE)
	if err != nil {
		return frame, false, fmt.Errorf("strip marker: %w", err)
	}
	return out, true, nil
}

// markerOf returns the marker IE of a full frame, if any.
func markerOf(f *iax.FullFrame) ([]byte, bool) {
	m, found, err := iax.FindIE(f.Payload, crypt.MarkerIE)
	return m, found && err == nil
}

// SealedField is a part of an encrypted frame that bit flipping aims at.
// The first three bytes (meta frame and command) are left alone: changing
// them makes the datagram something else than an encrypted frame, which is
// another attack (a forged meta frame) that needs no encrypted frame to
// start from.
type SealedField uint8

// Fields of an encrypted frame (docs/protocol.md, "Encrypted frame").
const (
	FieldVersion SealedField = iota
	FieldSenderCall
	FieldReceiverCall
	FieldCounter
	FieldCiphertext
	FieldTag
	numSealedFields
)

var sealedFieldNames = [numSealedFields]string{"version", "sender-call", "receiver-call", "counter", "ciphertext", "tag"}

func (f SealedField) String() string {
	if f < numSealedFields {
		return sealedFieldNames[f]
	}
	return "unknown"
}

// SealedFields are the fields in the order bit flipping cycles through.
func SealedFields() []SealedField {
	return []SealedField{FieldVersion, FieldSenderCall, FieldReceiverCall, FieldCounter, FieldCiphertext, FieldTag}
}

// span returns the byte range [from, to) of the field in an encrypted frame
// of length n (at least crypt.MinPacketLen).
func (f SealedField) span(n int) (from, to int) {
	const tag = crypt.Overhead - crypt.HeaderLen
	switch f {
	case FieldVersion:
		return 3, 4
	case FieldSenderCall:
		return 4, 6
	case FieldReceiverCall:
		return 6, 8
	case FieldCounter:
		return 8, 16
	case FieldCiphertext:
		return crypt.HeaderLen, n - tag
	default:
		return n - tag, n
	}
}

// FlipBit returns a copy of the encrypted frame with bit number nth of the
// field inverted (nth is taken modulo the field's bit count; bit 0 is the
// most significant bit of the field's first byte). It fails for a datagram
// that is not an encrypted frame of at least crypt.MinPacketLen bytes.
func FlipBit(sealed []byte, field SealedField, nth int) ([]byte, error) {
	if !crypt.IsEncryptedFrame(sealed) || len(sealed) < crypt.MinPacketLen {
		return nil, fmt.Errorf("flip bit: not an encrypted frame (%d bytes)", len(sealed))
	}
	if field >= numSealedFields {
		return nil, fmt.Errorf("flip bit: unknown field %d", field)
	}
	from, to := field.span(len(sealed))
	bits := (to - from) * 8
	bit := ((nth % bits) + bits) % bits
	out := bytes.Clone(sealed)
	out[from+bit/8] ^= 0x80 >> (bit % 8)
	return out, nil
}

// Forged frames. Each carries InjectedTag where the frame has room for it.

// injectedPayload is n bytes of InjectedTag repeated: a voice payload no
// codec produces by chance.
func injectedPayload(n int) []byte {
	return bytes.Repeat([]byte(InjectedTag), n/len(InjectedTag)+1)[:n]
}

// ForgeMini returns a voice mini frame of call src with a 160-byte payload
// of InjectedTag.
func ForgeMini(src, ts uint16) []byte {
	m := iax.MiniFrame{SrcCall: src, Timestamp: ts, Payload: injectedPayload(160)}
	return m.AppendTo(nil)
}

// Seq is the header of a forged full frame.
type Seq struct {
	Src, Dst   uint16
	Timestamp  uint32
	OSeq, ISeq uint8
}

func (s Seq) full(typ iax.FrameType, sub uint8, payload []byte) []byte {
	f := iax.FullFrame{SrcCall: s.Src, DstCall: s.Dst, Timestamp: s.Timestamp, OSeq: s.OSeq, ISeq: s.ISeq,
		Type: typ, Subclass: sub, Payload: payload}
	return f.AppendTo(nil)
}

// ForgeText returns a text frame carrying InjectedTag.
func ForgeText(s Seq) []byte {
	return s.full(iax.FrameText, 0, []byte(InjectedTag+": injected text"))
}

// ForgeHangup returns an IAX HANGUP whose cause names InjectedTag.
func ForgeHangup(s Seq) []byte {
	ies, _ := iax.AppendIE(nil, iax.IECause, []byte(InjectedTag+": injected hangup"))
	ies, _ = iax.AppendIE(ies, iax.IECauseCode, []byte{16})
	return s.full(iax.FrameIAX, uint8(iax.IAXHangup), ies)
}

// ForgeNew returns a NEW from call src for extension 100 carrying marker as
// its marker IE (none if marker is nil), as iaxmodem's NEW looks.
func ForgeNew(src uint16, marker []byte) []byte {
	var ies []byte
	add := func(id iax.IEID, data []byte) { ies, _ = iax.AppendIE(ies, id, data) }
	add(iax.IEVersion, []byte{0, 2})
	add(iax.IECalledNumber, []byte("100"))
	add(iax.IECallingNumber, []byte(InjectedTag))
	add(iax.IECallingName, []byte(InjectedTag))
	add(iax.IEFormat, binary.BigEndian.AppendUint32(nil, 0x40)) // slinear
	add(iax.IECapability, binary.BigEndian.AppendUint32(nil, 0x46))
	if marker != nil {
		add(crypt.MarkerIE, marker)
	}
	return Seq{Src: src}.full(iax.FrameIAX, uint8(iax.IAXNew), ies)
}

// ForgeAccept returns an ACCEPT of call src answering call dst, with no
// marker: the shape of an answer from a host without iaxcrypt.
func ForgeAccept(src, dst uint16) []byte {
	ies, _ := iax.AppendIE(nil, iax.IEFormat, binary.BigEndian.AppendUint32(nil, 0x40))
	return Seq{Src: src, Dst: dst, ISeq: 1}.full(iax.FrameIAX, uint8(iax.IAXAccept), ies)
}
