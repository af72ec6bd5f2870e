package attacker

import (
	"fmt"
	"net/netip"
	"time"
)

// Mode is what the attacker does to the traffic it routes.
type Mode string

// Modes, one for each attack of issue 7.
const (
	// ModePass forwards everything unchanged (and still follows the call).
	ModePass Mode = "pass"
	// ModeStripNew removes the marker IE from every NEW (attack a).
	ModeStripNew Mode = "strip-new"
	// ModeStripAccept removes the marker IE from every ACCEPT (attack b).
	ModeStripAccept Mode = "strip-accept"
	// ModeMITM runs two engines of its own: one answers the caller as the
	// callee, the other calls the callee as the caller (attack c).
	ModeMITM Mode = "mitm"
	// ModeReplay duplicates, replays and reorders encrypted frames
	// (attack d).
	ModeReplay Mode = "replay"
	// ModeBitFlip sends a copy of some encrypted frames with one bit
	// flipped, ahead of the original (attack e).
	ModeBitFlip Mode = "bitflip"
	// ModeInject injects cleartext frames of the encrypted call (a voice
	// mini frame, a text frame, a HANGUP) into both sides once both have
	// switched (attack f).
	ModeInject Mode = "inject"
	// ModeWithholdInject drops the caller's encrypted frames for a while
	// after the switch, so the callee has not yet seen one, and injects
	// cleartext frames "from the caller" into the callee meanwhile (attack
	// f, the variant of finding 2).
	ModeWithholdInject Mode = "withhold-inject"
	// ModeFlood sends NEWs and ACCEPTs from many spoofed sources to a
	// daemon (attack g).
	ModeFlood Mode = "flood"
)

var modes = []Mode{ModePass, ModeStripNew, ModeStripAccept, ModeMITM, ModeReplay, ModeBitFlip,
	ModeInject, ModeWithholdInject, ModeFlood}

// Settings select a mode and its parameters. Zero parameters take the
// defaults of withDefaults.
type Settings struct {
	Mode Mode `json:"mode"`

	// Replay: every DupEvery-th encrypted frame of each direction is sent
	// twice; every ReplayEvery-th is followed by a copy of the frame sent
	// ReplayDistance frames earlier; every ReorderEvery-th of the first
	// ReorderUntil is held back and sent after the next one. A negative
	// value turns that part off.
	//
	// Reordering stops early by default because it is the one impairment
	// the daemons must pass on, not drop: the application gets the frames
	// out of order, and two swapped 20 ms voice frames in the middle of a
	// fax's T.30 signalling cost the page, with or without iaxcrypt. The
	// first 3 s of a call (ringing, answer tone) take it.
	DupEvery       int `json:"dup_every,omitempty"`
	ReplayEvery    int `json:"replay_every,omitempty"`
	ReplayDistance int `json:"replay_distance,omitempty"`
	ReorderEvery   int `json:"reorder_every,omitempty"`
	ReorderUntil   int `json:"reorder_until,omitempty"`

	// BitFlip: every FlipEvery-th encrypted frame of each direction is
	// preceded by a copy with one bit flipped, in a field that cycles
	// through SealedFields.
	FlipEvery int `json:"flip_every,omitempty"`

	// Inject: once InjectAfter encrypted frames went each way, InjectRounds
	// rounds of forged frames InjectIntervalMS apart; the HANGUPs go in the
	// last round.
	InjectAfter      int `json:"inject_after,omitempty"`
	InjectRounds     int `json:"inject_rounds,omitempty"`
	InjectIntervalMS int `json:"inject_interval_ms,omitempty"`

	// WithholdInject: the caller's encrypted frames are dropped for
	// WithholdMS after the first one; the forged frames go to the callee
	// during that time.
	WithholdMS int `json:"withhold_ms,omitempty"`

	// Flood: FloodNews NEWs (with a valid offer) and FloodAccepts ACCEPTs
	// from random sources in SpoofPrefix to FloodTarget (a daemon's
	// address and port), at FloodRate packets a second. The NEWs start
	// when FloodTarget sends a NEW (the legitimate call), and ACCEPTs on
	// their way to it are held back until the NEWs are out, so the call is
	// half-open meanwhile; the ACCEPTs start once the legitimate call's
	// encrypted frames flow both ways (or 3 s after its ACCEPT).
	//
	// With FloodSilentNews each NEW ends with a truncated IE after the
	// marker: the daemon still finds the offer and tracks the call as
	// half-open, but an application that refuses to parse such a NEW
	// (libiax2, and so iaxmodem) does not answer it, so the half-open
	// entries are not ended by a REJECT and pile up until they time out.
	FloodSilentNews bool `json:"flood_silent_news,omitempty"`

	FloodTarget  string `json:"flood_target,omitempty"`
	FloodNews    int    `json:"flood_news,omitempty"`
	FloodAccepts int    `json:"flood_accepts,omitempty"`
	FloodRate    int    `json:"flood_rate,omitempty"`
	SpoofPrefix  string `json:"spoof_prefix,omitempty"`
}

// Limits of a flood, so that a test cannot turn the attacker into a
// machine-wide load generator by mistake.
const (
	MaxFloodPackets = 200_000
	MaxFloodRate    = 50_000
)

// DefaultSpoofPrefix is where flood sources come from: routed through M by
// the hosts' default routes, and nothing else there.
const DefaultSpoofPrefix = "10.99.0.0/16"

func (s Settings) withDefaults() Settings {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.DupEvery, 10)
	def(&s.ReplayEvery, 25)
	def(&s.ReplayDistance, 40)
	def(&s.ReorderEvery, 30)
	def(&s.ReorderUntil, 150)
	def(&s.FlipEvery, 7)
	def(&s.InjectAfter, 50)
	def(&s.InjectRounds, 3)
	def(&s.InjectIntervalMS, 300)
	def(&s.WithholdMS, 1500)
	def(&s.FloodRate, 10_000)
	if s.SpoofPrefix == "" {
		s.SpoofPrefix = DefaultSpoofPrefix
	}
	if s.Mode == "" {
		s.Mode = ModePass
	}
	return s
}

// validate checks settings after defaults.
func (s Settings) validate() (parsed settings, err error) {
	known := false
	for _, m := range modes {
		known = known || m == s.Mode
	}
	if !known {
		return parsed, fmt.Errorf("attacker: unknown mode %q (want one of %v)", s.Mode, modes)
	}
	if s.ReplayDistance > replayRing {
		return parsed, fmt.Errorf("attacker: replay_distance %d: at most %d", s.ReplayDistance, replayRing)
	}
	parsed.spoof, err = netip.ParsePrefix(s.SpoofPrefix)
	if err != nil || !parsed.spoof.Addr().Is4() {
		return parsed, fmt.Errorf("attacker: spoof_prefix %q: want an IPv4 prefix: %v", s.SpoofPrefix, err)
	}
	if s.Mode == ModeFlood {
		parsed.target, err = netip.ParseAddrPort(s.FloodTarget)
		if err != nil || !parsed.target.Addr().Is4() {
			return parsed, fmt.Errorf("attacker: flood_target %q: want IPv4:port: %v", s.FloodTarget, err)
		}
		if s.FloodNews < 0 || s.FloodAccepts < 0 || s.FloodNews+s.FloodAccepts > MaxFloodPackets {
			return parsed, fmt.Errorf("attacker: flood of %d NEWs and %d ACCEPTs: at most %d packets", s.FloodNews, s.FloodAccepts, MaxFloodPackets)
		}
		if s.FloodRate <= 0 || s.FloodRate > MaxFloodRate {
			return parsed, fmt.Errorf("attacker: flood_rate %d: want 1 to %d packets a second", s.FloodRate, MaxFloodRate)
		}
	}
	parsed.Settings = s
	parsed.injectInterval = time.Duration(s.InjectIntervalMS) * time.Millisecond
	parsed.withhold = time.Duration(s.WithholdMS) * time.Millisecond
	return parsed, nil
}

// settings are Settings checked and parsed.
type settings struct {
	Settings
	spoof          netip.Prefix
	target         netip.AddrPort
	injectInterval time.Duration
	withhold       time.Duration
}
