package sasaudio

import "testing"

// Values from the G.711 tables (and every implementation that follows
// them, e.g. Sun's g711.c): the ends of the range and zero.
func TestG711KnownValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"ulaw enc 0", int(EncodeULaw(0)), 0xff},
		{"ulaw enc max", int(EncodeULaw(32767)), 0x80},
		{"ulaw enc min", int(EncodeULaw(-32768)), 0x00},
		{"ulaw dec 0xff", int(DecodeULaw(0xff)), 0},
		{"ulaw dec 0x80", int(DecodeULaw(0x80)), 32124},
		{"ulaw dec 0x00", int(DecodeULaw(0x00)), -32124},
		{"ulaw dec 0xfe", int(DecodeULaw(0xfe)), 8},
		{"alaw enc 0", int(EncodeALaw(0)), 0xd5},
		{"alaw enc -1", int(EncodeALaw(-1)), 0x55},
		{"alaw enc max", int(EncodeALaw(32767)), 0xaa},
		{"alaw enc min", int(EncodeALaw(-32768)), 0x2a},
		{"alaw dec 0xd5", int(DecodeALaw(0xd5)), 8},
		{"alaw dec 0x55", int(DecodeALaw(0x55)), -8},
		{"alaw dec 0xaa", int(DecodeALaw(0xaa)), 32256},
		{"alaw dec 0x2a", int(DecodeALaw(0x2a)), -32256},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x (%d), want %#x (%d)", tc.name, tc.got, tc.got, tc.want, tc.want)
		}
	}
}

// Every code decodes to a value that encodes back to it (µ-law's negative
// zero, 0x7f, comes back as 0xff), and encoding is monotonic.
func TestG711RoundTrip(t *testing.T) {
	for b := 0; b < 256; b++ {
		if got := EncodeULaw(DecodeULaw(byte(b))); got != byte(b) && b != 0x7f {
			t.Errorf("ulaw %#x -> %d -> %#x", b, DecodeULaw(byte(b)), got)
		}
		if got := EncodeALaw(DecodeALaw(byte(b))); got != byte(b) {
			t.Errorf("alaw %#x -> %d -> %#x", b, DecodeALaw(byte(b)), got)
		}
	}
	prevU, prevA := DecodeULaw(EncodeULaw(-32768)), DecodeALaw(EncodeALaw(-32768))
	for s := -32768; s <= 32767; s += 7 {
		u, a := DecodeULaw(EncodeULaw(int16(s))), DecodeALaw(EncodeALaw(int16(s)))
		if u < prevU || a < prevA {
			t.Fatalf("not monotonic at %d: ulaw %d after %d, alaw %d after %d", s, u, prevU, a, prevA)
		}
		prevU, prevA = u, a
		// The quantisation error stays within half a step of the segment.
		if d := abs(u - int16(s)); int(d) > 1024 {
			t.Fatalf("ulaw error %d at %d", d, s)
		}
		if d := abs(a - int16(s)); int(d) > 1024 {
			t.Fatalf("alaw error %d at %d", d, s)
		}
	}
}

func abs(x int16) int16 {
	if x < 0 {
		return -x
	}
	return x
}
