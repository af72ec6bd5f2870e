package daemon

import (
	"sync/atomic"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/sasaudio"
)

// sasAudio plays the SAS into each encrypted G.711 call toward the local
// application (--sas-audio), as DTMF (package sasaudio); a reload turns it
// on or off for the calls that follow.
type sasAudio struct{ on atomic.Bool }

func newSASAudio(on bool) *sasAudio {
	s := &sasAudio{}
	s.on.Store(on)
	return s
}

func (s *sasAudio) SetEnabled(on bool) { s.on.Store(on) }

// Frames is the engine's SASAudioFunc: 20 ms frames in the call's codec,
// nil when off.
func (s *sasAudio) Frames(sas crypt.SAS, c engine.Codec) [][]byte {
	if !s.on.Load() {
		return nil
	}
	switch c {
	case engine.CodecULaw:
		return sasaudio.Frames(sas, sasaudio.ULaw, sasaudio.FrameSamples)
	case engine.CodecALaw:
		return sasaudio.Frames(sas, sasaudio.ALaw, sasaudio.FrameSamples)
	}
	return nil
}
