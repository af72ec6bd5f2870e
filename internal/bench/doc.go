// Package bench owns iaxcrypt's side-by-side data-path benchmark (`make
// bench`): the same synthetic call load (internal/load) through the direct
// path, two iaxcrypt daemons with --policy off, two daemons encrypting,
// and two userspace wireguard-go peers, in network namespaces on one
// machine, ramping the number of calls; and the report it writes,
// docs/benchmarks.md, with a table, an SVG plot and the machine it ran on.
//
// The harness itself is a test behind the build tag netbench (it needs
// root and takes minutes); this package's plain code is what it measures
// with and writes: /proc readings of the daemons (CPU time, RSS), the
// capacity rule, the Markdown and the plot, all testable without root.
// The wireguard-go peer is the program in wgpeer/.
package bench
