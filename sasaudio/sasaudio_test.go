package sasaudio

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
)

func TestDigits(t *testing.T) {
	for _, tc := range []struct {
		sas  crypt.SAS
		want string
	}{
		{crypt.SAS{0, 0, 0, 0}, "*00000000#"},                            // yyyy
		{crypt.SAS{0xff, 0xff, 0xf0, 0}, "*31313131#"},                   // 9999
		{crypt.SAS{0b00001000, 0b10000110, 0b01000000, 0}, "*01020304#"}, // index 1,2,3,4
	} {
		if got := Digits(tc.sas); got != tc.want {
			t.Errorf("%v (%s): %s, want %s", tc.sas, tc.sas.Base32(), got, tc.want)
		}
	}
}

// channel is what a call does to the audio: G.711 both ways, an
// unaligned start, a level change, and noise at snrDB below the tones.
func channel(rng *rand.Rand, frames [][]byte, c Codec, gain, snrDB float64) []int16 {
	var pcm []int16
	pcm = append(pcm, make([]int16, rng.IntN(FrameSamples))...) // not frame-aligned
	for _, f := range frames {
		pcm = append(pcm, c.Decode(make([]int16, len(f)), f)...)
	}
	// The tones' power: two sines of toneAmplitude.
	signal := toneAmplitude * toneAmplitude * gain * gain
	sigma := math.Sqrt(signal / math.Pow(10, snrDB/10))
	for i, v := range pcm {
		x := float64(v)*gain + rng.NormFloat64()*sigma
		pcm[i] = int16(max(-32768, min(32767, x)))
	}
	// The receiving side gets it as G.711 again.
	return c.Decode(make([]int16, len(pcm)), c.Encode(make([]byte, len(pcm)), pcm))
}

// TestRoundTripWithNoise: random SASes through µ-law and A-law, at
// several levels and noise, come back exactly.
func TestRoundTripWithNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []Codec{ULaw, ALaw} {
		for _, ch := range []struct {
			gain, snr float64
		}{{1, 40}, {1, 15}, {0.1, 20}, {1.5, 12}} {
			for range 20 {
				var sas crypt.SAS
				for i := range sas {
					sas[i] = byte(rng.UintN(256))
				}
				pcm := channel(rng, Frames(sas, c, FrameSamples), c, ch.gain, ch.snr)
				got, err := Decode(pcm)
				if err != nil {
					t.Fatalf("%s gain %.1f SNR %.0f dB: %s (%v): %v; symbols %q", c, ch.gain, ch.snr, sas.Base32(), sas, err, Symbols(pcm))
				}
				if got.Base32() != sas.Base32() || got.SAS().String() != sas.String() {
					t.Fatalf("%s gain %.1f SNR %.0f dB: decoded %s (%s), want %s", c, ch.gain, ch.snr, got.Base32(), got.SAS(), sas)
				}
			}
		}
	}
}

// TestNoFalseSAS: noise, speech-like sound, silence, the wrong codec and
// a cut-off rendering yield no SAS.
func TestNoFalseSAS(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sas := crypt.SAS{0x12, 0x34, 0x56, 0x78}
	noise := make([]int16, 3*SampleRate)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 5000)
	}
	// Vowel-like: a 120 Hz voice with harmonics under a moving formant.
	voice := make([]int16, 3*SampleRate)
	for i := range voice {
		t := float64(i) / SampleRate
		var v float64
		for h := 1; h <= 30; h++ {
			f := 120 * float64(h) * (1 + 0.02*math.Sin(2*math.Pi*3*t))
			v += math.Sin(2*math.Pi*f*t) * math.Exp(-math.Pow((f-700-300*math.Sin(2*math.Pi*t))/400, 2))
		}
		voice[i] = int16(v * 4000)
	}
	ulaw := Render(sas, ULaw)
	cut := ULaw.Decode(make([]int16, len(ulaw)), ulaw)[:len(ulaw)*6/10]
	for name, pcm := range map[string][]int16{
		"noise":                      noise,
		"voice":                      voice,
		"silence":                    make([]int16, SampleRate),
		"µ-law frames read as A-law": ALaw.Decode(make([]int16, len(ulaw)), ulaw),
		"cut off":                    cut,
	} {
		if d, err := Decode(pcm); !errors.Is(err, ErrNoSAS) {
			t.Errorf("%s: decoded %s (symbols %q), want ErrNoSAS", name, d.Base32(), Symbols(pcm))
		}
	}
}

func TestFramesAndDuration(t *testing.T) {
	sas := crypt.SAS{1, 2, 3, 4}
	frames := Frames(sas, ALaw, FrameSamples)
	total := 2*paddingSamples + 10*(toneSamples+gapSamples)
	if len(frames) != (total+FrameSamples-1)/FrameSamples {
		t.Fatalf("%d frames for %d samples", len(frames), total)
	}
	for i, f := range frames {
		if len(f) != FrameSamples {
			t.Fatalf("frame %d is %d bytes", i, len(f))
		}
	}
	// Appending to one frame must not overwrite the next.
	_ = append(frames[0], 0xff)
	if frames[1][0] != Render(sas, ALaw)[FrameSamples] {
		t.Fatal("frames share their backing array past their length")
	}
	if d, err := DecodeG711(Render(sas, ALaw), ALaw); err != nil || d.Base32() != sas.Base32() {
		t.Fatalf("DecodeG711: %v %v", d, err)
	}
	for _, tc := range []struct {
		format uint32
		ok     bool
		codec  Codec
	}{{FormatULaw, true, ULaw}, {FormatALaw, true, ALaw}, {1 << 1, false, 0}, {FormatULaw | FormatALaw, false, 0}} {
		c, ok := CodecOfFormat(tc.format)
		if ok != tc.ok || (ok && c != tc.codec) {
			t.Errorf("format %#x: %v %v", tc.format, c, ok)
		}
	}
}

func TestFindSAS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // base32, "" for none
	}{
		{"*00010203#", "ybnd"},
		{"1*#*00010203#", "ybnd"},
		{"*0001020#", ""},
		{"*00010232#", ""}, // 32 is not an index
		{"*0001A203#*31313131#", "9999"},
		{"*00010203", ""},
		{"", ""},
	} {
		d, err := FindSAS(tc.in)
		if (tc.want == "") != (err != nil) || (err == nil && d.Base32() != tc.want) {
			t.Errorf("%q: %v %v, want %q", tc.in, d.Base32(), err, tc.want)
		}
	}
}

func FuzzDecodeG711(f *testing.F) {
	f.Add(Render(crypt.SAS{1, 2, 3, 4}, ULaw)[:4000], true)
	f.Add([]byte{0xff, 0x00, 0x80}, false)
	f.Fuzz(func(t *testing.T, b []byte, alaw bool) {
		c := ULaw
		if alaw {
			c = ALaw
		}
		d, err := DecodeG711(b, c)
		if err == nil && len(d.Base32()) != 4 {
			t.Fatalf("decoded %q", d.Base32())
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	pcm := PCM(crypt.SAS{1, 2, 3, 4})
	b.ReportAllocs()
	b.SetBytes(int64(len(pcm)))
	for b.Loop() {
		if _, err := Decode(pcm); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFrames(b *testing.B) {
	sas := crypt.SAS{1, 2, 3, 4}
	b.ReportAllocs()
	for b.Loop() {
		Frames(sas, ULaw, FrameSamples)
	}
}

// TestRenderMatchesPCM: the prepared, encoded tones give the same bytes as
// encoding the linear rendering.
func TestRenderMatchesPCM(t *testing.T) {
	sas := crypt.SAS{0xde, 0xad, 0xbe, 0xef}
	for _, c := range []Codec{ULaw, ALaw} {
		pcm := PCM(sas)
		want := c.Encode(make([]byte, len(pcm)), pcm)
		if got := Render(sas, c); string(got) != string(want) {
			t.Fatalf("%s: Render differs from encoding PCM", c)
		}
	}
}
