package device

import "unsafe"

// unsafePointer points at b's first byte, for reading and writing control
// message headers in place; b must be at least unix.SizeofCmsghdr long.
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
