package sasaudio

import "fmt"

// Codec is a G.711 law.
type Codec uint8

const (
	ULaw Codec = iota
	ALaw
)

// IAX2 media format bits (RFC 5456 section 8.7).
const (
	FormatULaw = 1 << 2
	FormatALaw = 1 << 3
)

func (c Codec) String() string {
	if c == ALaw {
		return "alaw"
	}
	return "ulaw"
}

// CodecOfFormat returns the codec of an IAX2 format (the FORMAT IE of the
// call's ACCEPT, or a voice frame's subclass); ok is false for any codec
// this package cannot write.
func CodecOfFormat(format uint32) (Codec, bool) {
	switch format {
	case FormatULaw:
		return ULaw, true
	case FormatALaw:
		return ALaw, true
	}
	return 0, false
}

// Encode compresses linear samples into dst (len(dst) >= len(pcm)).
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		if c == ALaw {
			dst[i] = EncodeALaw(s)
		} else {
			dst[i] = EncodeULaw(s)
		}
	}
	return dst
}

// Decode expands samples into dst (len(dst) >= len(b)).
func (c Codec) Decode(dst []int16, b []byte) []int16 {
	dst = dst[:len(b)]
	for i, v := range b {
		if c == ALaw {
			dst[i] = DecodeALaw(v)
		} else {
			dst[i] = DecodeULaw(v)
		}
	}
	return dst
}

// ErrCodec is returned for formats other than G.711.
type ErrCodec struct{ Format uint32 }

func (e ErrCodec) Error() string {
	return fmt.Sprintf("format %#x is not G.711 µ-law or A-law: the SAS cannot be played into this call", e.Format)
}
