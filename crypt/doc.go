// Package crypt owns iaxcrypt's cryptography: the Noise IX handshake carried
// in the marker information element of NEW and ACCEPT, the key schedule, the
// short authentication string, and the encrypted frame (an IAX2 meta frame)
// with its anti-replay window.
//
// The package does no I/O and reads no clock. Randomness comes in through an
// io.Reader so test vectors are reproducible. The wire format is specified in
// docs/protocol.md; crypt/vectors_test.go checks the test vectors printed
// there.
package crypt
