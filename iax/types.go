package iax

import "strconv"

// FrameType is the frame type byte of a full frame (RFC 5456 section 8.2).
type FrameType uint8

// Frame types of RFC 5456 plus the two Asterisk sends beyond it (modem and
// DTMF begin).
const (
	FrameDTMFEnd   FrameType = 0x01 // DTMF digit released (RFC: "DTMF")
	FrameVoice     FrameType = 0x02
	FrameVideo     FrameType = 0x03
	FrameControl   FrameType = 0x04
	FrameNull      FrameType = 0x05
	FrameIAX       FrameType = 0x06 // IAX protocol control; payload is IEs
	FrameText      FrameType = 0x07
	FrameImage     FrameType = 0x08
	FrameHTML      FrameType = 0x09
	FrameCNG       FrameType = 0x0a // comfort noise
	FrameModem     FrameType = 0x0b // T.38 and other modem payloads
	FrameDTMFBegin FrameType = 0x0c
)

var frameTypeNames = [...]string{
	FrameDTMFEnd:   "DTMF_END",
	FrameVoice:     "VOICE",
	FrameVideo:     "VIDEO",
	FrameControl:   "CONTROL",
	FrameNull:      "NULL",
	FrameIAX:       "IAX",
	FrameText:      "TEXT",
	FrameImage:     "IMAGE",
	FrameHTML:      "HTML",
	FrameCNG:       "CNG",
	FrameModem:     "MODEM",
	FrameDTMFBegin: "DTMF_BEGIN",
}

// String returns the frame type's name, or FrameType(n) for an unknown one.
func (t FrameType) String() string {
	return lookupName(frameTypeNames[:], uint8(t), "FrameType")
}

// lookupName returns names[v] when it is set, else prefix(v). Tables are
// indexed by value so String stays a bounds check and a load.
func lookupName(names []string, v uint8, prefix string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return prefix + "(" + strconv.Itoa(int(v)) + ")"
}
