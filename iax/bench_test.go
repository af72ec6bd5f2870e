package iax

import "testing"

func BenchmarkClassify(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Classify(frameMini); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseMini parses 20 ms of G.711: a 4-byte header and 160 bytes.
func BenchmarkParseMini(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(frameMini)))
	for b.Loop() {
		if _, err := ParseMini(frameMini); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFull(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(frameNew)))
	for b.Loop() {
		if _, err := ParseFull(frameNew); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRangeIEs walks the 19 IEs of a realistic NEW.
func BenchmarkRangeIEs(b *testing.B) {
	payload := frameNew[FullHeaderLen:]
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	n := 0
	for b.Loop() {
		if err := RangeIEs(payload, func(IE) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRemoveIEInPlace(b *testing.B) {
	src := concat(frameNew[FullHeaderLen:], ie(0xc3, make([]byte, 66)...))
	buf := make([]byte, len(src))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, src)
		if _, err := RemoveIE(buf[:0], buf, 0xc3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFullAppendTo(b *testing.B) {
	f, _ := ParseFull(frameNew)
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.AppendTo(buf[:0])
	}
}

func BenchmarkTrunkRange(b *testing.B) {
	tr, _ := ParseTrunk(frameTrunkTS)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := tr.Range(func(TrunkEntry) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
	}
}
