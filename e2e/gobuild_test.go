package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// goBinary is a program of this module that the tests build once per run,
// into a temporary directory of its own.
type goBinary struct {
	pkg  string   // the package, relative to e2e/
	name string   // the binary's name
	env  []string // added to the build's environment

	once sync.Once
	path string
	err  error
}

// get builds the program the first time and returns its path; a failed
// build fails every test that needs it.
func (b *goBinary) get(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "iaxcrypt-e2e-"+b.name+"-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, b.name)
		cmd := exec.Command("go", "build", "-o", b.path, b.pkg)
		cmd.Env = append(os.Environ(), b.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v: %s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
