package engine

import (
	"encoding/binary"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Codec is a voice codec the engine can play the SAS in.
type Codec uint8

const (
	// CodecULaw is G.711 µ-law (IAX2 format bit 1<<2).
	CodecULaw Codec = iota + 1
	// CodecALaw is G.711 A-law (IAX2 format bit 1<<3).
	CodecALaw
)

// IAX2 format bits (RFC 5456 section 8.7) of the codecs above.
const (
	formatULaw = 1 << 2
	formatALaw = 1 << 3
)

// SASAudioFunc renders a SAS as voice payloads of 20 ms (160 bytes at
// 8 kHz) in the codec, in the order they are to be heard. The engine
// calls it once per call, when the call becomes encrypted, with its lock
// held.
type SASAudioFunc func(sas crypt.SAS, codec Codec) [][]byte

// codecOf reads the codec an ACCEPT chose from its FORMAT IE (4 bytes) or
// FORMAT2 IE (a version byte, then 8 bytes). It returns 0 for a codec the
// SAS cannot be played in.
func codecOf(f *iax.FullFrame) Codec {
	var format uint64
	if v, found, err := iax.FindIE(f.Payload, iax.IEFormat2); err == nil && found && len(v) == 9 {
		format = binary.BigEndian.Uint64(v[1:])
	} else if v, found, err := iax.FindIE(f.Payload, iax.IEFormat); err == nil && found && len(v) == 4 {
		format = uint64(binary.BigEndian.Uint32(v))
	}
	switch format {
	case formatULaw:
		return CodecULaw
	case formatALaw:
		return CodecALaw
	}
	return 0
}

// startSASAudio prepares the SAS to be played to the local application in
// place of the peer's first voice frames, so two people on phones that
// cannot show it can compare it by ear.
func (e *Engine) startSASAudio(c *iax.Call[*callState]) {
	s := c.Data
	if e.cfg.SASAudio == nil || s.codec == 0 || s.session == nil {
		return
	}
	s.sasAudio = e.cfg.SASAudio(s.session.SAS, s.codec)
}

// playSAS puts the next SAS payload into a voice frame from the peer, in
// place (plain is the engine's own output buffer), when it has the length
// of one.
func (s *callState) playSAS(plain []byte) {
	if len(s.sasAudio) == 0 {
		return
	}
	var payload []byte
	switch k, _ := iax.Classify(plain); k {
	case iax.KindMini:
		payload = plain[iax.MiniHeaderLen:]
	case iax.KindFull:
		if len(plain) > iax.FullHeaderLen && iax.FrameType(plain[10]) == iax.FrameVoice {
			payload = plain[iax.FullHeaderLen:]
		}
	}
	if len(payload) != len(s.sasAudio[0]) {
		return
	}
	copy(payload, s.sasAudio[0])
	s.sasAudio[0] = nil
	s.sasAudio = s.sasAudio[1:]
}
