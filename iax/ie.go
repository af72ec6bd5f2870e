package iax

// MaxIEData is the most data one IE can carry: its length is one byte.
const MaxIEData = 255

// ieHeaderLen is the id byte and the length byte.
const ieHeaderLen = 2

// IE is an information element (RFC 5456 section 8.6): id, one length byte,
// then that many bytes of data.
type IE struct {
	ID   IEID
	Data []byte // aliases the payload it was parsed from
}

// RangeIEs calls fn for each IE of payload in order until fn returns false.
// It does not allocate. It returns an *IEError wrapping ErrIELength when an
// IE's header or data runs past the end of the payload (a single trailing
// byte included, as Asterisk rejects it too); fn has then been called for
// every IE before it. An empty payload holds no IEs and is valid.
func RangeIEs(payload []byte, fn func(IE) bool) error {
	for off := 0; off < len(payload); {
		ie, n, err := nextIE(payload, off)
		if err != nil {
			return err
		}
		if !fn(ie) {
			return nil
		}
		off += n
	}
	return nil
}

// nextIE parses the IE at payload[off:] and returns it with its total
// length.
func nextIE(payload []byte, off int) (IE, int, error) {
	rest := payload[off:]
	if len(rest) < ieHeaderLen {
		return IE{}, 0, &IEError{Offset: off, ID: IEID(rest[0]), Err: ErrIELength}
	}
	n := int(rest[1])
	if len(rest)-ieHeaderLen < n {
		return IE{}, 0, &IEError{Offset: off, ID: IEID(rest[0]), Err: ErrIELength}
	}
	end := ieHeaderLen + n
	// The capacity is cut so an append to Data cannot overwrite the next IE.
	return IE{ID: IEID(rest[0]), Data: rest[ieHeaderLen:end:end]}, end, nil
}

// ValidateIEs checks that payload is a well-formed sequence of IEs.
func ValidateIEs(payload []byte) error {
	return RangeIEs(payload, func(IE) bool { return true })
}

// ParseIEs returns every IE of payload in order, aliasing it. It allocates
// the slice; use RangeIEs on the hot path.
func ParseIEs(payload []byte) ([]IE, error) {
	var ies []IE
	err := RangeIEs(payload, func(ie IE) bool {
		ies = append(ies, ie)
		return true
	})
	if err != nil {
		return nil, err
	}
	return ies, nil
}

// AppendIEs appends the wire form of ies to dst and returns the extended
// slice; AppendIEs(nil, ParseIEs(p)) == p. An IE with more than MaxIEData
// bytes cannot be encoded and is left out, so the result always parses; use
// AppendIE to get an error instead.
func AppendIEs(dst []byte, ies []IE) []byte {
	for _, ie := range ies {
		if len(ie.Data) > MaxIEData {
			continue
		}
		dst = append(dst, byte(ie.ID), byte(len(ie.Data)))
		dst = append(dst, ie.Data...)
	}
	return dst
}

// AppendIE appends one IE to dst and returns the extended slice. It returns
// dst unchanged and an error wrapping ErrIETooLong when data is longer than
// MaxIEData.
func AppendIE(dst []byte, id IEID, data []byte) ([]byte, error) {
	if len(data) > MaxIEData {
		return dst, &IEError{Offset: len(dst), ID: id, Err: ErrIETooLong}
	}
	dst = append(dst, byte(id), byte(len(data)))
	return append(dst, data...), nil
}

// FindIE returns the data of the first IE with the given id. found is false
// when there is none. It checks the payload only up to that IE, so a
// malformed tail after it goes unnoticed; err reports a malformed IE met
// before it.
func FindIE(payload []byte, id IEID) (data []byte, found bool, err error) {
	err = RangeIEs(payload, func(ie IE) bool {
		if ie.ID == id {
			data, found = ie.Data, true
			return false
		}
		return true
	})
	if err != nil {
		return nil, false, err
	}
	return data, found, nil
}

// RemoveIE appends payload without any IE of the given id to dst and returns
// the extended slice. The whole payload is checked first, so on error dst is
// returned unchanged. dst may be payload[:0] to remove in place: the write
// position never passes the read position.
func RemoveIE(dst, payload []byte, id IEID) ([]byte, error) {
	if err := ValidateIEs(payload); err != nil {
		return dst, err
	}
	for off := 0; off < len(payload); {
		n := ieHeaderLen + int(payload[off+1])
		if IEID(payload[off]) != id {
			// append copies with memmove semantics, so the in-place case,
			// where this IE's bytes sit at or after the write position, is
			// safe.
			dst = append(dst, payload[off:off+n]...)
		}
		off += n
	}
	return dst, nil
}
