package device

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	wgtun "golang.zx2c4.com/wireguard/tun"

	"github.com/iaxcrypt/iaxcrypt/engine"
)

// RoutineReadFromTUN reads the application's packets from the TUN in
// batches, passes each UDP payload from the application port through
// Engine.Outbound and sends the results to the peers from the socket.
// Other traffic to a routed peer goes out unchanged through Config.Raw
// (see classifyTUN for what is passed and what is dropped).
// It returns when the TUN is closed.
func (d *Device) RoutineReadFromTUN() {
	defer d.wg.Done()
	batch := clampBatch(d.tun.BatchSize())
	bufs := make([][]byte, batch)
	outs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, tunOffset+maxDatagram)
		outs[i] = make([]byte, maxDatagram+engine.Overhead)
	}
	sizes := make([]int, batch)
	msgs := make([]Message, 0, batch)
	inj := newInjector(d)
	var backoff time.Duration
	for {
		n, err := d.tun.Read(bufs, sizes, tunOffset)
		if d.isClosing() {
			return
		}
		if err != nil {
			if errors.Is(err, wgtun.ErrTooManySegments) {
				d.stats.readErrors.Add(1)
			} else if isClosedErr(err) {
				d.log.Error("TUN device closed under the daemon; the data path stops", "err", err)
				return
			} else if !d.pause(&backoff, "read from TUN", err) {
				return
			}
		} else {
			backoff = 0
		}
		now := d.clock()
		msgs = msgs[:0]
		for i := range n {
			pkt := bufs[i][tunOffset : tunOffset+sizes[i]]
			p, verdict := classifyTUN(pkt, d.appPort)
			if verdict == verdictProbe {
				d.recordProbe(p, now)
				continue
			}
			if verdict == verdictPass && d.raw != nil {
				d.passThrough(pkt)
				continue
			}
			if verdict != verdictIAX {
				d.stats.notIAX.Add(1)
				continue
			}
			d.stats.fromApp.Add(1)
			peer := netip.AddrPortFrom(p.Dst.Addr().Unmap(), p.Dst.Port())
			d.learnAppAddr(peer.Addr(), p.Src.Addr().Unmap())
			res := d.eng.Outbound(now, peer, p.Payload, outs[i])
			if res.Verdict != engine.Forward {
				if res.Verdict == engine.Drop {
					d.stats.engineDrops.Add(1)
				}
				continue
			}
			msgs = append(msgs, Message{Buf: res.Packet, Addr: peer})
		}
		d.sendToNetwork(msgs)
		inj.flush()
	}
}

// passThrough sends pkt, which is not the application's IAX2, unchanged on
// the real network. A failure is counted and logged at debug level; replies
// come back on the real interface, not through the daemon.
func (d *Device) passThrough(pkt []byte) {
	if err := d.raw.SendIP(pkt); err != nil {
		d.stats.passThroughErrors.Add(1)
		if !d.isClosing() {
			d.log.Debug("pass-through send failed", "err", err)
		}
		return
	}
	d.stats.passedThrough.Add(1)
}

// sendToNetwork sends msgs from the socket of their peer's family (see
// Config.Conn6), one run of the same family at a time so nothing is
// copied. A datagram that fails is counted and skipped; the rest are still
// sent.
func (d *Device) sendToNetwork(msgs []Message) {
	if d.conn6 == nil {
		d.sendFrom(d.conn, msgs)
		return
	}
	for len(msgs) > 0 {
		v6 := msgs[0].Addr.Addr().Unmap().Is6()
		run := 1
		for run < len(msgs) && msgs[run].Addr.Addr().Unmap().Is6() == v6 {
			run++
		}
		if v6 {
			d.sendFrom(d.conn6, msgs[:run])
		} else {
			d.sendFrom(d.conn, msgs[:run])
		}
		msgs = msgs[run:]
	}
}

func (d *Device) sendFrom(conn UDPConn, msgs []Message) {
	for len(msgs) > 0 {
		n, err := conn.WriteBatch(msgs)
		d.stats.toNetwork.Add(uint64(n))
		if err == nil {
			if n == 0 {
				// A conn that makes no progress without an error:
				// give up on this batch rather than spin.
				d.stats.sendErrors.Add(uint64(len(msgs)))
				return
			}
			msgs = msgs[n:]
			continue
		}
		if isClosedErr(err) || d.isClosing() {
			d.stats.sendErrors.Add(uint64(len(msgs) - n))
			return
		}
		d.stats.sendErrors.Add(1)
		d.log.Debug("send to peer failed", "peer", msgs[n].Addr, "err", err)
		msgs = msgs[n+1:]
	}
}

// writeToTUN writes bufs (each with tunOffset bytes of headroom) into the
// TUN, counting what it could not write.
func (d *Device) writeToTUN(bufs [][]byte) {
	if len(bufs) == 0 {
		return
	}
	// The TUN's Write returns bytes, not packets; a failed batch reports
	// one joined error per packet it could not write.
	_, err := d.tun.Write(bufs, tunOffset)
	failed := 0
	if err != nil {
		failed = 1
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			failed = min(len(j.Unwrap()), len(bufs))
		}
		d.stats.writeErrors.Add(uint64(failed))
		if !d.isClosing() {
			d.log.Debug("write to TUN failed", "packets", failed, "err", err)
		}
	}
	d.stats.toApp.Add(uint64(len(bufs) - failed))
}

// pause waits before retrying a failed read, longer each time up to 100 ms,
// so a device in a bad state does not spin. It reports false when the
// device is closing.
func (d *Device) pause(backoff *time.Duration, what string, err error) bool {
	d.stats.readErrors.Add(1)
	if *backoff == 0 {
		d.log.Warn(what+" failed; retrying", "err", err)
		*backoff = time.Millisecond
	} else if *backoff < 100*time.Millisecond {
		*backoff *= 2
	}
	t := time.NewTimer(*backoff)
	defer t.Stop()
	select {
	case <-d.closing:
		return false
	case <-t.C:
		return true
	}
}

func clampBatch(n int) int {
	return min(max(n, 1), maxBatch)
}

func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF)
}
