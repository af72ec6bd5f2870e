package sasaudio

import (
	"fmt"
	"math"
	"strings"
	"sync"

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

// tones holds each symbol's tone, computed once: rendering a SAS (which the
// engine does with its lock held) only copies.
var (
	tonesOnce sync.Once
	tones     map[byte][]int16
)

func toneOf(sym byte) []int16 {
	tonesOnce.Do(func() {
		tones = make(map[byte][]int16)
		for _, line := range keypad {
			for i := range len(line) {
				row, col, _ := symbolFreqs(line[i])
				tone := make([]int16, toneSamples)
				for n := range tone {
					t := float64(n) / SampleRate
					tone[n] = int16(math.Round(toneAmplitude * (math.Sin(2*math.Pi*row*t) + math.Sin(2*math.Pi*col*t))))
				}
				tones[line[i]] = tone
			}
		}
	})
	return tones[sym]
}

// PCM renders the SAS as linear 8 kHz samples.
func PCM(sas crypt.SAS) []int16 {
	digits := Digits(sas)
	out := make([]int16, 2*paddingSamples+len(digits)*(toneSamples+gapSamples))
	n := paddingSamples
	for i := range len(digits) {
		n += copy(out[n:], toneOf(digits[i])) + gapSamples
	}
	return out
}

// encodedTones holds each symbol's tone in each codec, computed once.
var (
	encodedOnce  sync.Once
	encodedTones [2]map[byte][]byte
)

func encodedTone(sym byte, c Codec) []byte {
	encodedOnce.Do(func() {
		for _, codec := range []Codec{ULaw, ALaw} {
			encodedTones[codec] = make(map[byte][]byte)
			for _, line := range keypad {
				for i := range len(line) {
					t := toneOf(line[i])
					encodedTones[codec][line[i]] = codec.Encode(make([]byte, len(t)), t)
				}
			}
		}
	})
	return encodedTones[c][sym]
}

// Render returns the SAS as G.711 bytes, one per sample.
func Render(sas crypt.SAS, c Codec) []byte {
	return render(sas, c, 1)
}

// render writes the G.711 stream, padded with silence to a multiple of
// unit samples.
func render(sas crypt.SAS, c Codec, unit int) []byte {
	digits := Digits(sas)
	n := 2*paddingSamples + len(digits)*(toneSamples+gapSamples)
	if r := n % unit; r != 0 {
		n += unit - r
	}
	silence := c.Encode(make([]byte, 1), []int16{0})[0]
	out := make([]byte, n)
	for i := range out {
		out[i] = silence
	}
	at := paddingSamples
	for i := range len(digits) {
		at += copy(out[at:], encodedTone(digits[i], c)) + gapSamples
	}
	return out
}

// Frames returns the SAS as G.711 frames of frameSamples samples each (160
// for 20 ms), the last one padded with silence. It only copies prepared
// tones: the engine calls it with its lock held.
func Frames(sas crypt.SAS, c Codec, frameSamples int) [][]byte {
	if frameSamples <= 0 {
		frameSamples = FrameSamples
	}
	stream := render(sas, c, frameSamples)
	frames := make([][]byte, 0, len(stream)/frameSamples)
	for len(stream) > 0 {
		frames = append(frames, stream[:frameSamples:frameSamples])
		stream = stream[frameSamples:]
	}
	return frames
}
