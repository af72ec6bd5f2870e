package crypt

// SAS is the short authentication string: 32 bits derived from the
// handshake hash, identical on both sides of an unattacked call. It is
// rendered as ZRTP renders its SAS (RFC 6189 section 5.1.6) so people used
// to ZRTP phones read it the same way.
type SAS [4]byte

// zbase32 is the z-base-32 alphabet (RFC 6189 section 5.1.6).
const zbase32 = "ybndrfg8ejkmcpqxot1uwisza345h769"

// Base32 renders the leftmost 20 bits as 4 z-base-32 characters, like
// ZRTP's "B32" SAS.
func (s SAS) Base32() string {
	v := uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
	var b [4]byte
	for i := range b {
		b[i] = zbase32[(v>>(27-5*i))&31]
	}
	return string(b[:])
}

// Words renders the leftmost 16 bits as two PGP words, like ZRTP's "B256"
// SAS: the even-list word for byte 0, then the odd-list word for byte 1.
func (s SAS) Words() string {
	return pgpEven[s[0]] + " " + pgpOdd[s[1]]
}

// String renders both forms, base32 first: "ybnd (aardvark adroitness)".
// The two are different views of the same bits; people compare either one.
func (s SAS) String() string {
	return s.Base32() + " (" + s.Words() + ")"
}
