package platform

import "testing"

func TestParseRouteGetInterface(t *testing.T) {
	tests := []struct {
		name, out, want string
	}{
		{"macOS output", `   route to: default
destination: default
       mask: default
    gateway: 192.168.1.1
  interface: en0
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1500         0
`, "en0"},
		{"no interface line", "route: writing to routing socket: not in table\n", ""},
		{"empty", "", ""},
		{"interface in another key is ignored", "  ifscope interface: en9\n  interface: en1\n", "en1"},
	}
	for _, tt := range tests {
		if got := parseRouteGetInterface(tt.out); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
