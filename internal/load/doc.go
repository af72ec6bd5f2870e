// Package load generates and measures synthetic IAX2 call load: many
// concurrent calls with a real call set-up (NEW retransmitted until the
// ACCEPT, ACK, ANSWER, HANGUP), G.711-sized voice every 20 ms (a full voice
// frame first and whenever the 16-bit mini-frame timestamp wraps, mini
// frames otherwise, or Asterisk-style trunk frames), and, on the receiving
// side, delivered frames, loss, duplicates, reordering, corruption, one-way
// latency percentiles and jitter per call and overall.
//
// It owns the generator's protocol logic (Host: pure, time passed in, no
// I/O), the schedule of all calls (one timer wheel, not a goroutine per
// call), the voice payload format, the statistics and the report; Run drives
// a Host over a BatchConn (recvmmsg/sendmmsg through golang.org/x/net on
// Linux) with one receiving goroutine and one ticking goroutine.
//
// Every voice payload carries a magic, the call's index, a sequence number,
// the time it was sent on a clock shared by all processes of the host
// (the wall clock, which the kernel also stamps received datagrams
// with), and a fill pattern derived from the index and
// sequence number, so the receiver can tell loss, duplicates, reordering,
// corruption and misrouting apart and measure one-way latency between two
// processes in different network namespaces of the same machine.
//
// cmd/iaxload is the command line around it.
package load
