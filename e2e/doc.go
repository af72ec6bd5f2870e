// Package e2e runs iaxcrypt as users do: the real binary in network
// namespaces beside real iaxmodem peers, with tshark on the wire. It has
// only tests; see harness_test.go.
package e2e
