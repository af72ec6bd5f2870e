package iax

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseVideo(t *testing.T) {
	v, err := ParseVideo(frameVideo)
	if err != nil {
		t.Fatal(err)
	}
	if v.SrcCall != 0x0123 || v.Timestamp != 0x8456 || !v.Marker() || string(v.Payload) != "h264 nal" {
		t.Errorf("ParseVideo = %+v", v)
	}
	if out := v.AppendTo(nil); !bytes.Equal(out, frameVideo) {
		t.Errorf("AppendTo = % x, want % x", out, frameVideo)
	}
	noMark := VideoFrame{SrcCall: 5, Timestamp: 0x0456}
	if noMark.Marker() {
		t.Errorf("Marker with the top bit clear")
	}

	errTests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTooShort},
		{"header cut", frameVideo[:5], ErrTooShort},
		{"trunk", frameTrunk, ErrNotVideo},
		{"mini", frameMini, ErrNotVideo},
		{"full", frameAck, ErrNotVideo},
	}
	for _, tt := range errTests {
		if _, err := ParseVideo(tt.b); !errors.Is(err, tt.err) {
			t.Errorf("%s: ParseVideo error = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestParseTrunk(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		ts      bool
		stamp   uint32
		entries []TrunkEntry
	}{
		{"without timestamps", frameTrunk, false, 0x10010, []TrunkEntry{
			{SrcCall: 0x0123, Data: []byte("abc")},
			{SrcCall: 0x0234, Retransmit: true, Data: []byte("de")},
		}},
		{"with timestamps", frameTrunkTS, true, 0x10020, []TrunkEntry{
			{SrcCall: 0x0123, Timestamp: 0x14, HasTimestamp: true, Data: []byte("abc")},
			{SrcCall: 0x0234, Retransmit: true, Timestamp: 0x28, HasTimestamp: true, Data: []byte{}},
		}},
		{"no entries", []byte{0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef}, false, 0xdeadbeef, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ParseTrunk(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if tr.HasTimestamps() != tt.ts || tr.Timestamp != tt.stamp {
				t.Errorf("HasTimestamps %v Timestamp %#x, want %v %#x", tr.HasTimestamps(), tr.Timestamp, tt.ts, tt.stamp)
			}
			var got []TrunkEntry
			if err := tr.Range(func(e TrunkEntry) bool { got = append(got, e); return true }); err != nil {
				t.Fatalf("Range: %v", err)
			}
			if len(got) != len(tt.entries) {
				t.Fatalf("Range gave %d entries, want %d", len(got), len(tt.entries))
			}
			var rebuilt []byte
			for i, e := range got {
				w := tt.entries[i]
				if e.SrcCall != w.SrcCall || e.Retransmit != w.Retransmit || e.Timestamp != w.Timestamp ||
					e.HasTimestamp != w.HasTimestamp || !bytes.Equal(e.Data, w.Data) {
					t.Errorf("entry %d = %+v, want %+v", i, e, w)
				}
				rebuilt = AppendTrunkEntry(rebuilt, tt.ts, e)
			}
			if !bytes.Equal(rebuilt, tr.Entries) {
				t.Errorf("AppendTrunkEntry = % x, want % x", rebuilt, tr.Entries)
			}
			if out := tr.AppendTo(nil); !bytes.Equal(out, tt.b) {
				t.Errorf("AppendTo = % x, want % x", out, tt.b)
			}
		})
	}
}

func TestTrunkRangeStops(t *testing.T) {
	tr, err := ParseTrunk(frameTrunk)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := tr.Range(func(TrunkEntry) bool { n++; return false }); err != nil || n != 1 {
		t.Errorf("Range after false: %d calls, err %v; want 1, nil", n, err)
	}
}

func TestTrunkRangeTruncated(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		visited int
	}{
		{"data cut", frameTrunk[:len(frameTrunk)-1], 1},
		{"second header cut", frameTrunk[:8+7+2], 1},
		{"first header cut", frameTrunk[:8+3], 0},
		{"ts data cut", frameTrunkTS[:8+6+2], 0},
		{"ts second header cut", frameTrunkTS[:len(frameTrunkTS)-1], 1},
		{"length 0xffff", []byte{0, 0, 1, 0, 0, 0, 0, 0, 0x00, 0x01, 0xff, 0xff, 1, 2}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ParseTrunk(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = tr.Range(func(TrunkEntry) bool { n++; return true })
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("Range error = %v, want ErrTruncated", err)
			}
			if n != tt.visited {
				t.Errorf("visited %d entries before the error, want %d", n, tt.visited)
			}
		})
	}
}

func TestParseTrunkErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTooShort},
		{"header cut", frameTrunk[:7], ErrTooShort},
		{"meta 0x45", frameMeta, ErrNotTrunk},
		{"video", frameVideo, ErrNotTrunk},
		{"full", frameAck, ErrNotTrunk},
	}
	for _, tt := range tests {
		if _, err := ParseTrunk(tt.b); !errors.Is(err, tt.err) {
			t.Errorf("%s: ParseTrunk error = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestAppendTrunkEntryTooLong(t *testing.T) {
	dst := []byte{1}
	out := AppendTrunkEntry(dst, false, TrunkEntry{SrcCall: 1, Data: make([]byte, 65536)})
	if !bytes.Equal(out, dst) {
		t.Errorf("an entry of 65,536 bytes was appended (%d bytes)", len(out))
	}
}

func TestParseMeta(t *testing.T) {
	m, err := ParseMeta(frameMeta)
	if err != nil {
		t.Fatal(err)
	}
	if m.Command != 0x45 || !bytes.Equal(m.Rest, frameMeta[3:]) {
		t.Errorf("ParseMeta = %+v", m)
	}
	if out := m.AppendTo(nil); !bytes.Equal(out, frameMeta) {
		t.Errorf("AppendTo = % x, want % x", out, frameMeta)
	}
	errTests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"two bytes", []byte{0, 0}, ErrTooShort},
		{"trunk", frameTrunk, ErrNotMeta},
		{"video", frameVideo, ErrNotMeta},
		{"mini", frameMini, ErrNotMeta},
		{"full", frameAck, ErrNotMeta},
	}
	for _, tt := range errTests {
		if _, err := ParseMeta(tt.b); !errors.Is(err, tt.err) {
			t.Errorf("%s: ParseMeta error = %v, want %v", tt.name, err, tt.err)
		}
	}
}
