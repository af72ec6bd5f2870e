package sasaudio

import (
	"fmt"
	"math"
	"strings"

	"github.com/iaxcrypt/iaxcrypt/crypt"
)

// SampleRate is G.711's.
const SampleRate = 8000

// Timing of the rendering, in samples.
const (
	toneSamples    = 100 * SampleRate / 1000 // 100 ms
	gapSamples     = 60 * SampleRate / 1000  // 60 ms
	paddingSamples = 100 * SampleRate / 1000 // silence before and after
	// FrameSamples is one 20 ms frame.
	FrameSamples = 20 * SampleRate / 1000
)

// toneAmplitude is each of the two tones' peak (about -9 dBm0 each):
// loud enough to survive G.711 and noise, the pair far from clipping.
const toneAmplitude = 7000

// zbase32 is the SAS alphabet (crypt.SAS.Base32).
const zbase32 = "ybndrfg8ejkmcpqxot1uwisza345h769"

// dtmf maps each symbol to its row and column frequencies (Hz).
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
	keypad   = [4]string{"123A", "456B", "789C", "*0#D"}
)

func symbolFreqs(sym byte) (row, col float64, ok bool) {
	for r, line := range keypad {
		if c := strings.IndexByte(line, sym); c >= 0 {
			return rowFreqs[r], colFreqs[c], true
		}
	}
	return 0, 0, false
}

// Digits returns the DTMF symbols that carry the SAS: "*", two decimal
// digits per z-base-32 character, "#".
func Digits(sas crypt.SAS) string {
	var sb strings.Builder
	sb.WriteByte('*')
	for _, ch := range []byte(sas.Base32()) {
		fmt.Fprintf(&sb, "%02d", strings.IndexByte(zbase32, ch))
	}
	sb.WriteByte('#')
	return sb.String()
}

// PCM renders the SAS as linear 8 kHz samples.
func PCM(sas crypt.SAS) []int16 {
	digits := Digits(sas)
	out := make([]int16, 0, 2*paddingSamples+len(digits)*(toneSamples+gapSamples))
	out = append(out, make([]int16, paddingSamples)...)
	for i := range len(digits) {
		row, col, _ := symbolFreqs(digits[i])
		for n := range toneSamples {
			t := float64(n) / SampleRate
			v := toneAmplitude * (math.Sin(2*math.Pi*row*t) + math.Sin(2*math.Pi*col*t))
			out = append(out, int16(math.Round(v)))
		}
		out = append(out, make([]int16, gapSamples)...)
	}
	return append(out, make([]int16, paddingSamples)...)
}

// Render returns the SAS as G.711 bytes, one per sample.
func Render(sas crypt.SAS, c Codec) []byte {
	pcm := PCM(sas)
	return c.Encode(make([]byte, len(pcm)), pcm)
}

// Frames returns the SAS as G.711 frames of frameSamples samples each (160
// for 20 ms), the last one padded with silence.
func Frames(sas crypt.SAS, c Codec, frameSamples int) [][]byte {
	if frameSamples <= 0 {
		frameSamples = FrameSamples
	}
	pcm := PCM(sas)
	if r := len(pcm) % frameSamples; r != 0 {
		pcm = append(pcm, make([]int16, frameSamples-r)...)
	}
	stream := c.Encode(make([]byte, len(pcm)), pcm)
	frames := make([][]byte, 0, len(stream)/frameSamples)
	for len(stream) > 0 {
		frames = append(frames, stream[:frameSamples:frameSamples])
		stream = stream[frameSamples:]
	}
	return frames
}
