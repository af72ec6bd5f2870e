package iax

import "bytes"

// ie builds one IE's wire form.
func ie(id IEID, data ...byte) []byte {
	return append([]byte{byte(id), byte(len(data))}, data...)
}

func ieStr(id IEID, s string) []byte { return ie(id, []byte(s)...) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// newIEs is the IE payload of a NEW as Asterisk 18 sends it to an iaxmodem
// peer: the usual set, with a CALLTOKEN and the FORMAT2/CAPABILITY2 pair.
func newIEs() []byte {
	return concat(
		ie(IEVersion, 0x00, 0x02),
		ieStr(IECalledNumber, "100"),
		ieStr(IECallingNumber, "5551234"),
		ieStr(IECallingName, "iaxmodem ttyIAX0"),
		ie(IECallingPres, 0x00),
		ie(IECallingTON, 0x00),
		ie(IECallingTNS, 0x00, 0x00),
		ieStr(IECalledContext, "default"),
		ieStr(IEUsername, "iaxmodem"),
		ie(IEFormat, 0x00, 0x00, 0x00, 0x04),
		ie(IECapability, 0x00, 0x00, 0x00, 0x0e),
		ie(IEFormat2, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x04),
		ie(IECapability2, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x0e),
		ie(IEADSICPE, 0x00, 0x02),
		ieStr(IEDNID, "100"),
		ieStr(IELanguage, "en"),
		ieStr(IECodecPrefs, "DCB"),
		ie(IEDateTime, 0x5b, 0x2e, 0x8a, 0x31),
		ie(IECallToken),
	)
}

// Hand-built frames of every kind, shared by the unit tests, the fuzz seeds
// and the benchmarks.
var (
	// NEW from call 0x0123 to nobody yet (dst 0), ts 3, oseq 0 iseq 0.
	frameNew = concat([]byte{0x81, 0x23, 0x00, 0x00, 0, 0, 0, 3, 0, 0, byte(FrameIAX), byte(IAXNew)}, newIEs())
	// ACK of the NEW above, retransmitted: R bit set.
	frameAck = []byte{0x80, 0x07, 0x81, 0x23, 0, 0, 0, 3, 0, 1, byte(FrameIAX), byte(IAXAck)}
	// First voice full frame: C bit clear, subclass 4 = G.711 u-law.
	frameVoiceFull = concat([]byte{0x81, 0x23, 0x00, 0x07, 0, 0, 0x01, 0x40, 2, 3, byte(FrameVoice), 0x04}, bytes.Repeat([]byte{0xff}, 160))
	// Voice full frame with the C bit: subclass 0x80|33 = 1<<33 (Opus in
	// Asterisk's old bit field), beyond uint32.
	frameVoiceCBit = []byte{0x81, 0x23, 0x00, 0x07, 0, 0, 0x01, 0x40, 2, 3, byte(FrameVoice), 0x80 | 33, 0xaa}
	// Control RINGING.
	frameRinging = []byte{0x80, 0x07, 0x01, 0x23, 0, 0, 0, 9, 1, 1, byte(FrameControl), byte(ControlRinging)}
	// Mini voice frame: call 0x0123, ts 0x1234, 160 bytes of G.711 (20 ms).
	frameMini = concat([]byte{0x01, 0x23, 0x12, 0x34}, bytes.Repeat([]byte{0xd5}, 160))
	// Meta video frame: call 0x0123, marker bit set, ts 0x0456.
	frameVideo = concat([]byte{0x00, 0x00, 0x81, 0x23, 0x84, 0x56}, []byte("h264 nal"))
	// Trunk without timestamps: two entries, the second with the R bit.
	frameTrunk = concat([]byte{0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x10},
		[]byte{0x01, 0x23, 0x00, 0x03}, []byte("abc"),
		[]byte{0x82, 0x34, 0x00, 0x02}, []byte("de"))
	// Trunk with timestamps: two entries of mini frames.
	frameTrunkTS = concat([]byte{0x00, 0x00, 0x01, 0x01, 0x00, 0x01, 0x00, 0x20},
		[]byte{0x00, 0x03, 0x01, 0x23, 0x00, 0x14}, []byte("abc"),
		[]byte{0x00, 0x00, 0x82, 0x34, 0x00, 0x28})
	// Unknown meta command 0x45 (iaxcrypt's encrypted frame).
	frameMeta = concat([]byte{0x00, 0x00, 0x45}, []byte{0x01, 0x02, 0x03, 0x04, 0x05})
)

// allFrames names every fixture with its expected kind.
var allFrames = []struct {
	name string
	b    []byte
	kind Kind
}{
	{"NEW", frameNew, KindFull},
	{"ACK", frameAck, KindFull},
	{"voice full", frameVoiceFull, KindFull},
	{"voice full C bit", frameVoiceCBit, KindFull},
	{"RINGING", frameRinging, KindFull},
	{"mini", frameMini, KindMini},
	{"video", frameVideo, KindVideo},
	{"trunk", frameTrunk, KindTrunk},
	{"trunk ts", frameTrunkTS, KindTrunk},
	{"meta 0x45", frameMeta, KindMeta},
}

// roundTrip parses b as the kind Classify gives it and serializes it again.
// It is shared by the unit tests, the fuzz target and the capture test.
func roundTrip(b []byte) (Kind, []byte, error) {
	k, err := Classify(b)
	if err != nil {
		return 0, nil, err
	}
	var out []byte
	switch k {
	case KindFull:
		f, err := ParseFull(b)
		if err != nil {
			return k, nil, err
		}
		out = f.AppendTo(nil)
	case KindMini:
		m, err := ParseMini(b)
		if err != nil {
			return k, nil, err
		}
		out = m.AppendTo(nil)
	case KindVideo:
		v, err := ParseVideo(b)
		if err != nil {
			return k, nil, err
		}
		out = v.AppendTo(nil)
	case KindTrunk:
		tr, err := ParseTrunk(b)
		if err != nil {
			return k, nil, err
		}
		out = tr.AppendTo(nil)
	case KindMeta:
		m, err := ParseMeta(b)
		if err != nil {
			return k, nil, err
		}
		out = m.AppendTo(nil)
	}
	return k, out, nil
}
