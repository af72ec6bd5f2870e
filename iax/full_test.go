package iax

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseFull(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want FullFrame
	}{
		{"NEW", frameNew, FullFrame{SrcCall: 0x0123, Timestamp: 3, Type: FrameIAX, Subclass: byte(IAXNew), Payload: newIEs()}},
		{"ACK retransmitted", frameAck, FullFrame{SrcCall: 7, DstCall: 0x0123, Retransmit: true, Timestamp: 3, ISeq: 1, Type: FrameIAX, Subclass: byte(IAXAck), Payload: []byte{}}},
		{"voice", frameVoiceFull, FullFrame{SrcCall: 0x0123, DstCall: 7, Timestamp: 0x140, OSeq: 2, ISeq: 3, Type: FrameVoice, Subclass: 4, Payload: frameVoiceFull[12:]}},
		{"max call numbers", []byte{0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xfd, 0xfc},
			FullFrame{SrcCall: 0x7fff, DstCall: 0x7fff, Timestamp: 0xffffffff, OSeq: 0xff, ISeq: 0xfe, Type: 0xfd, Subclass: 0xfc, Payload: []byte{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFull(tt.b)
			if err != nil {
				t.Fatalf("ParseFull: %v", err)
			}
			if !equalFull(got, tt.want) {
				t.Errorf("ParseFull =\n%+v\nwant\n%+v", got, tt.want)
			}
			if n := got.Len(); n != len(tt.b) {
				t.Errorf("Len = %d, want %d", n, len(tt.b))
			}
			if out := got.AppendTo([]byte("prefix")); !bytes.Equal(out[6:], tt.b) || string(out[:6]) != "prefix" {
				t.Errorf("AppendTo = % x, want prefix then % x", out, tt.b)
			}
		})
	}
}

func equalFull(a, b FullFrame) bool {
	return a.SrcCall == b.SrcCall && a.DstCall == b.DstCall && a.Retransmit == b.Retransmit &&
		a.Timestamp == b.Timestamp && a.OSeq == b.OSeq && a.ISeq == b.ISeq &&
		a.Type == b.Type && a.Subclass == b.Subclass && bytes.Equal(a.Payload, b.Payload)
}

func TestParseFullErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTooShort},
		{"mini", frameMini, ErrNotFull},
		{"meta", frameMeta, ErrNotFull},
		{"one byte", []byte{0x80}, ErrTooShort},
		{"header minus one", frameAck[:11], ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseFull(tt.b); !errors.Is(err, tt.err) {
				t.Errorf("ParseFull error = %v, want %v", err, tt.err)
			}
		})
	}
}

// TestFullAppendMasksCallNumbers checks that out-of-range call numbers
// cannot flip the F or R bits of the result.
func TestFullAppendMasksCallNumbers(t *testing.T) {
	f := FullFrame{SrcCall: 0xffff, DstCall: 0xffff, Type: FrameIAX, Subclass: byte(IAXPing)}
	got, err := ParseFull(f.AppendTo(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.SrcCall != 0x7fff || got.DstCall != 0x7fff || got.Retransmit {
		t.Errorf("got src %#x dst %#x R %v, want 0x7fff 0x7fff false", got.SrcCall, got.DstCall, got.Retransmit)
	}
}

func TestSubclassValue(t *testing.T) {
	tests := []struct {
		sub  uint8
		want uint32
	}{
		{0x00, 0},
		{0x04, 4},
		{0x7f, 0x7f},
		{0x80, 1},
		{0x80 | 2, 4},
		{0x80 | 31, 1 << 31},
		{0x80 | 32, 0},
		{0xff, 0},
	}
	for _, tt := range tests {
		f := FullFrame{Subclass: tt.sub}
		if got := f.SubclassValue(); got != tt.want {
			t.Errorf("SubclassValue(%#x) = %#x, want %#x", tt.sub, got, tt.want)
		}
	}
}

func TestTypedSubclass(t *testing.T) {
	tests := []struct {
		name    string
		f       FullFrame
		iax     IAXSubclass
		iaxOK   bool
		control ControlSubclass
		ctlOK   bool
	}{
		{"NEW", FullFrame{Type: FrameIAX, Subclass: 1}, IAXNew, true, 0, false},
		{"CALLTOKEN", FullFrame{Type: FrameIAX, Subclass: 0x28}, IAXCallToken, true, 0, false},
		{"IAX with C bit", FullFrame{Type: FrameIAX, Subclass: 0x81}, 0, false, 0, false},
		{"RINGING", FullFrame{Type: FrameControl, Subclass: 3}, 0, false, ControlRinging, true},
		{"control with C bit", FullFrame{Type: FrameControl, Subclass: 0x83}, 0, false, 0, false},
		{"voice", FullFrame{Type: FrameVoice, Subclass: 4}, 0, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := tt.f.IAXSubclass()
			if s != tt.iax || ok != tt.iaxOK {
				t.Errorf("IAXSubclass = %v, %v; want %v, %v", s, ok, tt.iax, tt.iaxOK)
			}
			c, ok := tt.f.ControlSubclass()
			if c != tt.control || ok != tt.ctlOK {
				t.Errorf("ControlSubclass = %v, %v; want %v, %v", c, ok, tt.control, tt.ctlOK)
			}
		})
	}
}
