//go:build !unix

package knownpeers

// fileLock is a no-op where flock does not exist.
type fileLock struct{}

func lockFile(string) (*fileLock, error) { return &fileLock{}, nil }

func (l *fileLock) release() {}
