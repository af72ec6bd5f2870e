package load

import "testing"

func TestRxStats(t *testing.T) {
	tests := []struct {
		name                         string
		seqs                         []uint32
		unique, dup, reordered, late uint64
		expected                     uint64
	}{
		{"in order", []uint32{0, 1, 2, 3}, 4, 0, 0, 0, 4},
		{"a gap is loss", []uint32{0, 1, 3, 4}, 4, 0, 0, 0, 5},
		{"duplicate", []uint32{0, 1, 1, 2, 0}, 3, 2, 0, 0, 3},
		{"reordered", []uint32{0, 2, 1, 3}, 4, 0, 1, 0, 4},
		{"reordered then its duplicate", []uint32{0, 2, 1, 1}, 3, 1, 1, 0, 3},
		{"first frames lost", []uint32{5, 6}, 2, 0, 0, 0, 7},
		{"edge of the window", []uint32{0, rxWindow - 1, 1, 0}, 3, 1, 1, 0, rxWindow},
		{"just past the window", []uint32{0, rxWindow, 0}, 2, 0, 0, 1, rxWindow + 1},
		{"beyond the window", []uint32{0, rxWindow + 1, 0, 1}, 2, 0, 0, 2, rxWindow + 2},
		{"big jump clears the window", []uint32{0, 1, 5000, 5000, 4999}, 4, 1, 1, 0, 5001},
	}
	for _, tt := range tests {
		var r RxStats
		for _, s := range tt.seqs {
			r.Observe(s, 0, 1000)
		}
		if r.Unique != tt.unique || r.Duplicates != tt.dup || r.Reordered != tt.reordered || r.Late != tt.late || r.Expected() != tt.expected {
			t.Errorf("%s: unique %d dup %d reordered %d late %d expected %d; want %d %d %d %d %d", tt.name,
				r.Unique, r.Duplicates, r.Reordered, r.Late, r.Expected(), tt.unique, tt.dup, tt.reordered, tt.late, tt.expected)
		}
	}
}

// A window slot reused for a newer sequence number is not taken for a
// duplicate of the old one.
func TestRxStatsWindowWraps(t *testing.T) {
	var r RxStats
	for s := range uint32(5 * rxWindow) {
		if !r.Observe(s, 0, 0) {
			t.Fatalf("frame %d taken for a duplicate", s)
		}
	}
	if r.Unique != 5*rxWindow || r.Duplicates != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestRxStatsLatencyAndJitter(t *testing.T) {
	var r RxStats
	// Constant transit: no jitter.
	for s := range uint32(100) {
		r.Observe(s, int64(s)*20e6, int64(s)*20e6+300e3)
	}
	if r.JitterNs() != 0 || r.Latency.Quantile(0.5) < 295e3 || r.Latency.Quantile(0.5) > 305e3 {
		t.Fatalf("jitter %v, median %v", r.JitterNs(), r.Latency.Quantile(0.5))
	}
	// Transit alternating by 1 ms: jitter converges to 1 ms.
	for s := uint32(100); s < 1000; s++ {
		r.Observe(s, int64(s)*20e6, int64(s)*20e6+300e3+int64(s%2)*1e6)
	}
	if j := r.JitterNs(); j < 0.95e6 || j > 1.05e6 {
		t.Fatalf("jitter %v ns, want about 1 ms", j)
	}
	// Duplicates add no latency samples.
	n := r.Latency.Count()
	r.Observe(5, 0, 1e9)
	if r.Latency.Count() != n {
		t.Fatal("a duplicate was counted in the latency")
	}
}
