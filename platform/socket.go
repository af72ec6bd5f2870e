package platform

import "net"

// ListenUDP opens one UDP socket on addr ("host:port", ":4570") with opts
// applied before bind, so that not even the first packet leaves without
// them. The daemon uses ListenUDPSockets, which gives macOS one socket per
// family.
func ListenUDP(addr string, opts SocketOptions) (*net.UDPConn, error) {
	return listenOne("udp", addr, opts)
}
