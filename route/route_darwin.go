package route

import "os/exec"

// New returns the macOS router for cfg. cfg.TunName must be the utun's real
// name (utunN, from Device.Name); Table, Priority and FwMark are unused.
func New(cfg Config) (Router, error) {
	return newCmdRouter(cfg, execRunner{})
}

// Cleanup has nothing to remove on macOS: the host routes of a crashed run
// went away with its utun, which the kernel destroys when its owner dies.
func Cleanup(cfg Config) (removed []string, err error) {
	return nil, nil
}

// Leftovers lists nothing on macOS: Cleanup has nothing to remove, so
// there is nothing to take over either.
func Leftovers(cfg Config) (found []string, err error) {
	return nil, nil
}

// execRunner runs route(8) for real.
type execRunner struct{}

func (execRunner) Run(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
