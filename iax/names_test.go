package iax

import "testing"

func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{FrameDTMFEnd.String(), "DTMF_END"},
		{FrameIAX.String(), "IAX"},
		{FrameDTMFBegin.String(), "DTMF_BEGIN"},
		{FrameType(0).String(), "FrameType(0)"},
		{FrameType(13).String(), "FrameType(13)"},
		{IAXNew.String(), "NEW"},
		{IAXTransfer.String(), "TRANSFER"},
		{IAXCallToken.String(), "CALLTOKEN"},
		{IAXSubclass(0).String(), "IAXSubclass(0)"},
		{IAXSubclass(0x29).String(), "IAXSubclass(41)"},
		{ControlHangup.String(), "HANGUP"},
		{ControlUnhold.String(), "UNHOLD"},
		{ControlUpdateRTPPeer.String(), "UPDATE_RTP_PEER"},
		{ControlSubclass(0xff).String(), "ControlSubclass(255)"},
		{IECalledNumber.String(), "CALLED NUMBER"},
		{IEMD5Result.String(), "MD5 RESULT"},
		{IECallToken.String(), "CALLTOKEN"},
		{IECallingANI2.String(), "CALLINGANI2"},
		{IEID(0).String(), "IE(0)"},
		{IEID(58).String(), "IE(58)"},
		{IEID(200).String(), "IE(200)"},
		{IEID(255).String(), "IE(255)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

// TestNamesDense checks that no defined value in a range was left without
// a name, which an index-keyed table would hide.
func TestNamesDense(t *testing.T) {
	tests := []struct {
		name      string
		first     int
		last      int
		stringify func(int) string
		unknown   string
	}{
		{"frame types", 1, 12, func(i int) string { return FrameType(i).String() }, "FrameType("},
		{"IAX subclasses", 1, 0x28, func(i int) string { return IAXSubclass(i).String() }, "IAXSubclass("},
		{"control subclasses", 1, 0x20, func(i int) string { return ControlSubclass(i).String() }, "ControlSubclass("},
		{"IEs", 1, 57, func(i int) string { return IEID(i).String() }, "IE("},
	}
	for _, tt := range tests {
		seen := map[string]int{}
		for i := tt.first; i <= tt.last; i++ {
			s := tt.stringify(i)
			if len(s) >= len(tt.unknown) && s[:len(tt.unknown)] == tt.unknown {
				t.Errorf("%s: %d has no name", tt.name, i)
			}
			if j, dup := seen[s]; dup {
				t.Errorf("%s: %d and %d are both %q", tt.name, j, i, s)
			}
			seen[s] = i
		}
		if s := tt.stringify(tt.last + 1); s[:len(tt.unknown)] != tt.unknown {
			t.Errorf("%s: %d past the table is named %q", tt.name, tt.last+1, s)
		}
	}
}
