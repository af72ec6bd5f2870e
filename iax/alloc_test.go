package iax

import "testing"

// TestHotPathDoesNotAllocate holds the package to its promise: classifying,
// peeking at and parsing a datagram, and walking its IEs or trunk entries,
// allocate nothing.
func TestHotPathDoesNotAllocate(t *testing.T) {
	var sink uint32
	newPayload := frameNew[FullHeaderLen:]
	trunk, err := ParseTrunk(frameTrunkTS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fn   func()
	}{
		{"Classify", func() { k, _ := Classify(frameMini); sink += uint32(k) }},
		{"PeekSrcCall", func() { c, _ := PeekSrcCall(frameNew); sink += uint32(c) }},
		{"PeekDstCall", func() { c, _ := PeekDstCall(frameAck); sink += uint32(c) }},
		{"ParseFull", func() { f, _ := ParseFull(frameNew); sink += f.Timestamp }},
		{"ParseMini", func() { m, _ := ParseMini(frameMini); sink += uint32(m.Timestamp) }},
		{"ParseVideo", func() { v, _ := ParseVideo(frameVideo); sink += uint32(v.Timestamp) }},
		{"ParseTrunk", func() { tr, _ := ParseTrunk(frameTrunk); sink += tr.Timestamp }},
		{"ParseMeta", func() { m, _ := ParseMeta(frameMeta); sink += uint32(m.Command) }},
		{"RangeIEs", func() {
			_ = RangeIEs(newPayload, func(e IE) bool { sink += uint32(len(e.Data)); return true })
		}},
		{"FindIE", func() { d, _, _ := FindIE(newPayload, IECallToken); sink += uint32(len(d)) }},
		{"TrunkFrame.Range", func() {
			_ = trunk.Range(func(e TrunkEntry) bool { sink += uint32(e.SrcCall); return true })
		}},
		{"ParseFull error", func() { _, err := ParseFull(frameMini); sink += uint32(len(err.Error())) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
	_ = sink
}

// TestAppendDoesNotAllocateWithRoom checks that serializing into a buffer
// with enough capacity does not allocate, so the engine can reuse buffers.
func TestAppendDoesNotAllocateWithRoom(t *testing.T) {
	buf := make([]byte, 0, 2048)
	f, _ := ParseFull(frameNew)
	m, _ := ParseMini(frameMini)
	payload := frameNew[FullHeaderLen:]
	tests := []struct {
		name string
		fn   func()
	}{
		{"FullFrame.AppendTo", func() { buf = f.AppendTo(buf[:0]) }},
		{"MiniFrame.AppendTo", func() { buf = m.AppendTo(buf[:0]) }},
		{"RemoveIE", func() { buf, _ = RemoveIE(buf[:0], payload, IECallToken) }},
		{"AppendIE", func() { buf, _ = AppendIE(buf[:0], 0xc3, payload[:100]) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
}
