package load

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Every entry comes out once, at the first advance at or after its time,
// whatever its distance (within the ring, beyond it, in the past).
func TestWheelDeliversOnTime(t *testing.T) {
	const tick = 1000
	r := rand.New(rand.NewPCG(3, 4))
	now := int64(5_000_123)
	w := newWheel(tick, 64, now)
	want := map[uint32]int64{}
	for id := range uint32(2000) {
		at := now + r.Int64N(400*tick) - 10*tick // some past, many beyond 64 slots
		want[id] = at
		w.add(id, at)
	}
	got := map[uint32]int64{}
	for step := 0; step < 500; step++ {
		now += tick/3 + r.Int64N(3*tick)
		w.advance(now, func(id uint32, at int64) {
			if _, dup := got[id]; dup {
				t.Fatalf("entry %d delivered twice", id)
			}
			if at > now {
				t.Fatalf("entry %d at %d delivered early at %d", id, at, now)
			}
			got[id] = now
		})
		for id, at := range want {
			if _, ok := got[id]; !ok && at <= now {
				t.Fatalf("entry %d at %d not delivered by %d", id, at, now)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("delivered %d of %d", len(got), len(want))
	}
}

// An entry added from the callback for a time already due is delivered in
// the same advance; one for later is not.
func TestWheelAddFromCallback(t *testing.T) {
	w := newWheel(10, 8, 0)
	w.add(1, 5)
	var order []uint32
	w.advance(25, func(id uint32, at int64) {
		order = append(order, id)
		if id == 1 {
			w.add(2, 20) // due: same advance
			w.add(3, 26) // not yet
		}
	})
	if !slices.Equal(order, []uint32{1, 2}) {
		t.Fatalf("order %v", order)
	}
	w.advance(26, func(id uint32, at int64) { order = append(order, id) })
	if !slices.Equal(order, []uint32{1, 2, 3}) || w.len() != 0 {
		t.Fatalf("order %v, %d left", order, w.len())
	}
}

func BenchmarkWheel(b *testing.B) {
	// 2,000 calls every 20 ms on 1 ms ticks.
	w := newWheel(1e6, 4096, 0)
	for id := range uint32(2000) {
		w.add(id, int64(id)*10_000)
	}
	now := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		now += 1e6
		w.advance(now, func(id uint32, at int64) { w.add(id, at+20e6) })
	}
}

// Once every slot has held entries, scheduling allocates nothing.
func TestWheelSteadyStateDoesNotAllocate(t *testing.T) {
	w := newWheel(1e6, 64, 0)
	for id := range uint32(2000) {
		w.add(id, int64(id)*10_000)
	}
	now := int64(0)
	step := func() {
		now += 1e6
		w.advance(now, func(id uint32, at int64) { w.add(id, at+20e6) })
	}
	for range 1000 {
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Fatalf("%.2f allocations per tick", a)
	}
}
