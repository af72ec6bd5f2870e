//go:build !linux

// Command iaxattack is the attacker of iaxcrypt's end-to-end tests; it
// needs Linux network namespaces and exists only there.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "iaxattack: Linux only (it runs inside a network namespace of the end-to-end tests)")
	os.Exit(1)
}
