// Package platform owns what differs between operating systems outside the
// TUN device and the routing tables: the daemon's UDP socket and how it is
// kept off the TUN (Linux SO_MARK, macOS IP_BOUND_IF), the default
// interface, and the privileges the daemon needs and gives up.
package platform

// SocketOptions says how ListenUDP keeps the daemon's own packets off the
// routes into the TUN.
type SocketOptions struct {
	// FwMark is set as SO_MARK on Linux; the routing rules let marked
	// packets skip the TUN. Zero sets no mark. Ignored on macOS.
	FwMark uint32
	// BindInterface pins the socket to an interface on macOS with
	// IP_BOUND_IF / IPV6_BOUND_IF, so that host routes into the utun do
	// not catch it. "" means the interface of the default route. Ignored
	// on Linux.
	BindInterface string
}
