// Package tun owns the daemon's TUN device: it creates it (through
// golang.zx2c4.com/wireguard/tun), brings it up, and finds or removes a device
// left behind by a daemon that did not exit cleanly.
//
// On Linux the device carries no address. On Linux the application's IAX2 packets
// reach it through policy rules installed by package route; the kernel gives
// those packets the source address of the real outgoing interface, so the
// daemon can write replies back into the TUN addressed to that interface.
//
// On macOS the utun gets an IPv4 point-to-point and an IPv6 address (see
// addr.go), which XNU needs before a route or pf rule points into it.
//
// Package tun/tuntest holds a channel-backed fake of the same Device
// interface for tests that must run without root.
package tun
