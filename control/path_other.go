//go:build !darwin

package control

// DefaultPath is where the daemon listens unless told otherwise.
const DefaultPath = LinuxDefaultPath
