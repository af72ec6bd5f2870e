// Package attacker is the active attacker of iaxcrypt's end-to-end tests:
// the logic of a small program (cmd/iaxattack) that sits in the middle
// namespace M of netns.NewTrio, between two hosts that run iaxcrypt beside
// iaxmodem, and does to their IAX2 traffic what issue 7 lists: strip the
// marker from NEW or ACCEPT, be a full man in the middle with two engines
// of its own, replay, duplicate and reorder encrypted frames, flip bits in
// them, inject cleartext frames into an encrypted call, and flood a daemon
// with NEWs and ACCEPTs from spoofed sources.
//
// # How packets reach it
//
// M routes between A and B. The program owns a TUN device in M; policy
// rules send every forwarded UDP packet (iif veth-a or veth-b, ipproto udp)
// to a table whose only route is the TUN, so the kernel hands the program
// whole IPv4 packets with their real addresses. What the program writes
// back into the TUN enters M as if received on it, and a rule "iif TUN
// lookup main" forwards it on to A or B: unchanged, rewritten, duplicated,
// delayed, or made up with a spoofed source (reverse-path filtering is off
// in M). Replies to spoofed sources come back the same way and are dropped
// here.
//
// Why a TUN and not the alternatives: NFQUEUE needs a netlink queue library
// that is not on the project's dependency list (and writing one is more
// than a test tool deserves); a userspace UDP relay would need NAT, so the
// hosts would see M's address instead of each other's and the daemons'
// per-peer state would not be what it is on the internet; raw sockets plus
// a bridge would have to resolve neighbours by hand. The TUN gives
// whole packets, in order, with real addresses, and an easy way to send
// forged ones, using golang.zx2c4.com/wireguard/tun through package tun as
// the daemon does.
//
// # Shape
//
// Attacker is the core: it takes one IP packet read from the TUN and the
// current time and returns the packets to write back (Handle), and hands
// out packets that fall due later (Tick: delayed frames, injections,
// floods). It does no I/O, so its rewriting is unit-tested without root.
// The mode is switched at any time with Set; Counters reports what it did,
// as JSON over the control socket (Serve, Dial). cmd/iaxattack owns the TUN,
// the rules and the loops.
//
// The attacker follows one call at a time (the tests place one call at a
// time): the caller is the sender of the last NEW it saw.
package attacker
