package iax

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is; the IE and trunk
// walkers wrap them with the offset (and IE id) where parsing stopped.
var (
	// ErrTooShort means the datagram is shorter than the header of its kind.
	ErrTooShort = errors.New("iax: datagram too short")
	// ErrTruncated means a trunk entry's header or data runs past the end of
	// the datagram.
	ErrTruncated = errors.New("iax: truncated")
	// ErrIELength means an IE's header or data runs past the end of the
	// payload.
	ErrIELength = errors.New("iax: IE length runs past the end of the payload")
	// ErrIETooLong means IE data longer than the 255 bytes its length byte
	// can express.
	ErrIETooLong = errors.New("iax: IE data longer than 255 bytes")
	// ErrNotFull means the F bit is clear: not a full frame.
	ErrNotFull = errors.New("iax: not a full frame")
	// ErrNotMini means the datagram is not a mini frame (F bit set or a zero
	// call number, which marks a meta frame).
	ErrNotMini = errors.New("iax: not a mini frame")
	// ErrNotVideo means the datagram is not a meta video frame.
	ErrNotVideo = errors.New("iax: not a meta video frame")
	// ErrNotTrunk means the datagram is not a meta trunk frame.
	ErrNotTrunk = errors.New("iax: not a meta trunk frame")
	// ErrNotMeta means the datagram does not start with the 16 zero bits of
	// a meta frame, or is a video frame.
	ErrNotMeta = errors.New("iax: not a meta frame")
)

// IEError reports which information element could not be parsed (Err is
// ErrIELength) or encoded (Err is ErrIETooLong), and where.
type IEError struct {
	Offset int  // offset of the IE's id byte in the payload (or in dst)
	ID     IEID // the IE's id byte
	Err    error
}

func (e *IEError) Error() string {
	return fmt.Sprintf("IE %s at offset %d: %v", e.ID, e.Offset, e.Err)
}

func (e *IEError) Unwrap() error { return e.Err }
