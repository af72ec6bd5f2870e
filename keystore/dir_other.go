//go:build !darwin

package keystore

// DefaultDir is the state directory unless told otherwise.
const DefaultDir = LinuxDefaultDir
