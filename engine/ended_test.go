package engine

import (
	"testing"
	"time"
)

func TestEndedRingKeepsTheNewestInOrder(t *testing.T) {
	var r endedRing
	total := maxEndedKept + 1000
	for i := range total {
		r.push(CallInfo{LocalCall: uint16(i), Ended: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if r.len() != maxEndedKept {
		t.Fatalf("ring holds %d, want %d", r.len(), maxEndedKept)
	}
	want := total - maxEndedKept
	r.each(func(ci *CallInfo) {
		if int(ci.LocalCall) != want {
			t.Fatalf("got call %d, want %d: order lost", ci.LocalCall, want)
		}
		want++
	})
	cut := t0.Add(time.Duration(total-10) * time.Millisecond)
	r.dropOldestWhile(func(ci *CallInfo) bool { return ci.Ended.Before(cut) })
	if r.len() != 10 {
		t.Fatalf("after expiry %d left, want 10", r.len())
	}
	r.push(CallInfo{LocalCall: 1})
	if r.len() != 11 {
		t.Fatalf("push after expiry: %d, want 11", r.len())
	}
}

func BenchmarkEndedRingPush(b *testing.B) {
	b.ReportAllocs()
	var r endedRing
	for i := 0; b.Loop(); i++ {
		r.push(CallInfo{LocalCall: uint16(i)})
	}
}
