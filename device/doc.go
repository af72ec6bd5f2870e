// Package device is iaxcrypt's data path. It reads the application's IAX2
// datagrams from the TUN device, passes their UDP payload through the engine
// and sends the result from the daemon's UDP socket; datagrams arriving on
// that socket go through the engine the other way and are written into the
// TUN as UDP packets from the peer to the application.
//
// The pipeline, one goroutine each:
//
//	RoutineReadFromTUN:  TUN.Read (batch) -> ParseUDP -> Engine.Outbound -> Conn.WriteBatch
//	RoutineReadFromUDP:  Conn.ReadBatch -> Engine.Inbound -> BuildUDP -> TUN.Write (batch)
//	RoutineTimer:        Engine.Expire every ExpireInterval
//
// Packets the engine makes itself (Engine.TakeInjected) are sent by
// whichever routine ran the engine last, after its batch. Every buffer is
// owned by one routine and reused; nothing on the packet path allocates.
// A packet that cannot be handled is dropped and counted, never fatal.
//
// Not everything read from the TUN is the application's IAX2. On Linux a
// peer added with "iaxcrypt route add" is routed into the TUN for all its
// UDP (rule "to PEER ipproto udp"), so DNS, NTP or syslog to that host
// arrive too; on macOS a peer's host route catches every IP packet to it.
// Such packets are sent out unchanged through Config.Raw, a raw IP socket
// that the routes into the TUN do not catch (Linux: SO_MARK with the
// daemon's fwmark; macOS: IP_BOUND_IF to the physical interface), and are
// counted as PassedThrough. Their replies come back on the real interface
// straight to the program that sent them, never through the daemon. Kept
// out of that path and dropped (NotIAX): malformed packets, the kernel's
// multicast and link-local chatter on the TUN, every UDP fragment and any
// UDP from the application port that cannot be parsed (it could be IAX2,
// which must never leave in clear), and ICMP errors quoting the
// application's datagrams. Without Config.Raw everything that is not IAX2
// is dropped.
//
//	RoutineReadFromTUN:  TUN.Read -> classifyTUN -> (not IAX2) RawSender.SendIP
package device
