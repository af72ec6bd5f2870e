package probe

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestPayloadParses(t *testing.T) {
	n, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	p := Payload(n)
	if len(p) != Len {
		t.Fatalf("payload is %d bytes, want %d", len(p), Len)
	}
	got, ok := Parse(p)
	if !ok || got != n {
		t.Fatalf("Parse(Payload(n)) = %v, %v; want %v, true", got, ok, n)
	}
	back, err := ParseNonce(n.String())
	if err != nil || back != n {
		t.Fatalf("ParseNonce(%q) = %v, %v", n.String(), back, err)
	}
}

// TestParseIsStrict: anything but the exact length with the exact magic is
// not a probe, so the application's IAX2 is never swallowed.
func TestParseIsStrict(t *testing.T) {
	var n Nonce
	good := Payload(n)
	flipped := bytes.Clone(good)
	flipped[MagicLen-1] ^= 1
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"magic only", good[:MagicLen]},
		{"one byte short", good[:Len-1]},
		{"one byte more", append(bytes.Clone(good), 0)},
		{"version byte changed", flipped},
		{"IAX2 mini frame of 32 bytes", append([]byte{0x00, 0x02, 0x12, 0x34}, make([]byte, 28)...)},
		{"IAX2 full frame NEW", append([]byte{0x80, 0x01, 0x00, 0x00, 0, 0, 0, 3, 0, 0, 6, 1}, make([]byte, 20)...)},
	} {
		if _, ok := Parse(tt.b); ok {
			t.Errorf("%s: taken for a probe", tt.name)
		}
	}
}

func TestParseNonceRefusesBadInput(t *testing.T) {
	for _, s := range []string{"", "zz", "00", string(make([]byte, 32)), "0123456789abcdef0123456789abcdef00"} {
		if _, err := ParseNonce(s); !errors.Is(err, ErrBadNonce) {
			t.Errorf("ParseNonce(%q): %v, want ErrBadNonce", s, err)
		}
	}
}

func TestLogRemembersTheLastProbes(t *testing.T) {
	var l Log
	at := time.Unix(1000, 0)
	nonce := func(i int) Nonce { var n Nonce; n[0], n[1] = byte(i), byte(i>>8); return n }
	s := Sighting{Src: netip.MustParseAddrPort("10.0.0.1:4569"), Dst: netip.MustParseAddrPort("192.0.2.1:9"), At: at}
	if _, ok := l.Seen(nonce(0)); ok {
		t.Fatal("an empty log has seen a probe")
	}
	for i := range logSize + 1 {
		l.Record(nonce(i), s)
	}
	if _, ok := l.Seen(nonce(0)); ok {
		t.Error("the oldest probe is still remembered after logSize more")
	}
	for _, i := range []int{1, logSize / 2, logSize} {
		got, ok := l.Seen(nonce(i))
		if !ok || got != s {
			t.Errorf("probe %d: %v, %v; want %v", i, got, ok, s)
		}
	}
	// A probe seen again keeps its first sighting and takes no new slot.
	later := s
	later.At = at.Add(time.Second)
	l.Record(nonce(logSize), later)
	if got, _ := l.Seen(nonce(logSize)); got.At != at {
		t.Errorf("second sighting replaced the first: %v", got.At)
	}
	if _, ok := l.Seen(nonce(1)); !ok {
		t.Error("a repeated probe pushed out an older one")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Payload(Nonce{1}))
	f.Add([]byte{0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := Parse(b)
		if ok && !bytes.Equal(Payload(n), b) {
			t.Fatalf("Parse accepted %x, which Payload does not make", b)
		}
	})
}

func BenchmarkParseNotAProbe(b *testing.B) {
	frame := make([]byte, 172) // a 20 ms G.711 mini frame
	b.ReportAllocs()
	for b.Loop() {
		Parse(frame)
	}
}
