package load

import (
	"errors"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, size := range []int{MinPayload, 33, 39, 160, 1400} {
		b := make([]byte, size)
		want := Payload{Index: 7, Seq: 123456, Sent: 1_000_000_007, Echo: 0}
		PutPayload(b, want)
		got, err := ParsePayload(b)
		if err != nil || got != want {
			t.Fatalf("size %d: got %+v, %v; want %+v", size, got, err, want)
		}
		stampEcho(b, 42)
		stampSent(b, 43)
		got, err = ParsePayload(b)
		if err != nil || got.Echo != 42 || got.Sent != 43 {
			t.Fatalf("size %d after stamping: %+v, %v", size, got, err)
		}
	}
}

func TestPayloadDetectsDamage(t *testing.T) {
	b := make([]byte, 160)
	PutPayload(b, Payload{Index: 3, Seq: 9})
	tests := []struct {
		name string
		mod  func([]byte) []byte
		want error
	}{
		{"short", func(b []byte) []byte { return b[:MinPayload-1] }, ErrNotLoad},
		{"bad magic", func(b []byte) []byte { b[0] ^= 1; return b }, ErrNotLoad},
		{"bit flip in fill", func(b []byte) []byte { b[100] ^= 0x10; return b }, ErrCorrupt},
		{"last byte", func(b []byte) []byte { b[159] ^= 0x80; return b }, ErrCorrupt},
		{"truncated fill", func(b []byte) []byte { return b[:150] }, nil},
		{"other sequence", func(b []byte) []byte { b[offSeq+3] ^= 1; return b }, ErrCorrupt},
		{"other call", func(b []byte) []byte { b[offIndex] ^= 1; return b }, ErrCorrupt},
		{"reserved set", func(b []byte) []byte { b[30] = 1; return b }, ErrCorrupt},
	}
	for _, tt := range tests {
		c := tt.mod(append([]byte(nil), b...))
		_, err := ParsePayload(c)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	b := make([]byte, 160)
	PutPayload(b, Payload{Index: 1, Seq: 2, Sent: 3})
	f.Add(b)
	f.Add([]byte("IXL1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		if err != nil {
			return
		}
		// Whatever parses must be exactly what PutPayload makes of it.
		c := make([]byte, len(b))
		PutPayload(c, p)
		if string(c) != string(b) {
			t.Fatalf("parsed %+v from a payload PutPayload would not make", p)
		}
	})
}

func BenchmarkPayload(b *testing.B) {
	buf := make([]byte, 160)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		PutPayload(buf, Payload{Index: 1, Seq: uint32(i)})
		if _, err := ParsePayload(buf); err != nil {
			b.Fatal(err)
		}
	}
}
