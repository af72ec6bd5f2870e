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
// On Linux the application's packets reach the TUN through a policy rule on
// its source port, so everything read from the TUN is expected to be UDP
// from the application port; anything else is counted and dropped. On macOS,
// where a peer's whole address is routed into the TUN, non-IAX traffic to
// that peer would have to be passed through a raw socket; that is not done
// yet and such packets are dropped and counted as NotIAX.
package device
