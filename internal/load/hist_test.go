package load

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistIndexMonotonicAndBounded(t *testing.T) {
	prev := -1
	for _, ns := range []int64{0, 1, 127, 128, 4095, 4096, 4097, 8191, 8192, 1e6, 1e9, 1e12, 1 << 62} {
		i := histIndex(ns)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d after %d", ns, i, prev)
		}
		if ns < 1<<42 && (histLower(i) > ns || (i+1 < histBuckets && histLower(i+1) <= ns)) {
			t.Fatalf("%d ns in bucket %d = [%d, %d)", ns, i, histLower(i), histLower(i+1))
		}
		prev = i
	}
}

// Quantiles of random samples agree with the exact ones within the
// histogram's precision.
func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dist := range []struct {
		name string
		gen  func() int64
	}{
		{"uniform 0-5ms", func() int64 { return r.Int64N(5e6) }},
		{"exponential mean 300us", func() int64 { return int64(r.ExpFloat64() * 3e5) }},
		{"bimodal", func() int64 {
			if r.IntN(100) == 0 {
				return 40e6 + r.Int64N(1e6)
			}
			return 200e3 + r.Int64N(50e3)
		}},
	} {
		var h Histogram
		vals := make([]int64, 100000)
		for i := range vals {
			vals[i] = dist.gen()
			h.Add(vals[i])
		}
		slices.Sort(vals)
		for _, q := range []float64{0.5, 0.99, 0.999} {
			exact := vals[int(q*float64(len(vals)))-1]
			got := int64(h.Quantile(q))
			if d := got - exact; d > exact/30+200 || -d > exact/30+200 {
				t.Errorf("%s: q%.3f = %d ns, exact %d", dist.name, q, got, exact)
			}
		}
		if h.Max() != time.Duration(vals[len(vals)-1]) {
			t.Errorf("%s: max %v, want %d", dist.name, h.Max(), vals[len(vals)-1])
		}
	}
}

func TestHistogramMergeAndJSON(t *testing.T) {
	var a, b Histogram
	for i := range 1000 {
		a.Add(int64(i) * 1000)
		b.Add(int64(i) * 5000)
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(HistogramFromJSON(b.JSON()))
	if m.Count() != 2000 || m.Max() != b.Max() {
		t.Fatalf("merged count %d max %v", m.Count(), m.Max())
	}
	if got, want := m.Mean(), (a.Mean()+b.Mean())/2; got-want > time.Microsecond || want-got > time.Microsecond {
		t.Fatalf("merged mean %v, want %v", got, want)
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 || HistogramFromJSON(empty.JSON()).Count() != 0 {
		t.Fatal("empty histogram not empty")
	}
}

func BenchmarkHistogramAdd(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Add(int64(i) * 977 % 5e6)
	}
}
