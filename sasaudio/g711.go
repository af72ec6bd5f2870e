package sasaudio

// G.711 (ITU-T, 1988) µ-law and A-law, written from the standard's
// segment tables: 8-bit samples, 14-bit (µ-law) and 13-bit (A-law) linear
// ranges, here scaled to int16.

const ulawBias = 0x84 // 132
const ulawClip = 32635

// EncodeULaw compresses a linear sample to µ-law.
func EncodeULaw(s int16) byte {
	x := int(s)
	sign := 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	if x > ulawClip {
		x = ulawClip
	}
	x += ulawBias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// DecodeULaw expands a µ-law sample.
func DecodeULaw(b byte) int16 {
	b = ^b
	exp := int(b>>4) & 7
	mant := int(b & 0x0f)
	x := ((mant<<3)+ulawBias)<<exp - ulawBias
	if b&0x80 != 0 {
		return int16(-x)
	}
	return int16(x)
}

// EncodeALaw compresses a linear sample to A-law.
func EncodeALaw(s int16) byte {
	x := int(s) >> 3 // 13-bit
	sign := 0x80
	if x < 0 {
		x, sign = -x-1, 0
	}
	if x > 0xfff {
		x = 0xfff
	}
	var out int
	if x < 32 {
		out = x >> 1
	} else {
		exp := 1
		for v := x >> 5; v > 1; v >>= 1 {
			exp++
		}
		out = exp<<4 | (x>>exp)&0x0f
	}
	return byte(sign|out) ^ 0x55
}

// DecodeALaw expands an A-law sample.
func DecodeALaw(b byte) int16 {
	b ^= 0x55
	exp := int(b>>4) & 7
	mant := int(b & 0x0f)
	var x int
	if exp == 0 {
		x = mant<<1 | 1
	} else {
		x = (mant<<1 | 0x21) << (exp - 1)
	}
	x <<= 3
	if b&0x80 == 0 {
		return int16(-x)
	}
	return int16(x)
}
