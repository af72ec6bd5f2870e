package impair

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func pkt(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

// run feeds n datagrams 1 ms apart and collects what leaves, in order.
func run(t *testing.T, r Rates, n int) ([]int, Counts) {
	t.Helper()
	m, err := NewImpairer(r, 42)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var due [][]byte
	now := int64(0)
	for i := range n {
		now += int64(time.Millisecond)
		m.Add(now, pkt(i))
		due = m.Due(now, due[:0])
		for _, d := range due {
			got = append(got, int(binary.BigEndian.Uint32(d)))
		}
	}
	now += int64(time.Hour)
	for _, d := range m.Due(now, nil) {
		got = append(got, int(binary.BigEndian.Uint32(d)))
	}
	return got, m.Counts()
}

func TestImpairerRates(t *testing.T) {
	const n = 100000
	for _, tt := range []struct {
		name string
		r    Rates
	}{
		{"clean", Rates{}},
		{"1% loss", Rates{Loss: 0.01}},
		{"5% duplicates", Rates{Duplicate: 0.05}},
		{"2% reordered", Rates{Reorder: 0.02, ReorderDelay: 3 * time.Millisecond}},
		{"everything", Rates{Loss: 0.01, Duplicate: 0.01, Reorder: 0.01, Delay: 2 * time.Millisecond, Jitter: time.Millisecond}},
	} {
		got, c := run(t, tt.r, n)
		near := func(count uint64, p float64) bool {
			want := p * n
			return math.Abs(float64(count)-want) <= 5*math.Sqrt(want+1)
		}
		if c.In != n || !near(c.Dropped, tt.r.Loss) || !near(c.Duplicated, tt.r.Duplicate*(1-tt.r.Loss)) ||
			!near(c.Reordered, tt.r.Reorder*(1-tt.r.Loss)) || c.Out != uint64(len(got)) || c.Out != c.In-c.Dropped+c.Duplicated {
			t.Errorf("%s: counts %+v", tt.name, c)
		}
		// Count what actually left out of order and twice.
		seen := map[int]int{}
		inversions := 0
		maxSeen := -1
		for _, v := range got {
			seen[v]++
			if v < maxSeen && seen[v] == 1 {
				inversions++
			}
			maxSeen = max(maxSeen, v)
		}
		dups := 0
		for _, k := range seen {
			dups += k - 1
		}
		if uint64(dups) != c.Duplicated || uint64(len(seen)) != c.In-c.Dropped {
			t.Errorf("%s: %d duplicates and %d distinct on the way out; counts %+v", tt.name, dups, len(seen), c)
		}
		if tt.r.Reorder == 0 && inversions != 0 {
			t.Errorf("%s: %d datagrams out of order without reordering", tt.name, inversions)
		}
		if tt.r.Reorder > 0 && (inversions == 0 || uint64(inversions) > c.Reordered*3) {
			t.Errorf("%s: %d datagrams overtaken, %d reordered", tt.name, inversions, c.Reordered)
		}
	}
}

// Delay holds every datagram exactly that long; jitter does not reorder.
func TestImpairerDelay(t *testing.T) {
	m, _ := NewImpairer(Rates{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}, 1)
	last := -1
	for i := range 1000 {
		now := int64(i) * int64(time.Millisecond)
		m.Add(now, pkt(i))
		for _, d := range m.Due(now, nil) {
			v := int(binary.BigEndian.Uint32(d))
			if v <= last {
				t.Fatalf("%d left after %d", v, last)
			}
			if age := now - int64(v)*int64(time.Millisecond); age < int64(10*time.Millisecond) || age > int64(16*time.Millisecond) {
				t.Fatalf("datagram %d held %v", v, time.Duration(age))
			}
			last = v
		}
	}
}

func TestImpairerRejectsBadRates(t *testing.T) {
	for _, r := range []Rates{{Loss: -0.1}, {Duplicate: 1.5}, {Delay: -1}} {
		if _, err := NewImpairer(r, 1); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}
