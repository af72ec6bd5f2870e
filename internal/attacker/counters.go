package attacker

// Counters say what the attacker saw and did since the last Set. The tests
// compare them with what the daemons report (for example: every duplicate
// sent must show up as a replay drop).
type Counters struct {
	Mode Mode `json:"mode"`

	// Packets counts IP packets read from the TUN; NotIAX those that were
	// not IAX2 between the hosts (passed on unchanged); Dropped those the
	// attacker did not pass on (stripped copies do not count: they pass).
	Packets uint64 `json:"packets"`
	NotIAX  uint64 `json:"not_iax"`
	Dropped uint64 `json:"dropped"`
	// Malformed counts datagrams the attacker could not parse as IAX2.
	Malformed uint64 `json:"malformed"`

	// Call is the call being followed; CallsSeen counts the calls that
	// started (a NEW of a new call) since the last Set, so a test knows
	// Call is its own and not the previous one.
	Call      CallCounters `json:"call"`
	CallsSeen uint64       `json:"calls_seen"`

	StrippedNew    uint64 `json:"stripped_new"`
	StrippedAccept uint64 `json:"stripped_accept"`

	Duplicated uint64 `json:"duplicated"`
	Replayed   uint64 `json:"replayed"`
	Reordered  uint64 `json:"reordered"`

	// Flipped counts tampered copies by the field whose bit was flipped
	// (SealedField names).
	Flipped map[string]uint64 `json:"flipped,omitempty"`

	// Withheld counts the caller's encrypted frames dropped by
	// withhold-inject; Injected counts forged frames by kind ("mini",
	// "text", "hangup") and direction ("to-callee", "to-caller").
	Withheld uint64            `json:"withheld"`
	Injected map[string]uint64 `json:"injected,omitempty"`

	FloodNews        uint64 `json:"flood_news"`
	FloodAccepts     uint64 `json:"flood_accepts"`
	FloodHeldAccepts uint64 `json:"flood_held_accepts"`
	RepliesToSpoofed uint64 `json:"replies_to_spoofed"`
	FloodDone        bool   `json:"flood_done"`
	FloodDurationMS  int64  `json:"flood_duration_ms"`

	MITM *MITMCounters `json:"mitm,omitempty"`

	// Errors counts packets the attacker failed to build or route; LastError
	// says the last one.
	Errors    uint64 `json:"errors"`
	LastError string `json:"last_error,omitempty"`
}

// CallCounters describe the call the attacker follows.
type CallCounters struct {
	Caller     string `json:"caller,omitempty"`
	Callee     string `json:"callee,omitempty"`
	CallerCall uint16 `json:"caller_call"`
	CalleeCall uint16 `json:"callee_call"`
	// MarkerVersion is the version byte of the last marker seen in a NEW.
	MarkerVersion int    `json:"marker_version"`
	News          uint64 `json:"news"`
	Accepts       uint64 `json:"accepts"`
	// SealedFromCaller and SealedFromCallee count encrypted frames seen
	// (before the attacker touched them).
	SealedFromCaller uint64 `json:"sealed_from_caller"`
	SealedFromCallee uint64 `json:"sealed_from_callee"`
	// ClearAfterSwitch counts cleartext datagrams of the call, other than
	// NEW and ACCEPT, seen after its first encrypted frame in either
	// direction: what a downgrade leaves on the wire.
	ClearAfterSwitch uint64 `json:"clear_after_switch"`
}

// MITMCounters describe the two handshakes of the man in the middle. The
// SAS values are what each host should see if the attack worked: the
// attacker's own, not a secret of the hosts.
type MITMCounters struct {
	// CallerState and CalleeState are the attacker's engines' view of the
	// two legs (engine status names).
	CallerState string `json:"caller_state"`
	CalleeState string `json:"callee_state"`
	// SASWithCaller is the SAS of the leg toward the caller (engine 1),
	// SASWithCallee of the leg toward the callee (engine 2).
	SASWithCaller string `json:"sas_with_caller"`
	SASWithCallee string `json:"sas_with_callee"`
	// Identity1 and Identity2 are the fingerprints the attacker's engines
	// show the caller and the callee.
	Identity1 string `json:"identity1"`
	Identity2 string `json:"identity2"`
	// Relayed counts datagrams that crossed both engines; EngineDrops
	// those one of them dropped.
	Relayed     uint64 `json:"relayed"`
	EngineDrops uint64 `json:"engine_drops"`
}

func (c *Counters) inject(kind, dir string) {
	if c.Injected == nil {
		c.Injected = map[string]uint64{}
	}
	c.Injected[kind+"/"+dir]++
}

func (c *Counters) flip(field SealedField) {
	if c.Flipped == nil {
		c.Flipped = map[string]uint64{}
	}
	c.Flipped[field.String()]++
}

// clone returns a deep copy.
func (c Counters) clone() Counters {
	out := c
	if c.Flipped != nil {
		out.Flipped = make(map[string]uint64, len(c.Flipped))
		for k, v := range c.Flipped {
			out.Flipped[k] = v
		}
	}
	if c.Injected != nil {
		out.Injected = make(map[string]uint64, len(c.Injected))
		for k, v := range c.Injected {
			out.Injected[k] = v
		}
	}
	if c.MITM != nil {
		m := *c.MITM
		out.MITM = &m
	}
	return out
}

// InjectedTotal sums Injected.
func (c Counters) InjectedTotal() uint64 {
	var n uint64
	for _, v := range c.Injected {
		n += v
	}
	return n
}

// FlippedTotal sums Flipped.
func (c Counters) FlippedTotal() uint64 {
	var n uint64
	for _, v := range c.Flipped {
		n += v
	}
	return n
}
