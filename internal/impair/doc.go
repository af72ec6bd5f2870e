// Package impair owns the impairment relay of the soak and impairment
// tests: a userspace stand-in for a lossy network (this machine's kernel
// has no netem) that sits in the middle namespace of a netns.Trio and
// relays UDP between the two hosts, dropping, duplicating, reordering and
// delaying datagrams at set rates, with a seed so that a run can be
// repeated.
//
// Impairer is the decision (pure, time passed in): what happens to each
// datagram and when it leaves. Relay is the I/O: two sockets, one facing
// each host, and one goroutine that every tick reads both (recvmmsg),
// impairs and sends what is due (sendmmsg). The hosts address the relay
// as their peer: a host on the A side sends to the relay's A-side
// address, the relay forwards from its B-side address to the B host, and
// replies go back the same way, so each daemon sees the relay as the
// other host. iaximpair is the program around it.
package impair
