package load

import (
	"math"
	"math/bits"
	"time"
)

// Histogram counts durations in log-linear buckets: 128 ns wide below
// 4 µs, then 32 buckets per doubling (each at most 1/32 of its lower bound
// wide), up to about 2.4 hours; larger values land in the last bucket.
// Quantiles are exact to about 1.6%. The zero value is ready to use; it
// allocates its 4 KiB of buckets on the first Add.
type Histogram struct {
	counts []uint32
	n      uint64
	sum    float64 // nanoseconds
	max    int64
}

const (
	histUnitShift = 7 // 128 ns
	histSubBits   = 5 // 32 buckets per doubling
	histSub       = 1 << histSubBits
	histOctaves   = 32
	histBuckets   = histSub + histOctaves*histSub
)

func histIndex(ns int64) int {
	if ns < 0 {
		ns = 0
	}
	u := uint64(ns) >> histUnitShift
	if u < histSub {
		return int(u)
	}
	msb := bits.Len64(u) - 1 // >= histSubBits
	shift := msb - histSubBits
	idx := histSub + shift*histSub + int(u>>shift) - histSub
	return min(idx, histBuckets-1)
}

// histLower returns the smallest value of bucket i, in nanoseconds.
func histLower(i int) int64 {
	if i < histSub {
		return int64(i) << histUnitShift
	}
	shift := (i - histSub) / histSub
	sub := (i-histSub)%histSub + histSub
	return int64(sub) << shift << histUnitShift
}

// Add counts one duration in nanoseconds.
func (h *Histogram) Add(ns int64) {
	if h.counts == nil {
		h.counts = make([]uint32, histBuckets)
	}
	h.counts[histIndex(ns)]++
	h.n++
	h.sum += float64(ns)
	h.max = max(h.max, ns)
}

// Count is how many values were added.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest value added.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the mean of the values added.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the value below which a fraction q of the values lie
// (the middle of its bucket, never more than Max), or 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			lo := histLower(i)
			hi := lo + 1<<histUnitShift
			if i+1 < histBuckets {
				hi = histLower(i + 1)
			}
			return time.Duration(min((lo+hi)/2, h.max))
		}
	}
	return time.Duration(h.max)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint32, histBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// HistogramJSON is a Histogram's sparse form in reports, so that reports
// of two processes can be merged: [bucket, count] pairs.
type HistogramJSON struct {
	Buckets [][2]uint64 `json:"buckets"`
	SumNs   float64     `json:"sum_ns"`
	MaxNs   int64       `json:"max_ns"`
}

// JSON returns the sparse form of h.
func (h *Histogram) JSON() HistogramJSON {
	j := HistogramJSON{SumNs: h.sum, MaxNs: h.max, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c > 0 {
			j.Buckets = append(j.Buckets, [2]uint64{uint64(i), uint64(c)})
		}
	}
	return j
}

// HistogramFromJSON rebuilds a Histogram from its sparse form; buckets out
// of range are ignored.
func HistogramFromJSON(j HistogramJSON) *Histogram {
	h := &Histogram{sum: j.SumNs, max: j.MaxNs}
	for _, b := range j.Buckets {
		if b[0] >= histBuckets || b[1] == 0 {
			continue
		}
		if h.counts == nil {
			h.counts = make([]uint32, histBuckets)
		}
		h.counts[b[0]] += uint32(b[1])
		h.n += b[1]
	}
	return h
}
