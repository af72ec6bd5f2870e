// Package iax owns the IAX2 wire format of RFC 5456: it classifies a UDP
// payload by its first bytes, parses and serializes every frame kind (full,
// mini, meta video, meta trunk and unknown meta frames) and walks, finds,
// adds and removes the information elements carried by IAX-type full frames.
//
// The package does no I/O and keeps no state. Parsers never copy: the
// returned structs alias the input buffer, so they are valid only as long as
// the caller leaves that buffer alone. Parsers never allocate on success, and
// every AppendTo is the exact inverse of its parser, so a frame that parses
// serializes back to the same bytes. Unknown frame types, subclasses, IEs and
// meta commands are kept byte for byte; only lengths that run past the end of
// the datagram are errors.
//
// The call tracker (tracker*.go) builds on the codec to follow calls.
package iax
