package iax

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRangeIEs(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		ids     []IEID
		lens    []int
		errOff  int // -1: no error
		errID   IEID
	}{
		{"empty", nil, nil, nil, -1, 0},
		{"one empty IE", ie(IECallToken), []IEID{IECallToken}, []int{0}, -1, 0},
		{"unknown ids kept", concat(ie(200, 1, 2), ie(255), ie(0, 9)), []IEID{200, 255, 0}, []int{2, 0, 1}, -1, 0},
		{"max length", ie(IEVariable, make([]byte, 255)...), []IEID{IEVariable}, []int{255}, -1, 0},
		{"trailing id byte", concat(ie(IEVersion, 0, 2), []byte{byte(IECalledNumber)}), []IEID{IEVersion}, []int{2}, 4, IECalledNumber},
		{"length past end", concat(ie(IEVersion, 0, 2), []byte{byte(IEUsername), 5, 'a', 'b'}), []IEID{IEVersion}, []int{2}, 4, IEUsername},
		{"first IE bad", []byte{byte(IEFormat), 4, 0}, nil, nil, 0, IEFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []IEID
			var lens []int
			err := RangeIEs(tt.payload, func(e IE) bool {
				ids = append(ids, e.ID)
				lens = append(lens, len(e.Data))
				return true
			})
			if tt.errOff < 0 {
				if err != nil {
					t.Fatalf("RangeIEs: %v", err)
				}
			} else {
				var ieErr *IEError
				if !errors.As(err, &ieErr) || !errors.Is(err, ErrIELength) {
					t.Fatalf("RangeIEs error = %v, want *IEError wrapping ErrIELength", err)
				}
				if ieErr.Offset != tt.errOff || ieErr.ID != tt.errID {
					t.Errorf("error at offset %d id %v, want %d %v", ieErr.Offset, ieErr.ID, tt.errOff, tt.errID)
				}
				if !strings.Contains(err.Error(), tt.errID.String()) {
					t.Errorf("error text %q does not name the IE", err)
				}
			}
			if !equalIDs(ids, tt.ids) || !equalInts(lens, tt.lens) {
				t.Errorf("visited ids %v lens %v, want %v %v", ids, lens, tt.ids, tt.lens)
			}
		})
	}
}

func equalIDs(a, b []IEID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRangeIEsStops(t *testing.T) {
	n := 0
	err := RangeIEs(newIEs(), func(IE) bool { n++; return n < 3 })
	if err != nil || n != 3 {
		t.Errorf("stopped after %d IEs, err %v; want 3, nil", n, err)
	}
}

// TestIEDataCapacity checks that appending to one IE's data cannot clobber
// the IE after it in the shared payload.
func TestIEDataCapacity(t *testing.T) {
	payload := concat(ieStr(IEUsername, "ab"), ieStr(IEPassword, "cd"))
	ies, err := ParseIEs(payload)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(ies[0].Data, 'X')
	if !bytes.Equal(payload, concat(ieStr(IEUsername, "ab"), ieStr(IEPassword, "cd"))) {
		t.Errorf("append to IE data changed the payload: % x", payload)
	}
}

func TestParseAppendIEs(t *testing.T) {
	payload := newIEs()
	ies, err := ParseIEs(payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(ies) != 19 {
		t.Errorf("ParseIEs gave %d IEs, want 19", len(ies))
	}
	if ies[1].ID != IECalledNumber || string(ies[1].Data) != "100" {
		t.Errorf("second IE = %v %q, want CALLED NUMBER \"100\"", ies[1].ID, ies[1].Data)
	}
	if out := AppendIEs(nil, ies); !bytes.Equal(out, payload) {
		t.Errorf("AppendIEs(ParseIEs(p)) != p:\n got % x\nwant % x", out, payload)
	}
	if _, err := ParseIEs(payload[:len(payload)-3]); !errors.Is(err, ErrIELength) {
		t.Errorf("ParseIEs of a cut payload: %v, want ErrIELength", err)
	}
	// An IE too long to encode is left out, so the result still parses.
	out := AppendIEs(nil, []IE{{ID: IEVariable, Data: make([]byte, 256)}, {ID: IECallToken}})
	if !bytes.Equal(out, ie(IECallToken)) {
		t.Errorf("AppendIEs with an over-long IE = % x", out)
	}
}

func TestAppendIE(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		err  error
	}{
		{"empty", nil, nil},
		{"255", make([]byte, 255), nil},
		{"256", make([]byte, 256), ErrIETooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{0xaa}
			out, err := AppendIE(dst, 0xc3, tt.data)
			if !errors.Is(err, tt.err) {
				t.Fatalf("AppendIE error = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !bytes.Equal(out, dst) {
					t.Errorf("dst changed on error: % x", out)
				}
				return
			}
			want := concat([]byte{0xaa}, ie(0xc3, tt.data...))
			if !bytes.Equal(out, want) {
				t.Errorf("AppendIE = % x, want % x", out, want)
			}
		})
	}
}

func TestFindIE(t *testing.T) {
	payload := concat(newIEs(), ieStr(IEUsername, "second"))
	tests := []struct {
		name    string
		payload []byte
		id      IEID
		data    string
		found   bool
		err     error
	}{
		{"first of two", payload, IEUsername, "iaxmodem", true, nil},
		{"empty data", payload, IECallToken, "", true, nil},
		{"absent", payload, 0xc3, "", false, nil},
		{"empty payload", nil, IEUsername, "", false, nil},
		{"malformed before", concat([]byte{1, 9}, ieStr(IEUsername, "x")), IEUsername, "", false, ErrIELength},
		{"malformed after is not seen", concat(ieStr(IEUsername, "x"), []byte{1, 9}), IEUsername, "x", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, found, err := FindIE(tt.payload, tt.id)
			if !errors.Is(err, tt.err) {
				t.Fatalf("FindIE error = %v, want %v", err, tt.err)
			}
			if string(data) != tt.data || found != tt.found {
				t.Errorf("FindIE = %q, %v; want %q, %v", data, found, tt.data, tt.found)
			}
		})
	}
}

func TestRemoveIE(t *testing.T) {
	marker := ie(0xc3, 1, 1, 0xaa, 0xbb)
	tests := []struct {
		name    string
		payload []byte
		id      IEID
		want    []byte
		err     error
	}{
		{"marker at end", concat(newIEs(), marker), 0xc3, newIEs(), nil},
		{"marker first", concat(marker, newIEs()), 0xc3, newIEs(), nil},
		{"every copy", concat(marker, ie(IEVersion, 0, 2), marker, marker), 0xc3, ie(IEVersion, 0, 2), nil},
		{"absent", newIEs(), 0xc3, newIEs(), nil},
		{"only the marker", marker, 0xc3, []byte{}, nil},
		{"empty", nil, 0xc3, []byte{}, nil},
		{"malformed", concat(marker, []byte{1}), 0xc3, nil, ErrIELength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("hdr")
			out, err := RemoveIE(dst, tt.payload, tt.id)
			if !errors.Is(err, tt.err) {
				t.Fatalf("RemoveIE error = %v, want %v", err, tt.err)
			}
			if err != nil {
				if string(out) != "hdr" {
					t.Errorf("dst changed on error: %q", out)
				}
				return
			}
			if string(out[:3]) != "hdr" || !bytes.Equal(out[3:], tt.want) {
				t.Errorf("RemoveIE = % x, want hdr then % x", out, tt.want)
			}

			// The same removal in place must give the same bytes.
			buf := append([]byte(nil), tt.payload...)
			inPlace, err := RemoveIE(buf[:0], buf, tt.id)
			if err != nil {
				t.Fatalf("in place: %v", err)
			}
			if !bytes.Equal(inPlace, tt.want) {
				t.Errorf("RemoveIE in place = % x, want % x", inPlace, tt.want)
			}
		})
	}
}

// TestRemoveIEInFullFrame is the engine's use: strip the marker from a NEW
// inside the datagram's own buffer and reserialize.
func TestRemoveIEInFullFrame(t *testing.T) {
	withMarker := concat(frameNew, ie(0xc3, 1, 1, 2, 3))
	f, err := ParseFull(withMarker)
	if err != nil {
		t.Fatal(err)
	}
	f.Payload, err = RemoveIE(f.Payload[:0], f.Payload, 0xc3)
	if err != nil {
		t.Fatal(err)
	}
	if out := f.AppendTo(nil); !bytes.Equal(out, frameNew) {
		t.Errorf("NEW without the marker differs from the original")
	}
}
