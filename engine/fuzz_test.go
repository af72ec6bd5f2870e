package engine

import (
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// FuzzEngine feeds a random sequence of datagrams, from the application and
// from the network, into an engine whose call with the peer is encrypted
// both ways. Nothing may panic, no datagram of the encrypted call may leave
// in clear, and no cleartext datagram claiming the call may reach the
// application (but a faithful retransmission of the ACCEPT).
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 4, 0x01, 0x01, 0x00, 0x10})
	f.Add(append([]byte{1, 12}, iaxFrame(fb{src: callB, dst: callA, ts: 9, oseq: 1, iseq: 2}, iax.IAXHangup)...))
	f.Add(append([]byte{0, byte(len(newFrame(0)))}, newFrame(0)...))
	f.Add([]byte{1, 20, 0, 0, crypt.MetaCommand, 1, 0x02, 0x02, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4})
	f.Add([]byte{0, 8, 0, 0, 1, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
		l := newLink(t, a, b)
		establish(t, l)
		l.mustArrive("B", mini(callB, 30, 20)) // A has now seen B switch
		out := make([]byte, 0, 4096)
		for len(data) >= 2 {
			dir, n := data[0], int(data[1])
			data = data[2:]
			if n > len(data) {
				n = len(data)
			}
			pkt := data[:n]
			data = data[n:]
			if dir&1 == 0 {
				r := a.eng.Outbound(l.now, addrB, pkt, out)
				src, ok := iax.PeekSrcCall(pkt)
				encryptedCall := ok && src == callA && a.call(t, l.now, callA).Encrypted
				// A NEW without the R bit from the application starts a
				// new call even with the number of an answered one (the
				// application restarted): it is not the encrypted call's.
				if f, err := iax.ParseFull(pkt); err == nil && !f.Retransmit {
					if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXNew {
						encryptedCall = false
					}
				}
				if r.Verdict == Forward && encryptedCall && !crypt.IsEncryptedFrame(r.Packet) && !hasMarker(r.Packet) {
					if k, err := iax.Classify(pkt); err == nil && k != iax.KindTrunk && k != iax.KindMeta {
						t.Fatalf("a frame of the encrypted call left in clear: in %x out %x", pkt, r.Packet)
					}
				}
			} else {
				r := a.eng.Inbound(l.now, addrB, pkt, out)
				src, ok := iax.PeekSrcCall(pkt)
				claims := ok && src == callB && !crypt.IsEncryptedFrame(pkt)
				if k, err := iax.Classify(pkt); err != nil || k == iax.KindTrunk || k == iax.KindMeta {
					claims = false
				}
				if r.Verdict == Forward && claims && !hasMarker(pkt) {
					t.Fatalf("a cleartext frame claiming the encrypted call reached the application: %x", pkt)
				}
			}
			a.eng.TakeInjected(nil)
		}
	})
}
