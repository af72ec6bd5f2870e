package crypt

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Labels that separate this version's derivations from each other and from
// protocol 1's.
const (
	prologueLabel   = "iaxcrypt/2"
	newIEsLabel     = "iaxcrypt/2 NEW IEs"
	acceptIEsLabel  = "iaxcrypt/2 ACCEPT IEs"
	commitLabel     = "iaxcrypt/2 commit"
	confirmKeyLabel = "iaxcrypt/2 confirm"
	sasLabel        = "iaxcrypt/2 sas"
	transportLabel  = "iaxcrypt/2 " // followed by the cipher's name
)

// prologueLen is the label, the caller's call number and the NEW IE digest.
const prologueLen = len(prologueLabel) + 2 + sha256.Size

// prologue binds the protocol version, the caller's call number and the
// NEW's own information elements (less the marker and CALLTOKEN) into the
// handshake hash: an offer cannot be replayed into another call, and a NEW
// rewritten on the path (called number, caller ID, codecs) makes the
// caller's Finish fail.
func prologue(callerCall uint16, newIEs []byte) []byte {
	p := make([]byte, 0, prologueLen)
	p = append(p, prologueLabel...)
	p = binary.BigEndian.AppendUint16(p, callerCall)
	d := ieDigest(newIEsLabel, newIEs)
	return append(p, d[:]...)
}

// ieDigest is SHA-256(label || ies).
func ieDigest(label string, ies []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(label))
	h.Write(ies)
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// ContextIEs appends to dst the information elements of a NEW or ACCEPT
// payload that the handshake binds: every IE, raw and in order, except the
// marker (MarkerIE) and CALLTOKEN, which change between the NEW the
// application sends and the one that reaches the peer. Both daemons must
// call it on the same frame's payload (the caller before adding its offer
// to the NEW, the callee on the NEW as received; the callee on its
// application's ACCEPT, the caller on the ACCEPT as received). It fails,
// returning dst unchanged, on a payload whose IEs do not parse.
func ContextIEs(dst, payload []byte) ([]byte, error) {
	if err := iax.ValidateIEs(payload); err != nil {
		return dst, fmt.Errorf("context IEs: %w", err)
	}
	_ = iax.RangeIEs(payload, func(ie iax.IE) bool {
		if ie.ID != MarkerIE && ie.ID != iax.IECallToken {
			dst = append(dst, byte(ie.ID), byte(len(ie.Data)))
			dst = append(dst, ie.Data...)
		}
		return true
	})
	return dst, nil
}
