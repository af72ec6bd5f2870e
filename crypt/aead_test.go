package crypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
)

func TestSealOpenSizes(t *testing.T) {
	for _, c := range DefaultCiphers() {
		t.Run(c.String(), func(t *testing.T) {
			is, rs := pair(t, []Cipher{c}, DefaultCiphers())
			for n := MinFrameLen; n <= 1500; n += 7 {
				f := make([]byte, n)
				rand.Read(f)
				pkt, err := is.Sealer.Seal(nil, f, 5, 6)
				if err != nil {
					t.Fatalf("Seal %d bytes: %v", n, err)
				}
				if len(pkt) != n+Overhead {
					t.Fatalf("sealed %d bytes into %d, want %d", n, len(pkt), n+Overhead)
				}
				got, h, err := rs.Opener.Open(nil, pkt)
				if err != nil || !bytes.Equal(got, f) {
					t.Fatalf("Open %d bytes: %v", n, err)
				}
				if want := (Header{SenderCall: 5, ReceiverCall: 6, Counter: is.Sealer.Counter() - 1}); h != want {
					t.Fatalf("header %+v, want %+v", h, want)
				}
			}
		})
	}
}

func TestSealLayout(t *testing.T) {
	is, _ := pair(t, DefaultCiphers(), DefaultCiphers())
	prefix := []byte("keep")
	pkt, err := is.Sealer.Seal(slices.Clone(prefix), miniFrame(), 0x7fff, 0xffff)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if !bytes.HasPrefix(pkt, prefix) {
		t.Fatalf("Seal did not append to dst")
	}
	want := []byte{0, 0, 0x45, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(pkt[4:4+HeaderLen], want) {
		t.Fatalf("header % x, want % x", pkt[4:4+HeaderLen], want)
	}
	if !IsEncryptedFrame(pkt[4:]) || IsEncryptedFrame(miniFrame()) {
		t.Fatalf("IsEncryptedFrame wrong")
	}
	if _, err := is.Sealer.Seal(nil, []byte{1, 2, 3}, 1, 2); !errors.Is(err, ErrTooShort) {
		t.Fatalf("3-byte frame: %v", err)
	}
	if _, err := is.Sealer.Seal(nil, miniFrame(), 0x8000, 2); !errors.Is(err, ErrCallNumber) {
		t.Fatalf("sender call with high bit: %v", err)
	}
}

func TestSealInPlace(t *testing.T) {
	is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
	f := miniFrame()
	buf := make([]byte, HeaderLen+len(f), HeaderLen+len(f)+tagLen)
	copy(buf[HeaderLen:], f)
	pkt, err := is.Sealer.Seal(buf[:0], buf[HeaderLen:], 1, 2)
	if err != nil || &pkt[0] != &buf[0] {
		t.Fatalf("Seal in place: %v, moved=%v", err, &pkt[0] != &buf[0])
	}
	got, _, err := rs.Opener.Open(pkt[HeaderLen:HeaderLen], pkt)
	if err != nil || !bytes.Equal(got, f) {
		t.Fatalf("Open in place: %v", err)
	}
}

// TestTamperPacket flips each bit position of every byte of a sealed frame;
// each must fail authentication (or be rejected earlier as not encrypted),
// and must not move the replay window.
func TestTamperPacket(t *testing.T) {
	for _, c := range DefaultCiphers() {
		is, rs := pair(t, []Cipher{c}, DefaultCiphers())
		pkt, _ := is.Sealer.Seal(nil, miniFrame(), 1, 2)
		for i := range pkt {
			bad := slices.Clone(pkt)
			bad[i] ^= 0x01
			_, _, err := rs.Opener.Open(nil, bad)
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
		if _, _, err := rs.Opener.Open(nil, pkt); err != nil {
			t.Fatalf("%v: genuine packet after forgeries: %v", c, err)
		}
	}
}

func TestOpenReplay(t *testing.T) {
	is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
	f := miniFrame()
	var pkts [][]byte
	for range ReplayWindowSize + 10 {
		p, err := is.Sealer.Seal(nil, f, 1, 2)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		pkts = append(pkts, p)
	}
	open := func(i int) error {
		_, _, err := rs.Opener.Open(nil, pkts[i])
		return err
	}
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
	is, rs := pair(t, DefaultCiphers(), DefaultCiphers())
	is.Sealer.counter = ^uint64(0) - 1
	pkt, err := is.Sealer.Seal(nil, miniFrame(), 1, 2)
	if err != nil {
		t.Fatalf("Seal at 2^64-2: %v", err)
	}
	if _, _, err := rs.Opener.Open(nil, pkt); err != nil {
		t.Fatalf("Open at 2^64-2: %v", err)
	}
	if _, err := is.Sealer.Seal(nil, miniFrame(), 1, 2); !errors.Is(err, ErrCounterExhausted) {
		t.Fatalf("Seal at 2^64-1: %v, want ErrCounterExhausted", err)
	}
}

func TestParseHeader(t *testing.T) {
	good := append([]byte{0, 0, 0x45, 1, 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4, 5, 6, 7, 8}, make([]byte, 20)...)
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
		{"version 2", mod(3, 2), Header{}, ErrVersion},
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

func TestSealOpenAllocs(t *testing.T) {
	for _, c := range DefaultCiphers() {
		is, rs := pair(t, []Cipher{c}, DefaultCiphers())
		f := miniFrame()
		pkt := make([]byte, 0, len(f)+Overhead)
		out := make([]byte, 0, len(f))
		var err error
		if n := testing.AllocsPerRun(100, func() {
			pkt, err = is.Sealer.Seal(pkt[:0], f, 1, 2)
		}); n != 0 || err != nil {
			t.Fatalf("%v: Seal allocs %v, err %v", c, n, err)
		}
		if n := testing.AllocsPerRun(100, func() {
			p, _ := is.Sealer.Seal(pkt[:0], f, 1, 2)
			out, _, err = rs.Opener.Open(out[:0], p)
		}); n != 0 || err != nil {
			t.Fatalf("%v: Seal+Open allocs %v, err %v", c, n, err)
		}
		// The failure paths must not allocate either: a flood of forgeries
		// or replays costs no garbage.
		bad := slices.Clone(pkt)
		bad[20] ^= 1
		if n := testing.AllocsPerRun(100, func() {
			_, _, err = rs.Opener.Open(out[:0], bad)
		}); n != 0 || !errors.Is(err, ErrAuthentication) {
			t.Fatalf("%v: forged Open allocs %v, err %v", c, n, err)
		}
	}
}
