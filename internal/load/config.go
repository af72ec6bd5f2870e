package load

import (
	"fmt"
	"net/netip"
	"time"
)

// Role says which side of the calls a Host plays.
type Role uint8

const (
	// Caller places the calls (sends the NEWs) and hangs them up.
	Caller Role = iota
	// Callee answers every NEW it gets: ACCEPT, then ANSWER, then voice.
	Callee
)

func (r Role) String() string {
	if r == Callee {
		return "callee"
	}
	return "caller"
}

// Config says what a Host does. Zero fields take the defaults below.
type Config struct {
	Role Role
	// Target is where a Caller sends its calls: the callee, or the
	// peer host's iaxcrypt daemon.
	Target netip.AddrPort
	// Calls is how many calls a Caller keeps up at once.
	Calls int
	// Hold is how long a Caller's call carries voice before its HANGUP.
	Hold time.Duration
	// SetupRate is how many NEWs a Caller sends per second at most.
	SetupRate float64
	// RunFor, when set, makes a Caller replace every call that ends with
	// a new one until RunFor has passed since the start (a soak); when
	// zero, each of the Calls is placed once.
	RunFor time.Duration
	// Interval is the time between two voice frames of a call.
	Interval time.Duration
	// PayloadSize is the voice payload's length (160: G.711, 20 ms).
	PayloadSize int
	// Silent calls carry no voice, only their signalling (call-table
	// tests: many calls, little traffic).
	Silent bool
	// Echo makes a Callee send every voice frame it gets back to the
	// caller (stamped with its echo time) instead of voice of its own.
	Echo bool
	// Trunk sends voice in meta trunk frames with per-entry timestamps,
	// one or more per peer every TrunkInterval, as Asterisk does with
	// trunk=yes and trunktimestamps=yes; a frame is sent early when the
	// next entry would make it longer than TrunkMTU.
	Trunk         bool
	TrunkMTU      int
	TrunkInterval time.Duration
	// Retry is when an unacknowledged full frame is first sent again;
	// each later retry waits ten times longer, up to RetryMax, and after
	// MaxRetries the call fails (Asterisk: twice the 1 s default ping
	// time, ×10, at most 10 s, 4 retries).
	Retry      time.Duration
	RetryMax   time.Duration
	MaxRetries int
	// Linger is how long an ended call is kept to answer retransmissions
	// before its call number is reused.
	Linger time.Duration
	// Tick is the schedule's resolution.
	Tick time.Duration
	// Drain bounds how long a Caller waits, after the last HANGUP was due,
	// for calls to end before it reports them unfinished.
	Drain time.Duration
	// PerCall keeps a report line per call.
	PerCall bool
}

// Defaults.
const (
	DefaultHold          = 10 * time.Second
	DefaultSetupRate     = 1000
	DefaultInterval      = 20 * time.Millisecond
	DefaultPayloadSize   = 160
	DefaultTrunkMTU      = 1240 // Asterisk's MAX_TRUNK_MTU
	DefaultTrunkInterval = 20 * time.Millisecond
	DefaultRetry         = 2 * time.Second
	DefaultRetryMax      = 10 * time.Second
	DefaultMaxRetries    = 4
	DefaultLinger        = 20 * time.Second
	DefaultTick          = time.Millisecond
	DefaultDrain         = 15 * time.Second
	// MaxCalls is how many calls one Host can have at once: IAX2 call
	// numbers have 15 bits.
	MaxCalls = 32767
)

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Hold, DefaultHold)
	def(&c.Interval, DefaultInterval)
	def(&c.TrunkInterval, DefaultTrunkInterval)
	def(&c.Retry, DefaultRetry)
	def(&c.RetryMax, DefaultRetryMax)
	def(&c.Linger, DefaultLinger)
	def(&c.Tick, DefaultTick)
	def(&c.Drain, DefaultDrain)
	if c.SetupRate <= 0 {
		c.SetupRate = DefaultSetupRate
	}
	if c.PayloadSize <= 0 {
		c.PayloadSize = DefaultPayloadSize
	}
	if c.TrunkMTU <= 0 {
		c.TrunkMTU = DefaultTrunkMTU
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	return c
}

func (c Config) check() error {
	switch {
	case c.Role == Caller && !c.Target.IsValid():
		return fmt.Errorf("%w: a caller needs a target address (the callee or the peer's daemon)", ErrConfig)
	case c.Role == Caller && (c.Calls < 1 || c.Calls > MaxCalls):
		return fmt.Errorf("%w: %d calls; give 1 to %d (IAX2 call numbers have 15 bits)", ErrConfig, c.Calls, MaxCalls)
	case c.PayloadSize < MinPayload || c.PayloadSize > maxPayload:
		return fmt.Errorf("%w: payload of %d bytes; give %d to %d", ErrConfig, c.PayloadSize, MinPayload, maxPayload)
	case c.Trunk && c.TrunkMTU < 8+6+c.PayloadSize:
		return fmt.Errorf("%w: trunk MTU %d cannot hold one %d-byte entry", ErrConfig, c.TrunkMTU, c.PayloadSize)
	case c.Interval < time.Millisecond:
		return fmt.Errorf("%w: voice interval %v; give at least 1ms", ErrConfig, c.Interval)
	}
	return nil
}
