package knownpeers

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSelectors(t *testing.T) {
	tests := []struct {
		in      string
		want    Selector
		wantErr string
	}{
		{"192.0.2.7", Selector{Addr: netip.MustParseAddr("192.0.2.7")}, ""},
		{"192.0.2.7:4569", Selector{Addr: netip.MustParseAddr("192.0.2.7")}, ""},
		{"::ffff:192.0.2.7", Selector{Addr: netip.MustParseAddr("192.0.2.7")}, ""},
		{"[2001:db8::1]:4569", Selector{Addr: netip.MustParseAddr("2001:db8::1")}, ""},
		{"2001:db8::1", Selector{Addr: netip.MustParseAddr("2001:db8::1")}, ""},
		{"pbxA@192.0.2.7", Selector{Addr: netip.MustParseAddr("192.0.2.7"), User: "pbxA", Exact: true}, ""},
		{"a%40b%20c@[2001:db8::1]", Selector{Addr: netip.MustParseAddr("2001:db8::1"), User: "a@b c", Exact: true}, ""},
		{"@192.0.2.7", Selector{Addr: netip.MustParseAddr("192.0.2.7"), Exact: true}, ""},
		{"host.example", Selector{}, "not an IP address"},
		{"a%4@192.0.2.7", Selector{}, "bad escape"},
		{"a b@192.0.2.7", Selector{}, "space or control"},
		{"", Selector{}, "not an IP address"},
	}
	for _, tt := range tests {
		got, err := ParseSelector(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: %v, want an error with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, user := range []string{"", "200", "pbx A", "x@y", "100%", "#1", "ünï", "\x00\n", strings.Repeat("9", 255)} {
		k := MakeKey(netip.MustParseAddr("2001:db8::1"), user)
		got, err := ParseKey(k.String())
		if err != nil || got != k {
			t.Errorf("%q: %q parsed as %+v, %v", user, k.String(), got, err)
		}
		if strings.ContainsAny(k.String(), " \t\n#") {
			t.Errorf("%q: key %q holds a separator", user, k)
		}
	}
	if k := MakeKey(netip.MustParseAddr("192.0.2.1"), strings.Repeat("x", 300)); len(k.User) != MaxUserLen {
		t.Errorf("user not cut: %d", len(k.User))
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add("192.0.2.1 9LFNXqBGMpSH6SVZvOx4RoHSRbk0UwUz1uYjBw3mDWA= first-seen=2026-01-02T03:04:05Z last-call=encrypted")
	f.Add("pbx%20A@2001:db8::1 - last-seen=2026-01-02T03:04:05Z last-call=clear")
	f.Add("192.0.2.1 9LFNXqBGMpSH6SVZvOx4RoHSRbk0UwUz1uYjBw3mDWA= verified=2026-01-02T03:04:05Z presented=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseLine(line)
		if err != nil {
			return
		}
		again, err := parseLine(formatLine(r))
		if err != nil {
			t.Fatalf("%q: rendered %q does not parse: %v", line, formatLine(r), err)
		}
		if formatLine(again) != formatLine(r) {
			t.Fatalf("%q: not stable: %q then %q", line, formatLine(r), formatLine(again))
		}
	})
}
