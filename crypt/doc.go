// Package crypt owns iaxcrypt's cryptography, protocol version 2: the Noise
// NX handshake carried in the marker information element of NEW and ACCEPT
// (with the call's context bound into it), the caller's hash commitment and
// confirmation, the key schedule, the short authentication string, the
// encrypted frame and the encrypted trunk frame (IAX2 meta frames) with
// their anti-replay window, and the wiping of key material.
//
// The package does no I/O and reads no clock. Randomness comes in through an
// io.Reader so test vectors are reproducible. The wire format is specified in
// docs/protocol.md; crypt/vectors_test.go checks the test vectors printed
// there.
package crypt
