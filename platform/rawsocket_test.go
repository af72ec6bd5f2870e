package platform

import (
	"bytes"
	"testing"
)

func TestIPv4HeaderToHostOrder(t *testing.T) {
	pkt := []byte{0x45, 0, 0x05, 0xdc, 0x12, 0x34, 0x40, 0x00, 64, 17, 0xaa, 0xbb}
	ipv4HeaderToHostOrder(pkt)
	want := []byte{0x45, 0, 0xdc, 0x05, 0x12, 0x34, 0x00, 0x40, 64, 17, 0xaa, 0xbb}
	if !bytes.Equal(pkt, want) {
		t.Fatalf("got % x, want % x (only length and fragment field swapped)", pkt, want)
	}
}

func TestIPv6UpperLayer(t *testing.T) {
	mk := func(next byte, payload []byte) []byte {
		b := make([]byte, 40+len(payload))
		b[0] = 0x60
		b[4], b[5] = byte(len(payload)>>8), byte(len(payload))
		b[6] = next
		copy(b[40:], payload)
		return b
	}
	short := mk(17, []byte("abcd"))
	short[5] = 9 // payload length beyond the packet
	v4 := mk(17, nil)
	v4[0] = 0x45
	tests := []struct {
		name    string
		pkt     []byte
		proto   uint8
		payload string
		ok      bool
	}{
		{"UDP", mk(17, []byte("udp!")), 17, "udp!", true},
		{"TCP", mk(6, []byte("tcp")), 6, "tcp", true},
		{"ICMPv6", mk(58, []byte{128, 0}), 58, "\x80\x00", true},
		{"trailing bytes cut", append(mk(17, []byte("ab")), 0, 0), 17, "ab", true},
		{"hop-by-hop", mk(0, make([]byte, 8)), 0, "", false},
		{"routing", mk(43, make([]byte, 8)), 0, "", false},
		{"fragment", mk(44, make([]byte, 8)), 0, "", false},
		{"destination options", mk(60, make([]byte, 8)), 0, "", false},
		{"truncated", short, 0, "", false},
		{"too short for a header", make([]byte, 39), 0, "", false},
		{"IPv4", v4, 0, "", false},
	}
	for _, tt := range tests {
		proto, payload, ok := ipv6UpperLayer(tt.pkt)
		if ok != tt.ok || proto != tt.proto || string(payload) != tt.payload {
			t.Errorf("%s: got %d %q %v, want %d %q %v", tt.name, proto, payload, ok, tt.proto, tt.payload, tt.ok)
		}
	}
}
