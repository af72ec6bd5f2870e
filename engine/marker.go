package engine

import (
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// appendWithMarker appends f to dst with its IEs minus any marker, plus the
// given marker as the last IE.
func appendWithMarker(dst []byte, f *iax.FullFrame, marker []byte) ([]byte, error) {
	dst, err := appendWithoutMarker(dst, f)
	if err != nil {
		return nil, err
	}
	return iax.AppendIE(dst, crypt.MarkerIE, marker)
}

// appendWithoutMarker appends f to dst without its marker IEs.
func appendWithoutMarker(dst []byte, f *iax.FullFrame) ([]byte, error) {
	hdr := *f
	hdr.Payload = nil
	dst = hdr.AppendTo(dst)
	return iax.RemoveIE(dst, f.Payload, crypt.MarkerIE)
}
