package iax

import (
	"bytes"
	"errors"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want Kind
		err  error
	}{
		{"nil", nil, 0, ErrTooShort},
		{"three bytes", []byte{0x80, 0, 0}, 0, ErrTooShort},
		{"full header only 4 bytes", []byte{0x80, 0x01, 0, 0}, KindFull, nil},
		{"full call 0", []byte{0x80, 0x00, 0, 0}, KindFull, nil},
		{"mini low byte", []byte{0x00, 0x01, 0, 0}, KindMini, nil},
		{"mini high byte", []byte{0x7f, 0x00, 0, 0}, KindMini, nil},
		{"video", []byte{0, 0, 0x80, 0x00}, KindVideo, nil},
		{"video any low bits", []byte{0, 0, 0xff, 0xff}, KindVideo, nil},
		{"trunk", []byte{0, 0, 0x01, 0x00}, KindTrunk, nil},
		{"trunk with T", []byte{0, 0, 0x01, 0x01}, KindTrunk, nil},
		{"meta 0", []byte{0, 0, 0x00, 0x00}, KindMeta, nil},
		{"meta 2 (T.38/video in IANA)", []byte{0, 0, 0x02, 0x00}, KindMeta, nil},
		{"meta 0x45", []byte{0, 0, 0x45, 0x01}, KindMeta, nil},
		{"meta 0x7f", []byte{0, 0, 0x7f, 0x01}, KindMeta, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Classify(tt.b)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Classify(% x) error = %v, want %v", tt.b, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Classify(% x) = %v, want %v", tt.b, got, tt.want)
			}
		})
	}
}

func TestRoundTripAllKinds(t *testing.T) {
	for _, tt := range allFrames {
		t.Run(tt.name, func(t *testing.T) {
			k, out, err := roundTrip(tt.b)
			if err != nil {
				t.Fatalf("roundTrip: %v", err)
			}
			if k != tt.kind {
				t.Errorf("kind = %v, want %v", k, tt.kind)
			}
			if !bytes.Equal(out, tt.b) {
				t.Errorf("round trip differs:\n got % x\nwant % x", out, tt.b)
			}
		})
	}
}

// TestParsersRejectOtherKinds feeds every fixture to every parser: only the
// parser of the fixture's kind may accept it, so a caller that skips
// Classify cannot misread a frame.
func TestParsersRejectOtherKinds(t *testing.T) {
	parsers := []struct {
		kind  Kind
		parse func([]byte) error
	}{
		{KindFull, func(b []byte) error { _, err := ParseFull(b); return err }},
		{KindMini, func(b []byte) error { _, err := ParseMini(b); return err }},
		{KindVideo, func(b []byte) error { _, err := ParseVideo(b); return err }},
		{KindTrunk, func(b []byte) error { _, err := ParseTrunk(b); return err }},
		{KindMeta, func(b []byte) error { _, err := ParseMeta(b); return err }},
	}
	for _, f := range allFrames {
		for _, p := range parsers {
			err := p.parse(f.b)
			if accepted := err == nil; accepted != (p.kind == f.kind) {
				t.Errorf("%s: %v parser error = %v", f.name, p.kind, err)
			}
		}
	}
}

func TestPeekCalls(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		src   uint16
		srcOK bool
		dst   uint16
		dstOK bool
	}{
		{"NEW", frameNew, 0x0123, true, 0, true},
		{"ACK retransmit bit masked", frameAck, 0x0007, true, 0x0123, true},
		{"mini", frameMini, 0x0123, true, 0, false},
		{"video", frameVideo, 0x0123, true, 0, false},
		{"trunk", frameTrunk, 0, false, 0, false},
		{"meta", frameMeta, 0, false, 0, false},
		{"full header cut", frameAck[:11], 0, false, 0, false},
		{"video header cut", frameVideo[:5], 0, false, 0, false},
		{"empty", nil, 0, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, ok := PeekSrcCall(tt.b)
			if src != tt.src || ok != tt.srcOK {
				t.Errorf("PeekSrcCall = %#x, %v; want %#x, %v", src, ok, tt.src, tt.srcOK)
			}
			dst, ok := PeekDstCall(tt.b)
			if dst != tt.dst || ok != tt.dstOK {
				t.Errorf("PeekDstCall = %#x, %v; want %#x, %v", dst, ok, tt.dst, tt.dstOK)
			}
		})
	}
}

// TestMalformedNeverPanics runs every parser over every prefix of every
// fixture and over the extreme lengths: nothing may panic, and a prefix
// shorter than its kind's header must be an error.
func TestMalformedNeverPanics(t *testing.T) {
	big := make([]byte, 65535)
	big[0] = 0x80 // a full frame with 65,523 bytes of payload
	bigIEs := make([]byte, 65535)
	for i := 0; i+257 <= len(bigIEs); i += 257 {
		bigIEs[i], bigIEs[i+1] = 200, 255
	}
	inputs := [][]byte{nil, {}, big, bigIEs, bytes.Repeat([]byte{0xff}, 65535)}
	for _, f := range allFrames {
		for i := range f.b {
			inputs = append(inputs, f.b[:i])
		}
	}
	for _, b := range inputs {
		Classify(b)
		PeekSrcCall(b)
		PeekDstCall(b)
		if f, err := ParseFull(b); err == nil {
			RangeIEs(f.Payload, func(IE) bool { return true })
			if !bytes.Equal(f.AppendTo(nil), b) {
				t.Errorf("full frame of %d bytes does not round-trip", len(b))
			}
		}
		ParseMini(b)
		ParseVideo(b)
		if tr, err := ParseTrunk(b); err == nil {
			tr.Range(func(TrunkEntry) bool { return true })
		}
		ParseMeta(b)
		ParseIEs(b)
		RemoveIE(nil, b, IECallToken)
		FindIE(b, IECallToken)
	}
	if _, err := ParseFull(frameAck[:FullHeaderLen-1]); !errors.Is(err, ErrTooShort) {
		t.Errorf("ParseFull of 11 bytes: %v, want ErrTooShort", err)
	}
	if _, err := ParseFull(big); err != nil {
		t.Errorf("ParseFull of a 65,535-byte full frame: %v", err)
	}
	if err := ValidateIEs(bigIEs[:255*257]); err != nil {
		t.Errorf("255 IEs of 255 bytes: %v", err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindFull: "full", KindMini: "mini", KindVideo: "video", KindTrunk: "trunk", KindMeta: "meta", 0: "Kind(0)", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}
