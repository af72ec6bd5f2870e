package audit

import (
	"net/netip"
	"slices"
	"time"
)

// DefaultPorts are the UDP ports read as IAX2 without --port: the IANA
// port, and the ports the iaxcrypt daemon and a moved application use in
// the README's set-ups.
func DefaultPorts() []uint16 { return []uint16{4569, 4570, 4571} }

// Options say how to read a capture.
type Options struct {
	// Ports are UDP ports that carry IAX2, in addition to DefaultPorts. A
	// datagram is read as IAX2 when its source or destination port is one
	// of them.
	Ports []uint16
}

func (o Options) ports() []uint16 {
	ports := append(DefaultPorts(), o.Ports...)
	slices.Sort(ports)
	return slices.Compact(ports)
}

// Report is what the audit found in one capture.
type Report struct {
	File  string   `json:"file,omitempty"`
	Ports []uint16 `json:"ports"`
	// Start is the capture time of the first packet; offsets count from it.
	Start time.Time `json:"start,omitzero"`
	// Packets counts every packet of the file.
	Packets int `json:"packets"`
	// Datagrams counts the UDP datagrams to or from an IAX2 port.
	Datagrams int `json:"iax2_datagrams"`
	// Other counts readable packets that are not UDP to or from an IAX2
	// port.
	Other int `json:"other_packets"`
	// Unreadable counts, by reason, packets whose UDP datagram could not be
	// read: "ip-fragment", "truncated", "malformed", "link-type". Their
	// contents were not checked.
	Unreadable map[string]int `json:"unreadable,omitempty"`
	// NotIAX2 counts datagrams on an IAX2 port that are not IAX2 frames:
	// shorter than a header, or a trunk frame whose entries run past its
	// end.
	NotIAX2 int `json:"not_iax2,omitempty"`
	// CutShort is set when the file ends in the middle of a packet (a
	// capture that was killed); every complete packet was read.
	CutShort bool `json:"cut_short,omitempty"`
	// Calls lists every IAX2 call, in the order of its first packet.
	Calls []*Call `json:"calls"`
	// Unattributed counts frames that belong to no call of the capture:
	// registrations, POKE, and frames of calls whose NEW is not in the
	// capture.
	Unattributed Frames `json:"unattributed"`
	// Leaks is the number of frames of encrypted calls that crossed in
	// cleartext after the switch, over all calls.
	Leaks int `json:"leaks"`
}

// Call is one IAX2 call: from a NEW (or, for a call already encrypted when
// the capture started, from its first encrypted frame) to the NEW that
// reuses its call number, or the end of the capture.
type Call struct {
	// ID numbers calls from 1 in the order they start in the capture.
	ID int `json:"id"`
	// Caller sent the NEW; Callee is where the NEW went.
	Caller netip.AddrPort `json:"caller"`
	Callee netip.AddrPort `json:"callee"`
	// CallerCall is the caller's call number (the NEW's source call).
	CallerCall uint16 `json:"caller_call"`
	// CalleeCall is the callee's call number, first seen as the source of
	// its AUTHREQ, ACCEPT or ACK; 0 if it never showed.
	CalleeCall uint16 `json:"callee_call"`
	// CalleePlaceholders are other source call numbers the callee answered
	// from before its real one: chan_iax2 answers a NEW without a token
	// with CALLTOKEN from call number 1.
	CalleePlaceholders []uint16 `json:"callee_placeholder_calls,omitempty"`
	// Partial is set for a call whose NEW is not in the capture, first
	// seen as an encrypted frame: Caller is then just the sender of that
	// frame, and the call was encrypted before the capture started.
	Partial bool `json:"partial,omitempty"`
	// Start is where the call was first seen.
	Start Point `json:"start"`
	// State is the last call state seen in clear: offered,
	// authenticating, accepted, answered, ended or rejected. An encrypted
	// call's later states (ANSWER, HANGUP) travel sealed and do not show.
	State string `json:"state"`
	// Offer is the marker of the first NEW that carried one.
	Offer *Marker `json:"offer,omitempty"`
	// Answer is the marker of the first ACCEPT that carried one.
	Answer *Marker `json:"answer,omitempty"`
	// Encryption sums it up: "none" (no offer), "offered" (no answer),
	// "encrypted" (answered, or encrypted frames or trunk entries seen).
	Encryption string `json:"encryption"`
	// CalleeEncrypts is where the callee started encrypting: its ACCEPT
	// with the answer (or, if that is not in the capture, its first
	// encrypted frame). CallerEncrypts is the caller's first encrypted
	// frame.
	CalleeEncrypts *Point `json:"callee_encrypts_from,omitempty"`
	CallerEncrypts *Point `json:"caller_encrypts_from,omitempty"`
	// Frames counts the call's frames by kind.
	Frames Frames `json:"frames"`
	// AcceptRetransmissions counts copies of the ACCEPT with the answer
	// sent again in clear, as the protocol allows.
	AcceptRetransmissions int `json:"accept_retransmissions,omitempty"`
	// InFlight counts cleartext IAX signalling frames seen within 5 s of
	// the callee's switch that provably left their sender before it
	// switched (the caller's ISeq does not acknowledge the ACCEPT, the
	// callee's OSeq is before the ACCEPT's): in flight at the switch, not
	// leaks, as the receiving daemon takes them too.
	InFlight int `json:"in_flight,omitempty"`
	// Leaks lists every frame of the call that crossed in cleartext after
	// its sender had switched to encryption.
	Leaks []Leak `json:"leaks"`
}

// Point is a packet of the capture.
type Point struct {
	// Packet is the packet's number in the file, from 1, as tshark counts.
	Packet int       `json:"packet"`
	Time   time.Time `json:"time"`
	// Offset is the time since the capture's first packet, in seconds.
	Offset float64 `json:"offset"`
}

// Marker is an iaxcrypt marker IE (0xC3) seen in a NEW or an ACCEPT.
type Marker struct {
	Point
	// Version is the marker's protocol version byte.
	Version uint8 `json:"version"`
	// Type is 1 for an offer, 2 for an answer.
	Type uint8 `json:"type"`
	// Ciphers are the ciphers an offer lists, in the caller's order (the
	// answer's choice is encrypted).
	Ciphers []string `json:"ciphers,omitempty"`
}

// Frames counts frames by kind.
type Frames struct {
	// Full counts full frames by type and subclass: "IAX NEW",
	// "CONTROL ANSWER", "VOICE" (media types by type only).
	Full map[string]int `json:"full"`
	// Mini counts mini (voice) frames.
	Mini int `json:"mini"`
	// Video counts meta video frames.
	Video int `json:"video"`
	// Trunks counts trunk frames with at least one entry of the call;
	// TrunkEntries the entries themselves.
	Trunks       int `json:"trunk_frames"`
	TrunkEntries int `json:"trunk_entries"`
	// Encrypted counts iaxcrypt encrypted frames (meta command 0x45).
	Encrypted int `json:"encrypted"`
	// EncryptedTrunks counts iaxcrypt encrypted trunk frames (meta command
	// 0x46) with at least one entry of the call; EncryptedTrunkEntries the
	// sealed entries themselves.
	EncryptedTrunks       int `json:"encrypted_trunk_frames"`
	EncryptedTrunkEntries int `json:"encrypted_trunk_entries"`
	// Meta counts meta frames of other commands (only unattributed: they
	// name no call).
	Meta int `json:"meta,omitempty"`
}

// FullTotal returns the number of full frames.
func (f *Frames) FullTotal() int {
	n := 0
	for _, v := range f.Full {
		n += v
	}
	return n
}

func (f *Frames) addFull(name string) {
	if f.Full == nil {
		f.Full = make(map[string]int)
	}
	f.Full[name]++
}

// Leak is one frame of an encrypted call that crossed in cleartext after
// its sender had switched.
type Leak struct {
	Point
	From netip.AddrPort `json:"from"`
	To   netip.AddrPort `json:"to"`
	// Side is "caller" or "callee".
	Side string `json:"side"`
	// Kind is "full", "mini", "video" or "trunk entry".
	Kind string `json:"kind"`
	// Frame names a full frame's type and subclass ("VOICE", "IAX HANGUP").
	Frame string `json:"frame,omitempty"`
	// SrcCall is the frame's source call number.
	SrcCall uint16 `json:"src_call"`
	// Why says what proves the sender had switched.
	Why string `json:"why"`
}
