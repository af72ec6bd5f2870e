package iax

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseMini(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		call    uint16
		ts      uint16
		payload []byte
		err     error
	}{
		{"voice 20 ms", frameMini, 0x0123, 0x1234, frameMini[4:], nil},
		{"header only", []byte{0x7f, 0xff, 0xff, 0xff}, 0x7fff, 0xffff, []byte{}, nil},
		{"too short", []byte{0x01, 0x23, 0x12}, 0, 0, nil, ErrTooShort},
		{"full frame", frameAck, 0, 0, nil, ErrNotMini},
		{"meta frame", frameMeta, 0, 0, nil, ErrNotMini},
		{"video frame", frameVideo, 0, 0, nil, ErrNotMini},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMini(tt.b)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseMini error = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if m.SrcCall != tt.call || m.Timestamp != tt.ts || !bytes.Equal(m.Payload, tt.payload) {
				t.Errorf("ParseMini = %#x %#x % x", m.SrcCall, m.Timestamp, m.Payload)
			}
			if m.Len() != len(tt.b) {
				t.Errorf("Len = %d, want %d", m.Len(), len(tt.b))
			}
			if out := m.AppendTo(nil); !bytes.Equal(out, tt.b) {
				t.Errorf("AppendTo = % x, want % x", out, tt.b)
			}
		})
	}
}

// TestParseMiniAliases checks the zero-copy promise: the payload is the
// input's memory, not a copy.
func TestParseMiniAliases(t *testing.T) {
	b := append([]byte(nil), frameMini...)
	m, err := ParseMini(b)
	if err != nil {
		t.Fatal(err)
	}
	b[4] = 0x42
	if m.Payload[0] != 0x42 {
		t.Errorf("payload does not alias the input")
	}
}
