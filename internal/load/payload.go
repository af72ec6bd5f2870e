package load

import (
	"encoding/binary"
	"fmt"
)

// Voice payload layout (big-endian):
//
//	0  magic "IXL1"
//	4  call index (32)
//	8  sequence number (32), from 0 per call and direction
//	12 send time (64), Unix nanoseconds
//	20 echo time (64): 0, or when a callee echoed the frame back, the time
//	   it sent the echo
//	28 reserved, zero (32)
//	32 fill: splitmix64 of (index<<32 | seq), to the end
const (
	payloadMagic = "IXL1"
	// MinPayload is the smallest payload that holds the header.
	MinPayload  = 32
	offIndex    = 4
	offSeq      = 8
	offSent     = 12
	offEcho     = 20
	offFill     = 32
	maxPayload  = 1400
	fillWordLen = 8
)

// Payload is the header of a voice payload.
type Payload struct {
	Index uint32
	Seq   uint32
	Sent  int64
	Echo  int64
}

// PutPayload writes a payload of len(b) bytes (at least MinPayload) into b.
func PutPayload(b []byte, p Payload) {
	copy(b, payloadMagic)
	binary.BigEndian.PutUint32(b[offIndex:], p.Index)
	binary.BigEndian.PutUint32(b[offSeq:], p.Seq)
	binary.BigEndian.PutUint64(b[offSent:], uint64(p.Sent))
	binary.BigEndian.PutUint64(b[offEcho:], uint64(p.Echo))
	binary.BigEndian.PutUint32(b[28:], 0)
	fill(b[offFill:], p.Index, p.Seq)
}

// stampSent rewrites the send time of a payload already built.
func stampSent(b []byte, t int64) { binary.BigEndian.PutUint64(b[offSent:], uint64(t)) }

// stampEcho writes the echo time of a payload already built.
func stampEcho(b []byte, t int64) { binary.BigEndian.PutUint64(b[offEcho:], uint64(t)) }

// ParsePayload reads a payload's header and checks its fill pattern. It
// returns ErrNotLoad for a payload iaxload did not make and ErrCorrupt
// (with the header it read) when the fill does not match.
func ParsePayload(b []byte) (Payload, error) {
	if len(b) < MinPayload || string(b[:4]) != payloadMagic {
		return Payload{}, ErrNotLoad
	}
	p := Payload{
		Index: binary.BigEndian.Uint32(b[offIndex:]),
		Seq:   binary.BigEndian.Uint32(b[offSeq:]),
		Sent:  int64(binary.BigEndian.Uint64(b[offSent:])),
		Echo:  int64(binary.BigEndian.Uint64(b[offEcho:])),
	}
	if binary.BigEndian.Uint32(b[28:]) != 0 || !fillMatches(b[offFill:], p.Index, p.Seq) {
		return p, fmt.Errorf("call %d frame %d: %w", p.Index, p.Seq, ErrCorrupt)
	}
	return p, nil
}

// splitmix64 is the generator of the fill: cheap, and every bit of the
// seed changes the output.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func fill(b []byte, index, seq uint32) {
	s := uint64(index)<<32 | uint64(seq)
	for len(b) >= fillWordLen {
		s = splitmix64(s)
		binary.LittleEndian.PutUint64(b, s)
		b = b[fillWordLen:]
	}
	if len(b) > 0 {
		var w [fillWordLen]byte
		binary.LittleEndian.PutUint64(w[:], splitmix64(s))
		copy(b, w[:])
	}
}

func fillMatches(b []byte, index, seq uint32) bool {
	s := uint64(index)<<32 | uint64(seq)
	for len(b) >= fillWordLen {
		s = splitmix64(s)
		if binary.LittleEndian.Uint64(b) != s {
			return false
		}
		b = b[fillWordLen:]
	}
	if len(b) > 0 {
		var w [fillWordLen]byte
		binary.LittleEndian.PutUint64(w[:], splitmix64(s))
		return string(w[:len(b)]) == string(b)
	}
	return true
}
