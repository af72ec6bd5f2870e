package daemon

import (
	"strings"
	"testing"
)

func TestCaptureSummary(t *testing.T) {
	for _, tt := range []struct {
		goos  string
		peers int
		says  []string
	}{
		{"linux", 0, []string{"policy rule", "port 4569", "iax0", "no peers routed", "dropped, not sent in clear"}},
		{"darwin", 0, []string{"pf anchor", "any local address", "utun7", "no peers routed"}},
		{"darwin", 2, []string{"pf anchor", "2 routed peer(s)"}},
	} {
		tun := "iax0"
		if tt.goos == "darwin" {
			tun = "utun7"
		}
		got := captureSummary(tt.goos, 4569, tun, tt.peers)
		for _, w := range tt.says {
			if !strings.Contains(got, w) {
				t.Errorf("%s with %d peers: %q lacks %q", tt.goos, tt.peers, got, w)
			}
		}
	}
}
