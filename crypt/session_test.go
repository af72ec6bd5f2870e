package crypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
)

// sealRaw seals an arbitrary plaintext (flags byte included) with s's
// sending key, as a peer with the session keys but its own ideas would.
func sealRaw(t testing.TB, s *Session, pt []byte, local, remote uint16) []byte {
	t.Helper()
	ctr, err := s.send.next()
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	hdr := make([]byte, HeaderLen, HeaderLen+len(pt)+tagLen)
	putHeader(hdr, Header{SenderCall: local, ReceiverCall: remote, Counter: ctr})
	return s.send.aead.Seal(hdr, s.send.nonce[:], pt, hdr)
}

func TestSealOpenSizes(t *testing.T) {
	for _, c := range DefaultCiphers() {
		t.Run(c.String(), func(t *testing.T) {
			is, rs := handshake(t, []Cipher{c}, DefaultCiphers())
			for n := MinFrameLen; n <= 1500; n += 7 {
				f := make([]byte, n)
				rand.Read(f)
				over := Overhead
				if is.Confirming() {
					over = MaxOverhead
				}
				pkt, err := is.Seal(nil, f, 5, 6)
				if err != nil {
					t.Fatalf("Seal %d bytes: %v", n, err)
				}
				if len(pkt) != n+over {
					t.Fatalf("sealed %d bytes into %d, want %d", n, len(pkt), n+over)
				}
				h, err := ParseHeader(pkt)
				if want := (Header{SenderCall: 5, ReceiverCall: 6, Counter: is.Counter() - 1}); h != want || err != nil {
					t.Fatalf("header %+v, %v; want %+v", h, err, want)
				}
				got, _, err := rs.Open(nil, pkt)
				if err != nil || !bytes.Equal(got, f) {
					t.Fatalf("Open %d bytes: %v", n, err)
				}
				back, err := rs.Seal(nil, f, 6, 5)
				if err != nil {
					t.Fatalf("callee Seal: %v", err)
				}
				if got, _, err := is.Open(nil, back); err != nil || !bytes.Equal(got, f) {
					t.Fatalf("caller Open %d bytes: %v", n, err)
				}
			}
			if is.Confirming() {
				t.Fatalf("caller still confirming after the exchange")
			}
		})
	}
}

func TestSealLayout(t *testing.T) {
	is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
	prefix := []byte("keep")
	pkt, err := is.Seal(slices.Clone(prefix), miniFrame(), 0x7fff, 0xffff)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if !bytes.HasPrefix(pkt, prefix) {
		t.Fatalf("Seal did not append to dst")
	}
	want := []byte{0, 0, 0x45, 2, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1}
	if !bytes.Equal(pkt[4:4+HeaderLen], want) {
		t.Fatalf("header % x, want % x", pkt[4:4+HeaderLen], want)
	}
	if len(pkt)-4 != len(miniFrame())+Overhead {
		t.Fatalf("confirmed frame of %d bytes, want %d", len(pkt)-4, len(miniFrame())+Overhead)
	}
	if !IsEncryptedFrame(pkt[4:]) || IsEncryptedFrame(miniFrame()) {
		t.Fatalf("IsEncryptedFrame wrong")
	}
	if _, err := is.Seal(nil, []byte{1, 2, 3}, 1, 2); !errors.Is(err, ErrTooShort) {
		t.Fatalf("3-byte frame: %v", err)
	}
	if _, err := is.Seal(nil, miniFrame(), 0x8000, 2); !errors.Is(err, ErrCallNumber) {
		t.Fatalf("sender call with high bit: %v", err)
	}
	// The callee marks every frame once confirmed.
	pkt, _ = rs.Seal(nil, miniFrame(), 2, 1)
	pt, _ := is.recv.aead.Open(nil, append(make([]byte, 4), pkt[8:16]...), pkt[HeaderLen:], pkt[:HeaderLen])
	if pt[0] != flagConfirmed {
		t.Fatalf("callee's flags %#x, want confirmed", pt[0])
	}
}

func TestSealInPlace(t *testing.T) {
	for _, confirmed := range []bool{false, true} {
		is, rs := handshake(t, DefaultCiphers(), DefaultCiphers())
		if confirmed {
			confirm(t, is, rs)
		}
		f := miniFrame()
		for _, at := range []int{0, HeaderLen, Overhead - tagLen, MaxOverhead - tagLen, 200} {
			buf := make([]byte, 400)
			copy(buf[at:], f)
			pkt, err := is.Seal(buf[:0], buf[at:at+len(f)], 1, 2)
			if err != nil || &pkt[0] != &buf[0] {
				t.Fatalf("Seal in place (frame at %d): %v, moved=%v", at, err, &pkt[0] != &buf[0])
			}
			got, _, err := rs.Open(pkt[HeaderLen:HeaderLen], pkt)
			if err != nil || !bytes.Equal(got, f) {
				t.Fatalf("Open in place (frame at %d, confirmed %v): %v", at, confirmed, err)
			}
		}
	}
}

// TestTamperPacket flips each bit position of every byte of a sealed frame;
// each must fail authentication (or be rejected earlier as not encrypted),
// and must not move the replay window.
func TestTamperPacket(t *testing.T) {
	for _, c := range DefaultCiphers() {
		is, rs := pair(t, []Cipher{c}, DefaultCiphers())
		pkt, _ := is.Seal(nil, miniFrame(), 1, 2)
		for i := range pkt {
			bad := slices.Clone(pkt)
			bad[i] ^= 0x01
			_, _, err := rs.Open(nil, bad)
			var want error
			switch {
			case i < 3:
				want = ErrNotEncrypted
			case i == 3:
				want = ErrVersion
			default:
				want = ErrAuthentication
			}
			if !errors.Is(err, want) {
				t.Fatalf("%v byte %d: %v, want %v", c, i, err, want)
			}
		}
		if _, _, err := rs.Open(nil, pkt); err != nil {
			t.Fatalf("%v: genuine packet after forgeries: %v", c, err)
		}
	}
}

func TestOpenReplay(t *testing.T) {
	is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
	f := miniFrame()
	var pkts [][]byte
	for range ReplayWindowSize + 10 {
		p, err := is.Seal(nil, f, 1, 2)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		pkts = append(pkts, p)
	}
	open := func(i int) error {
		_, _, err := rs.Open(nil, pkts[i])
		return err
	}
	// pkts[i] carries counter i+1 (counter 0 was the confirmation).
	steps := []struct {
		i    int
		want error
	}{
		{5, nil},
		{5, ErrReplayed},
		{3, nil}, // reordered, inside the window
		{4, nil},
		{3, ErrReplayed},
		{ReplayWindowSize + 9, nil},
		{9, nil},         // exactly ReplayWindowSize behind: the edge
		{8, ErrReplayed}, // one past it: too old
		{0, ErrReplayed},
		{ReplayWindowSize + 9, ErrReplayed},
		{ReplayWindowSize + 8, nil},
	}
	for n, s := range steps {
		if err := open(s.i); !errors.Is(err, s.want) {
			t.Fatalf("step %d: Open(packet %d) = %v, want %v", n, s.i, err, s.want)
		}
	}
}

func TestCounterExhausted(t *testing.T) {
	tests := []struct {
		cipher Cipher
		last   uint64 // the last counter that may be used
	}{
		{CipherChaCha20Poly1305, ^uint64(0) - 1},
		{CipherAES256GCM, counterLimitAESGCM - 1},
	}
	for _, tt := range tests {
		is, rs := pair(t, []Cipher{tt.cipher}, DefaultCiphers())
		is.send.counter = tt.last
		pkt, err := is.Seal(nil, miniFrame(), 1, 2)
		if err != nil {
			t.Fatalf("%v: Seal at %d: %v", tt.cipher, tt.last, err)
		}
		if _, _, err := rs.Open(nil, pkt); err != nil {
			t.Fatalf("%v: Open at %d: %v", tt.cipher, tt.last, err)
		}
		if _, err := is.Seal(nil, miniFrame(), 1, 2); !errors.Is(err, ErrCounterExhausted) {
			t.Fatalf("%v: Seal past %d: %v, want ErrCounterExhausted", tt.cipher, tt.last, err)
		}
		var b TrunkBuilder
		b.Start(nil, 0, 0)
		if err := b.Add(is, 2, trunkEntry(1)); !errors.Is(err, ErrCounterExhausted) {
			t.Fatalf("%v: trunk Add past %d: %v, want ErrCounterExhausted", tt.cipher, tt.last, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	good := append([]byte{0, 0, 0x45, 2, 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4, 5, 6, 7, 8}, make([]byte, 21)...)
	mod := func(i int, v byte) []byte { b := slices.Clone(good); b[i] = v; return b }
	tests := []struct {
		name string
		in   []byte
		want Header
		err  error
	}{
		{"good", good, Header{0x1234, 0x5678, 0x0102030405060708}, nil},
		{"empty", nil, Header{}, ErrNotEncrypted},
		{"full frame", mod(0, 0x80), Header{}, ErrNotEncrypted},
		{"trunk", mod(2, 1), Header{}, ErrNotEncrypted},
		{"encrypted trunk", mod(2, TrunkMetaCommand), Header{}, ErrNotEncrypted},
		{"version 1", mod(3, 1), Header{}, ErrOldVersion},
		{"version 3", mod(3, 3), Header{}, ErrVersion},
		{"only 3 bytes", good[:3], Header{}, ErrVersion},
		{"one short", good[:MinPacketLen-1], Header{}, ErrTooShort},
		{"sender high bit", mod(4, 0x92), Header{}, ErrCallNumber},
	}
	for _, tt := range tests {
		h, err := ParseHeader(tt.in)
		if h != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s: ParseHeader = %+v, %v; want %+v, %v", tt.name, h, err, tt.want, tt.err)
		}
	}
}

// TestOpenFlags: authentic frames with flags the receiver's role does not
// accept are dropped with ErrFlags and leave the session usable.
func TestOpenFlags(t *testing.T) {
	is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
	f := miniFrame()
	tests := []struct {
		name     string
		from, to *Session
		flags    byte
		want     error
	}{
		{"unknown flag to callee", is, rs, 0x04, ErrFlags},
		{"high flag to caller", rs, is, 0x80, ErrFlags},
		{"confirmation to caller", rs, is, flagConfirmation, ErrFlags},
		{"confirmed to callee", is, rs, flagConfirmed, ErrFlags},
		{"no flags to callee", is, rs, 0, nil},
		{"no flags to caller", rs, is, 0, nil},
	}
	for _, tt := range tests {
		pt := append([]byte{tt.flags}, f...)
		if tt.flags == flagConfirmation {
			pt = append([]byte{tt.flags}, append(make([]byte, ConfirmationLen), f...)...)
		}
		pkt := sealRaw(t, tt.from, pt, 1, 2)
		if _, now, err := tt.to.Open(nil, pkt); !errors.Is(err, tt.want) || now {
			t.Errorf("%s: Open = %v, confirmedNow %v; want %v", tt.name, err, now, tt.want)
		}
	}
	exchange(t, is, rs, 1, 2)
	// An authentic plaintext with a flags byte but less than a mini frame.
	if _, _, err := rs.Open(nil, sealRaw(t, is, []byte{0, 1, 2, 3}, 1, 2)); !errors.Is(err, ErrTooShort) {
		t.Errorf("3-byte frame: %v, want ErrTooShort", err)
	}
}

func TestSealOpenAllocs(t *testing.T) {
	for _, c := range DefaultCiphers() {
		is, rs := pair(t, []Cipher{c}, DefaultCiphers())
		f := miniFrame()
		pkt := make([]byte, 0, len(f)+MaxOverhead)
		out := make([]byte, 0, len(f)+MaxOverhead)
		var err error
		if n := testing.AllocsPerRun(100, func() {
			pkt, err = is.Seal(pkt[:0], f, 1, 2)
		}); n != 0 || err != nil {
			t.Fatalf("%v: Seal allocs %v, err %v", c, n, err)
		}
		if n := testing.AllocsPerRun(100, func() {
			p, _ := is.Seal(pkt[:0], f, 1, 2)
			out, _, err = rs.Open(out[:0], p)
		}); n != 0 || err != nil {
			t.Fatalf("%v: Seal+Open allocs %v, err %v", c, n, err)
		}
		// The failure paths must not allocate either: a flood of forgeries
		// or replays costs no garbage.
		bad := slices.Clone(pkt)
		bad[20] ^= 1
		if n := testing.AllocsPerRun(100, func() {
			_, _, err = rs.Open(out[:0], bad)
		}); n != 0 || !errors.Is(err, ErrAuthentication) {
			t.Fatalf("%v: forged Open allocs %v, err %v", c, n, err)
		}
		if n := testing.AllocsPerRun(100, func() {
			_, _, err = rs.Open(out[:0], pkt)
		}); n != 0 || !errors.Is(err, ErrReplayed) {
			t.Fatalf("%v: replayed Open allocs %v, err %v", c, n, err)
		}
	}
	// While confirming too (the caller's Seal with the confirmation).
	is, _ := handshake(t, DefaultCiphers(), DefaultCiphers())
	pkt := make([]byte, 0, 200+MaxOverhead)
	f := miniFrame()
	if n := testing.AllocsPerRun(100, func() { pkt, _ = is.Seal(pkt[:0], f, 1, 2) }); n != 0 || !is.Confirming() {
		t.Fatalf("confirming Seal allocs %v", n)
	}
}

// TestSealOpenConcurrent: Seal and Open of one session may run at the same
// time (one goroutine each), also while the confirmation state changes
// under them. Run with -race.
func TestSealOpenConcurrent(t *testing.T) {
	is, rs := handshake(t, DefaultCiphers(), DefaultCiphers())
	f := miniFrame()
	first, _ := is.Seal(nil, f, 1, 2)
	if _, _, err := rs.Open(nil, first); err != nil {
		t.Fatalf("confirmation: %v", err)
	}
	var fromCallee [][]byte
	for range 200 {
		p, _ := rs.Seal(nil, f, 2, 1)
		fromCallee = append(fromCallee, p)
	}
	toCallee := make(chan []byte, 400)
	done := make(chan error, 1)
	go func() {
		defer close(toCallee)
		dst := make([]byte, 0, len(f)+MaxOverhead)
		for range 400 {
			p, err := is.Seal(dst[:0], f, 1, 2)
			if err != nil {
				done <- err
				return
			}
			toCallee <- slices.Clone(p)
		}
		done <- nil
	}()
	out := make([]byte, 0, 400)
	for _, p := range fromCallee {
		var err error
		if out, _, err = is.Open(out[:0], p); err != nil || !bytes.Equal(out, f) {
			t.Fatalf("caller Open: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("caller Seal: %v", err)
	}
	n := 0
	for p := range toCallee {
		if _, _, err := rs.Open(nil, p); err != nil {
			t.Fatalf("callee Open of frame %d: %v", n, err)
		}
		n++
	}
	if n != 400 || is.Confirming() {
		t.Fatalf("%d frames, caller confirming %v", n, is.Confirming())
	}
}
