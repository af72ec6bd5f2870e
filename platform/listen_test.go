package platform

import (
	"slices"
	"testing"
)

func TestListenPlan(t *testing.T) {
	tests := []struct {
		addr      string
		perFamily bool
		want      []listenSpec
	}{
		{":4570", false, []listenSpec{{"udp", ":4570"}}},
		{":4570", true, []listenSpec{{"udp4", "0.0.0.0:4570"}, {"udp6", "[::]:4570"}}},
		{"[::]:4570", true, []listenSpec{{"udp4", "0.0.0.0:4570"}, {"udp6", "[::]:4570"}}},
		{"[::]:4570", false, []listenSpec{{"udp", "[::]:4570"}}},
		{"0.0.0.0:4570", true, []listenSpec{{"udp4", "0.0.0.0:4570"}}},
		{"192.0.2.1:4569", false, []listenSpec{{"udp4", "192.0.2.1:4569"}}},
		{"[::ffff:192.0.2.1]:4569", true, []listenSpec{{"udp4", "192.0.2.1:4569"}}},
		{"[2001:db8::1]:4569", true, []listenSpec{{"udp6", "[2001:db8::1]:4569"}}},
	}
	for _, tt := range tests {
		got, err := listenPlan(tt.addr, tt.perFamily)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("listenPlan(%q, %v) = %v, %v; want %v", tt.addr, tt.perFamily, got, err, tt.want)
		}
	}
	for _, bad := range []string{"4570", "host.example:4570"} {
		if _, err := listenPlan(bad, true); err == nil {
			t.Errorf("listenPlan(%q) accepted", bad)
		}
	}
}
