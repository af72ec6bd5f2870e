package sasaudio

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/iaxcrypt/iaxcrypt/crypt"
)

// Detection parameters. A window of 20 ms (160 samples, 50 Hz bins) is
// moved by 10 ms; a symbol is taken once it fills minRun windows in a row.
const (
	window = 160
	hop    = 80
	minRun = 3
	// minPower is the least mean square a window needs to be looked at
	// (about -45 dBm0): below it is silence.
	minPower = 100 * 100
	// The strongest row and column must each hold this share of the
	// window's energy, the pair together pairShare, and each must be
	// this many times stronger than the runner-up of its group.
	toneShare  = 0.2
	pairShare  = 0.65
	groupRatio = 6.0
	// maxTwist bounds the ratio of the two tones' powers (8 dB).
	maxTwist = 6.3
)

// goertzel returns the normalised power of freq in x: about 1 for a pure
// sine at freq that fills x, whatever its amplitude, when divided by the
// window's energy as symbolAt does.
func goertzel(x []float64, freq float64) float64 {
	w := 2 * math.Pi * freq / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := v + coeff*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// symbolAt returns the DTMF symbol in one window, or 0.
func symbolAt(x []float64) byte {
	var energy float64
	for _, v := range x {
		energy += v * v
	}
	if energy/float64(len(x)) < minPower {
		return 0
	}
	norm := 2 / (float64(len(x)) * energy)
	best := func(freqs [4]float64) (idx int, p, second float64) {
		for i, f := range freqs {
			v := goertzel(x, f) * norm
			switch {
			case v > p:
				second, p, idx = p, v, i
			case v > second:
				second = v
			}
		}
		return idx, p, second
	}
	r, pr, r2 := best(rowFreqs)
	c, pc, c2 := best(colFreqs)
	switch {
	case pr < toneShare || pc < toneShare || pr+pc < pairShare:
		return 0
	case pr < groupRatio*r2 || pc < groupRatio*c2:
		return 0
	case pr > maxTwist*pc || pc > maxTwist*pr:
		return 0
	}
	return keypad[r][c]
}

// Symbols returns the DTMF symbols heard in linear 8 kHz audio, in order:
// a symbol counts once per tone, however long it lasts.
func Symbols(pcm []int16) string {
	var (
		sb      strings.Builder
		x       = make([]float64, window)
		run     int
		current byte
		emitted bool
	)
	for start := 0; start+window <= len(pcm); start += hop {
		for i := range x {
			x[i] = float64(pcm[start+i])
		}
		sym := symbolAt(x)
		if sym != current {
			current, run, emitted = sym, 0, false
		}
		run++
		if sym != 0 && run >= minRun && !emitted {
			sb.WriteByte(sym)
			emitted = true
		}
	}
	return sb.String()
}

// ErrNoSAS means no complete SAS (start mark, eight digits forming four
// z-base-32 indices, end mark) was found.
var ErrNoSAS = errors.New("no SAS in the audio")

// Decoded is a SAS read from audio: its 20 leading bits, which give the
// four z-base-32 characters and the two PGP words.
type Decoded struct {
	Bits uint32 // the 20 bits, high bits first
}

// Base32 renders the SAS as crypt.SAS.Base32 does.
func (d Decoded) Base32() string {
	var b [4]byte
	for i := range b {
		b[i] = zbase32[(d.Bits>>(15-5*i))&31]
	}
	return string(b[:])
}

// Decode finds the first complete SAS in linear 8 kHz audio.
func Decode(pcm []int16) (Decoded, error) {
	return FindSAS(Symbols(pcm))
}

// DecodeG711 decodes G.711 audio and finds the SAS in it.
func DecodeG711(b []byte, c Codec) (Decoded, error) {
	return Decode(c.Decode(make([]int16, len(b)), b))
}

// FindSAS finds "*dddddddd#" in a string of DTMF symbols.
func FindSAS(symbols string) (Decoded, error) {
	for i := 0; ; i++ {
		j := strings.IndexByte(symbols[i:], '*')
		if j < 0 {
			return Decoded{}, ErrNoSAS
		}
		i += j
		if i+10 > len(symbols) || symbols[i+9] != '#' {
			continue
		}
		var bits uint32
		ok := true
		for k := 0; k < 4 && ok; k++ {
			n, err := strconv.Atoi(symbols[i+1+2*k : i+3+2*k])
			if err != nil || n > 31 {
				ok = false
				break
			}
			bits = bits<<5 | uint32(n)
		}
		if ok {
			return Decoded{Bits: bits}, nil
		}
	}
}

// SAS returns a crypt.SAS with the decoded bits and the rest zero: its
// Base32 and Words are those of the SAS that was rendered.
func (d Decoded) SAS() crypt.SAS {
	v := d.Bits << 12
	return crypt.SAS{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}
}
