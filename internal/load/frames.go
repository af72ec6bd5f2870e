package load

import (
	"encoding/binary"
	"strconv"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Codec values (Asterisk's format bits, as FORMAT and CAPABILITY carry
// them and a voice frame's subclass names them).
const (
	formatULaw = 1 << 2
	formatALaw = 1 << 3
	// causeNormal is Q.931's "normal call clearing".
	causeNormal = 16
)

// isCounted says whether a full frame advances the sender's sequence
// number (RFC 5456 section 7: all but ACK, INVAL, VNAK, TXCNT and TXACC).
func isCounted(f *iax.FullFrame) bool {
	sub, ok := f.IAXSubclass()
	if !ok {
		return true
	}
	switch sub {
	case iax.IAXAck, iax.IAXInval, iax.IAXVNAK, iax.IAXTxCnt, iax.IAXTxAcc:
		return false
	}
	return true
}

// seqBefore compares 8-bit sequence numbers modulo 256.
func seqBefore(a, b uint8) bool { return int8(a-b) < 0 }

// newIEs are the IEs of a call's NEW: what a softphone sends.
func newIEs(index uint32) []byte {
	var b []byte
	b, _ = iax.AppendIE(b, iax.IEVersion, []byte{0, 2})
	b, _ = iax.AppendIE(b, iax.IECalledNumber, strconv.AppendUint(nil, uint64(index), 10))
	b, _ = iax.AppendIE(b, iax.IECallingNumber, []byte("iaxload"))
	b, _ = iax.AppendIE(b, iax.IECallingName, []byte("iaxload"))
	b, _ = iax.AppendIE(b, iax.IEFormat, binary.BigEndian.AppendUint32(nil, formatULaw))
	b, _ = iax.AppendIE(b, iax.IECapability, binary.BigEndian.AppendUint32(nil, formatULaw|formatALaw))
	return b
}

// calledIndex reads the call index a NEW's CALLED NUMBER carries.
func calledIndex(ies []byte) (uint32, bool) {
	d, ok, err := iax.FindIE(ies, iax.IECalledNumber)
	if err != nil || !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d), 10, 32)
	return uint32(n), err == nil
}

var (
	acceptIEs = func() []byte {
		b, _ := iax.AppendIE(nil, iax.IEFormat, binary.BigEndian.AppendUint32(nil, formatULaw))
		return b
	}()
	hangupIEs = func() []byte {
		b, _ := iax.AppendIE(nil, iax.IECause, []byte("Normal Clearing"))
		b, _ = iax.AppendIE(b, iax.IECauseCode, []byte{causeNormal})
		return b
	}()
)

// trunkHeader appends a meta trunk frame's header with the T bit set
// (entries carry their own timestamps), as Asterisk sends with
// trunktimestamps=yes.
func trunkHeader(dst []byte, ts uint32) []byte {
	h := iax.TrunkFrame{CmdData: 1, Timestamp: ts}
	return h.AppendTo(dst)
}
