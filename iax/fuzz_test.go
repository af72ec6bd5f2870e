package iax

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse classifies and parses any datagram: nothing may panic, whatever
// parses must serialize back to the same bytes, and walking the IEs or trunk
// entries must either succeed or report a typed error.
func FuzzParse(f *testing.F) {
	for _, fr := range allFrames {
		f.Add(fr.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		PeekSrcCall(b)
		PeekDstCall(b)
		k, out, err := roundTrip(b)
		if err != nil {
			if !errors.Is(err, ErrTooShort) {
				t.Fatalf("kind %v: unexpected parse error %v", k, err)
			}
			return
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("kind %v round trip:\n got % x\nwant % x", k, out, b)
		}
		switch k {
		case KindFull:
			fr, _ := ParseFull(b)
			if err := RangeIEs(fr.Payload, func(IE) bool { return true }); err != nil && !errors.Is(err, ErrIELength) {
				t.Fatalf("RangeIEs: untyped error %v", err)
			}
		case KindTrunk:
			tr, _ := ParseTrunk(b)
			var rebuilt []byte
			err := tr.Range(func(e TrunkEntry) bool {
				rebuilt = AppendTrunkEntry(rebuilt, tr.HasTimestamps(), e)
				return true
			})
			if err != nil {
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("Range: untyped error %v", err)
				}
				return
			}
			if !bytes.Equal(rebuilt, tr.Entries) {
				t.Fatalf("trunk entries round trip:\n got % x\nwant % x", rebuilt, tr.Entries)
			}
		}
	})
}

// FuzzIEs treats the input as an IE payload: a payload that parses must
// serialize back to itself, and RemoveIE must leave a payload that parses,
// no longer holds the id, and is the same in place as into a new buffer.
func FuzzIEs(f *testing.F) {
	f.Add(newIEs(), byte(IECallToken))
	f.Add(concat(newIEs(), ie(0xc3, 1, 1, 0xaa)), byte(0xc3))
	f.Add([]byte{}, byte(0))
	f.Add([]byte{1, 5, 'a'}, byte(1))
	f.Fuzz(func(t *testing.T, payload []byte, id byte) {
		ies, err := ParseIEs(payload)
		if err != nil {
			if !errors.Is(err, ErrIELength) {
				t.Fatalf("ParseIEs: untyped error %v", err)
			}
			if _, err := RemoveIE(nil, payload, IEID(id)); err == nil {
				t.Fatalf("RemoveIE accepted a payload ParseIEs rejects")
			}
			return
		}
		if out := AppendIEs(nil, ies); !bytes.Equal(out, payload) {
			t.Fatalf("IE round trip:\n got % x\nwant % x", out, payload)
		}
		removed, err := RemoveIE(nil, payload, IEID(id))
		if err != nil {
			t.Fatalf("RemoveIE: %v", err)
		}
		if _, found, err := FindIE(removed, IEID(id)); err != nil || found {
			t.Fatalf("after RemoveIE: found %v, err %v", found, err)
		}
		buf := append([]byte(nil), payload...)
		inPlace, err := RemoveIE(buf[:0], buf, IEID(id))
		if err != nil || !bytes.Equal(inPlace, removed) {
			t.Fatalf("RemoveIE in place = % x, %v; want % x", inPlace, err, removed)
		}
	})
}
