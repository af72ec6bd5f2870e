package crypt

import "testing"

func TestReplayWindow(t *testing.T) {
	const w = ReplayWindowSize
	var r ReplayWindow
	cases := []struct {
		counter uint64
		want    bool
	}{
		0:  {0, true},
		1:  {1, true},
		2:  {1, false},
		3:  {0, false},
		4:  {9, true},
		5:  {8, true},
		6:  {7, true},
		7:  {7, false},
		8:  {w, true},     // 0 is now exactly at the window's edge
		9:  {2, true},     // inside the window, not seen
		10: {w + 1, true}, // 0 and 1 fall out
		11: {0, false},
		12: {1, false}, // too old
		13: {3, true},  // last-3 == w-2: still inside
		14: {w + 1, false},
		15: {2 * w, true},
		16: {w - 1, false}, // too old
		17: {w, false},     // at the edge, already seen
		18: {w + 2, true},  // 2w-(w+2) = w-2 behind: inside, not seen
		19: {w + 2, false},
	}
	for i, c := range cases {
		if got := r.Accept(c.counter); got != c.want {
			t.Fatalf("case %d: Accept(%d) = %v, want %v", i, c.counter, got, c.want)
		}
	}
}

func TestReplayWindowEdges(t *testing.T) {
	const w = ReplayWindowSize
	tests := []struct {
		name string
		last uint64
		try  uint64
		want bool
	}{
		{"exactly window behind", 10000, 10000 - w, true},
		{"one past window", 10000, 10000 - w - 1, false},
		{"same as last", 10000, 10000, false},
		{"far ahead", 10000, 1 << 40, true},
		{"max counter never", 10000, ^uint64(0), false},
		{"max-1 ok", 10000, ^uint64(0) - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r ReplayWindow
			if !r.Accept(tt.last) {
				t.Fatalf("Accept(%d) on fresh window = false", tt.last)
			}
			if got := r.Accept(tt.try); got != tt.want {
				t.Fatalf("after %d, Accept(%d) = %v, want %v", tt.last, tt.try, got, tt.want)
			}
		})
	}
}

// TestReplayWindowSweep accepts every counter once in blocks out of order
// across many ring turns, then checks everything inside the window is
// rejected and the next new counter accepted.
func TestReplayWindowSweep(t *testing.T) {
	var r ReplayWindow
	const n = 200 * 100 // a multiple of the group size, about 5 windows
	for base := uint64(0); base < n; base += 100 {
		for i := uint64(100); i > 0; i-- { // descending inside each group
			if !r.Accept(base + i - 1) {
				t.Fatalf("Accept(%d) = false on first sight", base+i-1)
			}
		}
	}
	for c := uint64(n - ReplayWindowSize); c < n; c++ {
		if r.Accept(c) {
			t.Fatalf("Accept(%d) = true on replay", c)
		}
	}
	if r.Accept(n - ReplayWindowSize - 1) {
		t.Fatalf("counter just outside the window accepted")
	}
	if !r.Accept(n) {
		t.Fatalf("Accept(%d) = false for the next counter", uint64(n))
	}
	// A jump of more than the ring clears everything: old bits must not
	// reappear as "seen" for new counters in the same ring slots.
	jump := uint64(n + 100*ReplayWindowSize)
	if !r.Accept(jump) {
		t.Fatalf("Accept(%d) after jump = false", jump)
	}
	for c := jump - ReplayWindowSize; c < jump; c++ {
		if !r.Accept(c) {
			t.Fatalf("Accept(%d) = false after jump; stale bit", c)
		}
	}
	r.Reset()
	if !r.Accept(0) {
		t.Fatalf("Accept(0) after Reset = false")
	}
}
