package crypt

import (
	"encoding/binary"
	"slices"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// The encrypted trunk frame (docs/protocol.md, "Encrypted trunk frame")
// carries the trunk entries of several encrypted calls between two iaxcrypt
// hosts in one packet. Each entry is sealed by its own call's session with
// its own counter, so replay windows, loss and reordering work per call.
//
//	| 0 (16) | 0x46 | version | trunk cmd data | trunk timestamp (32) |
//	entries: | R|sender call (16) | counter low 16 bits | sealed length (16) | sealed entry |
//
// The sealed entry's plaintext is the flags byte, the entry's 16-bit
// timestamp when the trunk has them (the T bit of the command data), then
// the entry's data. Its additional data is the packet header, the receiver's
// call number (not sent) and the entry header.
const (
	// TrunkHeaderLen is the encrypted trunk frame's header.
	TrunkHeaderLen = 9
	// TrunkEntryHeaderLen is the clear header of each sealed entry.
	TrunkEntryHeaderLen = 6
	// TrunkEntryOverhead is what sealing adds to an entry of a cleartext
	// trunk frame without trunk timestamps (4-byte entry header): 6-byte
	// header, flags byte, tag, less the 4 bytes of the clear header. With
	// trunk timestamps (6-byte entry header, the timestamp moves inside
	// the seal) it is the same.
	TrunkEntryOverhead = TrunkEntryHeaderLen + flagsLen + tagLen - 4

	trunkADLen          = TrunkHeaderLen + 2 + TrunkEntryHeaderLen
	trunkTimestampsFlag = 0x01 // the T bit of the trunk command data
	clearTrunkCommand   = 0x01 // RFC 5456 meta trunk command
)

// IsEncryptedTrunk reports whether b starts like an encrypted trunk frame.
// It does not check the version or the length; ReadTrunk does.
func IsEncryptedTrunk(b []byte) bool {
	return len(b) >= 3 && b[0] == 0 && b[1] == 0 && b[2] == TrunkMetaCommand
}

// TrunkBuilder assembles an encrypted trunk frame from the entries of an
// application's trunk frame. Its zero value is ready; reuse one value for
// every packet, and it allocates nothing once dst has room. It is not safe
// for concurrent use, and Add uses each session's sending side (do not
// Seal on the same session concurrently).
type TrunkBuilder struct {
	buf     []byte
	start   int
	withTS  bool
	entries int
}

// Start begins a packet, appended to dst, for a cleartext trunk frame with
// command data cmdData and timestamp (as iax.ParseTrunk returns them).
func (b *TrunkBuilder) Start(dst []byte, cmdData uint8, timestamp uint32) {
	b.start = len(dst)
	b.withTS = cmdData&trunkTimestampsFlag != 0
	b.entries = 0
	b.buf = append(dst, 0, 0, TrunkMetaCommand, Version, cmdData)
	b.buf = binary.BigEndian.AppendUint32(b.buf, timestamp)
}

// Add seals entry e of the application's trunk frame with s, the session of
// the call whose local call number is e.SrcCall, for the peer's call
// remoteCall. The entry's timestamp is carried when the trunk frame has
// them. It fails with ErrConfirming for a caller's session still sending its
// confirmation (seal that entry as a mini frame with Session.Seal instead),
// ErrTooLong for data that cannot fit, ErrCounterExhausted, ErrWiped or
// ErrConfirmation; the packet is then unchanged.
func (b *TrunkBuilder) Add(s *Session, remoteCall uint16, e iax.TrunkEntry) error {
	if s.failed.Load() {
		return ErrConfirmation
	}
	if s.Confirming() {
		return ErrConfirming
	}
	tsLen := 0
	if b.withTS {
		tsLen = 2
	}
	sealedLen := flagsLen + tsLen + len(e.Data) + tagLen
	if sealedLen > 0xffff {
		return ErrTooLong
	}
	flags, _ := s.outFlags()
	ctr, err := s.send.next()
	if err != nil {
		return err
	}
	n := len(b.buf)
	b.buf = slices.Grow(b.buf, TrunkEntryHeaderLen+sealedLen)
	call := e.SrcCall & 0x7fff
	if e.Retransmit {
		call |= 0x8000
	}
	b.buf = binary.BigEndian.AppendUint16(b.buf, call)
	b.buf = binary.BigEndian.AppendUint16(b.buf, uint16(ctr))
	b.buf = binary.BigEndian.AppendUint16(b.buf, uint16(sealedLen))
	ad := s.send.ad[:0]
	ad = append(ad, b.buf[b.start:b.start+TrunkHeaderLen]...)
	ad = binary.BigEndian.AppendUint16(ad, remoteCall)
	ad = append(ad, b.buf[n:n+TrunkEntryHeaderLen]...)
	pt := n + TrunkEntryHeaderLen
	b.buf = append(b.buf, flags)
	if b.withTS {
		b.buf = binary.BigEndian.AppendUint16(b.buf, e.Timestamp)
	}
	b.buf = append(b.buf, e.Data...)
	b.buf = s.send.aead.Seal(b.buf[:pt], s.send.nonce[:], b.buf[pt:], ad)
	b.entries++
	return nil
}

// Entries returns the number of entries added since Start.
func (b *TrunkBuilder) Entries() int { return b.entries }

// Packet returns dst with the packet appended.
func (b *TrunkBuilder) Packet() []byte { return b.buf }

// TrunkReader walks the entries of a received encrypted trunk frame:
//
//	r, err := crypt.ReadTrunk(pkt)
//	out := r.AppendHeader(buf[:0])
//	for r.Next() {
//		e := r.Entry()
//		// find the call by e.SenderCall, then:
//		out, _, err = session.OpenTrunkEntry(out, e, localCall)
//	}
//	if err := r.Err(); ...
//
// It allocates nothing.
type TrunkReader struct {
	hdr   []byte
	rest  []byte
	entry SealedEntry
	err   error
}

// SealedEntry is one sealed entry of an encrypted trunk frame. Its fields
// are not authenticated until OpenTrunkEntry succeeds.
type SealedEntry struct {
	// SenderCall is the sending call's number (15 bits): the engine finds
	// the session with it.
	SenderCall uint16
	hdr        []byte // the packet's header
	clear      []byte // the entry's header
	sealed     []byte
}

// ReadTrunk checks an encrypted trunk frame's header and returns a reader
// over its entries. It fails with ErrNotEncrypted, ErrOldVersion,
// ErrVersion or ErrTooShort.
func ReadTrunk(pkt []byte) (TrunkReader, error) {
	if !IsEncryptedTrunk(pkt) {
		return TrunkReader{}, ErrNotEncrypted
	}
	if len(pkt) < 4 {
		return TrunkReader{}, ErrTooShort
	}
	switch pkt[3] {
	case Version:
	case versionOne:
		return TrunkReader{}, ErrOldVersion
	default:
		return TrunkReader{}, ErrVersion
	}
	if len(pkt) < TrunkHeaderLen {
		return TrunkReader{}, ErrTooShort
	}
	return TrunkReader{hdr: pkt[:TrunkHeaderLen], rest: pkt[TrunkHeaderLen:]}, nil
}

// CmdData returns the cleartext trunk frame's command data (bit 0: entries
// carry timestamps).
func (r *TrunkReader) CmdData() uint8 { return r.hdr[4] }

// Timestamp returns the cleartext trunk frame's 32-bit timestamp.
func (r *TrunkReader) Timestamp() uint32 { return binary.BigEndian.Uint32(r.hdr[5:]) }

// AppendHeader appends the cleartext trunk frame's 8-byte header (RFC 5456
// section 8.1.4) to dst, to rebuild the frame with OpenTrunkEntry.
func (r *TrunkReader) AppendHeader(dst []byte) []byte {
	dst = append(dst, 0, 0, clearTrunkCommand, r.hdr[4])
	return append(dst, r.hdr[5:TrunkHeaderLen]...)
}

// Next advances to the next entry. It returns false at the end or when an
// entry runs past the end of the packet (Err then says so).
func (r *TrunkReader) Next() bool {
	if r.err != nil || len(r.rest) == 0 {
		return false
	}
	if len(r.rest) < TrunkEntryHeaderLen {
		r.err, r.rest = ErrTooShort, nil
		return false
	}
	n := int(binary.BigEndian.Uint16(r.rest[4:]))
	min := flagsLen + tagLen
	if r.hdr[4]&trunkTimestampsFlag != 0 {
		min += 2
	}
	if n < min || len(r.rest)-TrunkEntryHeaderLen < n {
		r.err, r.rest = ErrTooShort, nil
		return false
	}
	end := TrunkEntryHeaderLen + n
	r.entry = SealedEntry{
		SenderCall: binary.BigEndian.Uint16(r.rest) & 0x7fff,
		hdr:        r.hdr,
		clear:      r.rest[:TrunkEntryHeaderLen],
		sealed:     r.rest[TrunkEntryHeaderLen:end],
	}
	r.rest = r.rest[end:]
	return true
}

// Entry returns the entry Next advanced to.
func (r *TrunkReader) Entry() SealedEntry { return r.entry }

// Err returns ErrTooShort if the walk stopped at a truncated entry.
func (r *TrunkReader) Err() error { return r.err }

// OpenTrunkEntry authenticates and decrypts e, an entry of a trunk frame
// for this session's call whose local call number is localCall, and appends
// it to dst as an entry of the cleartext trunk frame, byte for byte as the
// sender's application wrote it (with its timestamp when the trunk has
// them). The counter is rebuilt from its 16 low bits and the replay window,
// then goes through the window after authentication. confirmedNow is as for
// Open. It does not allocate when dst has room for the entry. On error dst
// is returned unchanged.
func (s *Session) OpenTrunkEntry(dst []byte, e SealedEntry, localCall uint16) (entry []byte, confirmedNow bool, err error) {
	if e.hdr == nil {
		return dst, false, ErrTooShort
	}
	if s.recv.aead == nil {
		return dst, false, ErrWiped
	}
	if s.failed.Load() {
		return dst, false, ErrConfirmation
	}
	ctr := expandCounter(s.recv.window.last, binary.BigEndian.Uint16(e.clear[2:]))
	binary.BigEndian.PutUint64(s.recv.nonce[4:], ctr)
	ad := s.recv.ad[:0]
	ad = append(ad, e.hdr...)
	ad = binary.BigEndian.AppendUint16(ad, localCall)
	ad = append(ad, e.clear...)
	// The plaintext (flags, [timestamp], data) lands 3 bytes in, so that
	// the data ends up right after the cleartext entry header (4 bytes
	// without timestamps, 6 with, the timestamp then already in place).
	n := len(dst)
	out, err := s.recv.aead.Open(append(dst, 0, 0, 0), s.recv.nonce[:], e.sealed, ad)
	if err != nil {
		return dst, false, ErrAuthentication
	}
	if !s.recv.window.Accept(ctr) {
		return dst, false, ErrReplayed
	}
	body, now, err := s.inFlags(out[n+3:], false)
	if err != nil {
		return dst, false, err
	}
	call := e.clear[:2]
	if e.hdr[4]&trunkTimestampsFlag != 0 {
		if len(body) < 2 {
			return dst, false, ErrTooShort
		}
		binary.BigEndian.PutUint16(out[n:], uint16(len(body)-2))
		copy(out[n+2:], call)
	} else {
		copy(out[n:], call)
		binary.BigEndian.PutUint16(out[n+2:], uint16(len(body)))
	}
	return out, now, nil
}

// expandCounter returns the counter whose low 16 bits are low and which is
// nearest to last, the highest counter accepted so far (as SRTP estimates
// its packet index).
func expandCounter(last uint64, low uint16) uint64 {
	c := last&^0xffff | uint64(low)
	switch {
	case c > last && c-last > 0x8000 && c >= 0x10000:
		c -= 0x10000
	case c < last && last-c > 0x8000 && c < ^uint64(0)-0xffff:
		c += 0x10000
	}
	return c
}
