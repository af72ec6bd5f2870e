package crypt

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// trunkEntry is a 160-byte G.711 trunk entry of call call.
func trunkEntry(call uint16) iax.TrunkEntry {
	return iax.TrunkEntry{SrcCall: call, Timestamp: 0x1234 + call, Data: bytes.Repeat([]byte{byte(call)}, 160)}
}

// trunkCalls sets up n confirmed calls between host A (callers, call
// numbers 100+i) and host B (callees, 200+i), the callee's sessions
// sending. It returns B's sending sessions and A's receiving ones, indexed
// like the calls.
func trunkCalls(t testing.TB, n int) (send, recv []*Session) {
	t.Helper()
	for range n {
		is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
		send, recv = append(send, rs), append(recv, is)
	}
	return send, recv
}

// clearTrunk builds the cleartext trunk frame an application would send.
func clearTrunk(cmd uint8, ts uint32, entries []iax.TrunkEntry) []byte {
	tf := iax.TrunkFrame{CmdData: cmd, Timestamp: ts}
	b := tf.AppendTo(nil)
	for _, e := range entries {
		b = iax.AppendTrunkEntry(b, cmd&1 != 0, e)
	}
	return b
}

// sealTrunk seals a cleartext trunk frame: the entry of call 200+i with
// send[i], for the peer's call 100+i.
func sealTrunk(t testing.TB, b *TrunkBuilder, dst, frame []byte, send []*Session) []byte {
	t.Helper()
	tf, err := iax.ParseTrunk(frame)
	if err != nil {
		t.Fatalf("ParseTrunk: %v", err)
	}
	b.Start(dst, tf.CmdData, tf.Timestamp)
	var aerr error
	if err := tf.Range(func(e iax.TrunkEntry) bool {
		i := int(e.SrcCall) - 200
		aerr = b.Add(send[i], uint16(100+i), e)
		return aerr == nil
	}); err != nil || aerr != nil {
		t.Fatalf("Range/Add: %v, %v", err, aerr)
	}
	return b.Packet()
}

// openTrunk rebuilds the cleartext trunk frame from pkt with recv, and
// returns it with the errors of the entries that did not open.
func openTrunk(t testing.TB, dst, pkt []byte, recv []*Session) ([]byte, []error) {
	t.Helper()
	r, err := ReadTrunk(pkt)
	if err != nil {
		t.Fatalf("ReadTrunk: %v", err)
	}
	out := r.AppendHeader(dst)
	var errs []error
	for r.Next() {
		e := r.Entry()
		i := int(e.SenderCall) - 200
		if i < 0 || i >= len(recv) {
			errs = append(errs, fmt.Errorf("unknown call %d", e.SenderCall))
			continue
		}
		var oerr error
		if out, _, oerr = recv[i].OpenTrunkEntry(out, e, uint16(100+i)); oerr != nil {
			errs = append(errs, oerr)
		}
	}
	if r.Err() != nil {
		errs = append(errs, r.Err())
	}
	return out, errs
}

// TestTrunkRoundTrip: the receiver rebuilds the application's trunk frame
// byte for byte, with and without trunk timestamps, R bits and empty
// entries included.
func TestTrunkRoundTrip(t *testing.T) {
	send, recv := trunkCalls(t, 4)
	var b TrunkBuilder
	for _, cmd := range []uint8{0x00, 0x01} {
		entries := []iax.TrunkEntry{trunkEntry(200), trunkEntry(201), trunkEntry(202), trunkEntry(203)}
		entries[1].Retransmit = true
		entries[2].Data = nil
		entries[3].Data = entries[3].Data[:33]
		frame := clearTrunk(cmd, 0xdeadbeef, entries)
		pkt := sealTrunk(t, &b, nil, frame, send)
		if b.Entries() != 4 || !IsEncryptedTrunk(pkt) || IsEncryptedFrame(pkt) {
			t.Fatalf("cmd %#x: %d entries, IsEncryptedTrunk %v", cmd, b.Entries(), IsEncryptedTrunk(pkt))
		}
		if want := len(frame) + 1 + 4*TrunkEntryOverhead; len(pkt) != want {
			t.Fatalf("cmd %#x: packet of %d bytes, want %d", cmd, len(pkt), want)
		}
		r, _ := ReadTrunk(pkt)
		if r.CmdData() != cmd || r.Timestamp() != 0xdeadbeef {
			t.Fatalf("reader header %#x %#x", r.CmdData(), r.Timestamp())
		}
		got, errs := openTrunk(t, nil, pkt, recv)
		if errs != nil || !bytes.Equal(got, frame) {
			t.Fatalf("cmd %#x: rebuilt % x, errors %v\nwant % x", cmd, got, errs, frame)
		}
	}
}

// TestTrunkOverhead measures the issue 6 target: with 160-byte G.711
// entries the encrypted trunk frame is at most 1.2 times the cleartext one.
func TestTrunkOverhead(t *testing.T) {
	for _, n := range []int{1, 10, 100} {
		send, _ := trunkCalls(t, n)
		for _, cmd := range []uint8{0, 1} {
			var entries []iax.TrunkEntry
			for i := range n {
				entries = append(entries, trunkEntry(uint16(200+i)))
			}
			frame := clearTrunk(cmd, 1, entries)
			var b TrunkBuilder
			pkt := sealTrunk(t, &b, nil, frame, send)
			ratio := float64(len(pkt)) / float64(len(frame))
			t.Logf("%3d entries, timestamps %v: cleartext %5d bytes, encrypted %5d bytes, ratio %.3f", n, cmd == 1, len(frame), len(pkt), ratio)
			if ratio > 1.2 {
				t.Errorf("%d entries: ratio %.3f > 1.2", n, ratio)
			}
		}
	}
}

// TestTrunkLossReorder: each entry has its own call's counter, so packets
// lost, reordered or replayed affect each call as frames would.
func TestTrunkLossReorder(t *testing.T) {
	send, recv := trunkCalls(t, 2)
	var b TrunkBuilder
	var pkts [][]byte
	for i := range 4 {
		frame := clearTrunk(1, uint32(i), []iax.TrunkEntry{trunkEntry(200), trunkEntry(201)})
		pkts = append(pkts, slices.Clone(sealTrunk(t, &b, nil, frame, send)))
	}
	for _, step := range []struct {
		pkt  int
		want error
	}{{3, nil}, {1, nil}, {0, nil}, {1, ErrReplayed}, {3, ErrReplayed}} { // 2 is lost
		_, errs := openTrunk(t, nil, pkts[step.pkt], recv)
		for _, err := range errs {
			if !errors.Is(err, step.want) {
				t.Fatalf("packet %d: %v, want %v", step.pkt, err, step.want)
			}
		}
		if step.want != nil && len(errs) != 2 {
			t.Fatalf("packet %d: %d errors, want 2", step.pkt, len(errs))
		}
	}
}

// TestTrunkCounterWrap: the 16 low bits of the counter on the wire are
// expanded against the replay window across the 2^16 boundary, in order
// and out of order.
func TestTrunkCounterWrap(t *testing.T) {
	send, recv := trunkCalls(t, 1)
	send[0].send.counter = 0x2fffd
	recv[0].recv.window.Accept(0x2fffc)
	var b TrunkBuilder
	var pkts [][]byte
	for i := range 5 { // counters 0x2fffd .. 0x30001
		pkts = append(pkts, slices.Clone(sealTrunk(t, &b, nil, clearTrunk(0, uint32(i), []iax.TrunkEntry{trunkEntry(200)}), send)))
	}
	for _, i := range []int{0, 4, 1, 3, 2} {
		if _, errs := openTrunk(t, nil, pkts[i], recv); errs != nil {
			t.Fatalf("packet %d: %v", i, errs)
		}
	}
	if recv[0].recv.window.last != 0x30001 {
		t.Fatalf("window at %#x, want 0x30001", recv[0].recv.window.last)
	}
}

func TestExpandCounter(t *testing.T) {
	tests := []struct {
		last uint64
		low  uint16
		want uint64
	}{
		{0, 0, 0},
		{0, 5, 5},
		{0, 0xffff, 0xffff}, // nothing below 0
		{10, 0x8009, 0x8009},
		{0x10005, 0xfff0, 0xfff0},
		{0x1fff0, 0x0003, 0x20003},
		{0x20003, 0xfff0, 0x1fff0},
		{0x20000, 0x8000, 0x28000},
		{0x20000, 0x8001, 0x18001},
		{^uint64(0) - 5, 0xffff, ^uint64(0)}, // the window refuses it
		{^uint64(0) - 5, 0x0001, ^uint64(0) - 0xfffe},
	}
	for _, tt := range tests {
		if got := expandCounter(tt.last, tt.low); got != tt.want {
			t.Errorf("expandCounter(%#x, %#x) = %#x, want %#x", tt.last, tt.low, got, tt.want)
		}
	}
}

// TestTrunkTamper flips every byte of an encrypted trunk frame: no entry
// may open; header bytes give the reader's errors.
func TestTrunkTamper(t *testing.T) {
	send, recv := trunkCalls(t, 2)
	var b TrunkBuilder
	frame := clearTrunk(1, 42, []iax.TrunkEntry{trunkEntry(200), trunkEntry(201)})
	pkt := slices.Clone(sealTrunk(t, &b, nil, frame, send))
	for i := range pkt {
		bad := slices.Clone(pkt)
		bad[i] ^= 0x01
		r, err := ReadTrunk(bad)
		switch {
		case i < 3:
			if !errors.Is(err, ErrNotEncrypted) {
				t.Fatalf("byte %d: %v", i, err)
			}
			continue
		case i == 3:
			if !errors.Is(err, ErrVersion) {
				t.Fatalf("byte %d: %v", i, err)
			}
			continue
		}
		// Untouched entries open; forget them so each round starts alike.
		recv[0].recv.window.Reset()
		recv[1].recv.window.Reset()
		opened := 0
		for r.Next() {
			e := r.Entry()
			j := int(e.SenderCall) - 200
			if j < 0 || j > 1 {
				continue
			}
			if _, _, err := recv[j].OpenTrunkEntry(nil, e, uint16(100+j)); err == nil {
				opened++
			} else if !errors.Is(err, ErrAuthentication) {
				t.Fatalf("byte %d: %v, want ErrAuthentication", i, err)
			}
		}
		// The entry whose bytes were not touched still opens, unless the
		// change is in the shared header that every entry authenticates.
		if i < TrunkHeaderLen && opened != 0 {
			t.Fatalf("byte %d of the header: %d entries opened", i, opened)
		}
		if opened > 1 {
			t.Fatalf("byte %d: %d entries opened", i, opened)
		}
	}
	recv[0].recv.window.Reset()
	recv[1].recv.window.Reset()
	if got, errs := openTrunk(t, nil, pkt, recv); errs != nil || !bytes.Equal(got, frame) {
		t.Fatalf("genuine packet after forgeries: %v", errs)
	}
}

// TestTrunkSplice: an entry moved into another trunk frame (another
// timestamp) or opened for another receiver call does not authenticate.
func TestTrunkSplice(t *testing.T) {
	send, recv := trunkCalls(t, 2)
	var b TrunkBuilder
	p1 := slices.Clone(sealTrunk(t, &b, nil, clearTrunk(0, 1, []iax.TrunkEntry{trunkEntry(200)}), send))
	p2 := slices.Clone(sealTrunk(t, &b, nil, clearTrunk(0, 2, []iax.TrunkEntry{trunkEntry(200)}), send))
	spliced := append(slices.Clone(p2[:TrunkHeaderLen]), p1[TrunkHeaderLen:]...)
	if _, errs := openTrunk(t, nil, spliced, recv); len(errs) != 1 || !errors.Is(errs[0], ErrAuthentication) {
		t.Fatalf("spliced entry: %v", errs)
	}
	r, _ := ReadTrunk(p1)
	r.Next()
	if _, _, err := recv[0].OpenTrunkEntry(nil, r.Entry(), 999); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("wrong receiver call: %v", err)
	}
	if _, _, err := recv[1].OpenTrunkEntry(nil, r.Entry(), 100); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("another call's session: %v", err)
	}
	if _, errs := openTrunk(t, nil, p1, recv); errs != nil {
		t.Fatalf("genuine: %v", errs)
	}
}

// TestTrunkConfirmation: a caller still confirming cannot trunk (its
// entries go as frames, which carry the confirmation); a callee opens no
// trunk entry before the confirmation checked; the callee's trunk entries
// carry the acknowledgement.
func TestTrunkConfirmation(t *testing.T) {
	is, rs := handshake(t, DefaultCiphers(), DefaultCiphers())
	var b TrunkBuilder
	b.Start(nil, 0, 0)
	if err := b.Add(is, 2, trunkEntry(1)); !errors.Is(err, ErrConfirming) {
		t.Fatalf("Add for a confirming caller: %v, want ErrConfirming", err)
	}
	if b.Entries() != 0 || len(b.Packet()) != TrunkHeaderLen {
		t.Fatalf("failed Add changed the packet")
	}
	// The callee may trunk before it is confirmed (flags 0).
	b.Start(nil, 0, 0)
	if err := b.Add(rs, 1, trunkEntry(2)); err != nil {
		t.Fatalf("callee Add: %v", err)
	}
	r, _ := ReadTrunk(b.Packet())
	r.Next()
	if _, now, err := is.OpenTrunkEntry(nil, r.Entry(), 1); err != nil || now {
		t.Fatalf("caller opens the unconfirmed callee's entry: %v, now %v", err, now)
	}
	// A trunk entry reaching the unconfirmed callee is refused and fails
	// the session (an honest caller never sends one).
	is.peerConfirmed.Store(true) // a caller that skips its confirmation
	b.Start(nil, 0, 0)
	if err := b.Add(is, 2, trunkEntry(1)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	r, _ = ReadTrunk(b.Packet())
	r.Next()
	if _, _, err := rs.OpenTrunkEntry(nil, r.Entry(), 2); !errors.Is(err, ErrConfirmation) {
		t.Fatalf("callee opens a trunk entry before the confirmation: %v, want ErrConfirmation", err)
	}
	if err := b.Add(rs, 1, trunkEntry(2)); !errors.Is(err, ErrConfirmation) {
		t.Fatalf("failed callee Add: %v, want ErrConfirmation", err)
	}

	// Confirmed: the callee's first trunk entry acknowledges.
	is, rs = handshake(t, DefaultCiphers(), DefaultCiphers())
	pkt, _ := is.Seal(nil, miniFrame(), 1, 2)
	if _, now, err := rs.Open(nil, pkt); err != nil || !now {
		t.Fatalf("confirmation: %v", err)
	}
	b.Start(nil, 1, 0)
	if err := b.Add(rs, 1, trunkEntry(2)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	r, _ = ReadTrunk(b.Packet())
	r.Next()
	if _, now, err := is.OpenTrunkEntry(nil, r.Entry(), 1); err != nil || !now || is.Confirming() {
		t.Fatalf("caller: %v, confirmedNow %v, confirming %v", err, now, is.Confirming())
	}
	// A trunk entry may not carry a confirmation.
	b.Start(nil, 0, 0)
	pt := append([]byte{flagConfirmation}, make([]byte, ConfirmationLen+4)...)
	b.addRaw(t, is, 2, 1, pt)
	r, _ = ReadTrunk(b.Packet())
	r.Next()
	if _, _, err := rs.OpenTrunkEntry(nil, r.Entry(), 2); !errors.Is(err, ErrFlags) {
		t.Fatalf("confirmation in a trunk entry: %v, want ErrFlags", err)
	}
}

// addRaw seals an arbitrary entry plaintext, as a peer with its own ideas.
func (b *TrunkBuilder) addRaw(t testing.TB, s *Session, remoteCall, srcCall uint16, pt []byte) {
	t.Helper()
	ctr, _ := s.send.next()
	n := len(b.buf)
	b.buf = append(b.buf, byte(srcCall>>8), byte(srcCall), byte(ctr>>8), byte(ctr))
	b.buf = append(b.buf, byte((len(pt)+tagLen)>>8), byte(len(pt)+tagLen))
	ad := slices.Concat(b.buf[b.start:b.start+TrunkHeaderLen], []byte{byte(remoteCall >> 8), byte(remoteCall)}, b.buf[n:])
	b.buf = s.send.aead.Seal(b.buf, s.send.nonce[:], pt, ad)
}

func TestTrunkErrors(t *testing.T) {
	send, recv := trunkCalls(t, 1)
	var b TrunkBuilder
	b.Start(nil, 0, 0)
	big := iax.TrunkEntry{SrcCall: 200, Data: make([]byte, 0xffff-tagLen)}
	if err := b.Add(send[0], 100, big); !errors.Is(err, ErrTooLong) {
		t.Fatalf("too long: %v", err)
	}
	big.Data = big.Data[:0xffff-tagLen-flagsLen]
	if err := b.Add(send[0], 100, big); err != nil {
		t.Fatalf("longest entry: %v", err)
	}
	for name, tt := range map[string]struct {
		in   []byte
		want error
	}{
		"empty":         {nil, ErrNotEncrypted},
		"clear trunk":   {[]byte{0, 0, 1, 0, 0, 0, 0, 0}, ErrNotEncrypted},
		"frame":         {[]byte{0, 0, MetaCommand, 2, 0, 0, 0, 0, 0}, ErrNotEncrypted},
		"3 bytes":       {[]byte{0, 0, TrunkMetaCommand}, ErrTooShort},
		"v1":            {[]byte{0, 0, TrunkMetaCommand, 1, 0, 0, 0, 0, 0}, ErrOldVersion},
		"v3":            {[]byte{0, 0, TrunkMetaCommand, 3, 0, 0, 0, 0, 0}, ErrVersion},
		"short header":  {[]byte{0, 0, TrunkMetaCommand, 2, 0, 0, 0, 0}, ErrTooShort},
		"header only":   {[]byte{0, 0, TrunkMetaCommand, 2, 0, 0, 0, 0, 0}, nil},
		"short entry":   {[]byte{0, 0, TrunkMetaCommand, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, ErrTooShort},
		"entry too big": {[]byte{0, 0, TrunkMetaCommand, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 1}, ErrTooShort},
		"entry < tag":   {append([]byte{0, 0, TrunkMetaCommand, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 16}, make([]byte, 16)...), ErrTooShort},
		"ts entry < 19": {append([]byte{0, 0, TrunkMetaCommand, 2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 18}, make([]byte, 18)...), ErrTooShort},
	} {
		r, err := ReadTrunk(tt.in)
		if err == nil {
			for r.Next() {
				t.Fatalf("%s: an entry", name)
			}
			err = r.Err()
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	if _, _, err := recv[0].OpenTrunkEntry(nil, SealedEntry{}, 100); !errors.Is(err, ErrTooShort) {
		t.Fatalf("zero entry: %v", err)
	}
	b.Start(nil, 0, 0)
	_ = b.Add(send[0], 100, trunkEntry(200))
	r, _ := ReadTrunk(b.Packet())
	r.Next()
	recv[0].Wipe()
	if _, _, err := recv[0].OpenTrunkEntry(nil, r.Entry(), 100); !errors.Is(err, ErrWiped) {
		t.Fatalf("wiped: %v", err)
	}
	send[0].Wipe()
	if err := b.Add(send[0], 100, trunkEntry(200)); !errors.Is(err, ErrWiped) {
		t.Fatalf("wiped Add: %v", err)
	}
}

// TestTrunkAllocs: building, reading and opening an encrypted trunk frame
// allocate nothing once the buffers exist.
func TestTrunkAllocs(t *testing.T) {
	send, recv := trunkCalls(t, 10)
	var entries []iax.TrunkEntry
	for i := range 10 {
		entries = append(entries, trunkEntry(uint16(200+i)))
	}
	frame := clearTrunk(1, 7, entries)
	tf, _ := iax.ParseTrunk(frame)
	var b TrunkBuilder
	pkt := make([]byte, 0, 4096)
	out := make([]byte, 0, 4096)
	var err error
	if n := testing.AllocsPerRun(50, func() {
		b.Start(pkt[:0], tf.CmdData, tf.Timestamp)
		_ = tf.Range(func(e iax.TrunkEntry) bool {
			i := e.SrcCall - 200
			err = b.Add(send[i], 100+i, e)
			return err == nil
		})
		r, _ := ReadTrunk(b.Packet())
		out = r.AppendHeader(out[:0])
		for r.Next() {
			e := r.Entry()
			i := e.SenderCall - 200
			if out, _, err = recv[i].OpenTrunkEntry(out, e, 100+i); err != nil {
				return
			}
		}
	}); n != 0 || err != nil || !bytes.Equal(out, frame) {
		t.Fatalf("trunk build+read+open allocs %v, err %v, equal %v", n, err, bytes.Equal(out, frame))
	}
}
