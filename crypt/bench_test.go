package crypt

import (
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/iax"
	"golang.org/x/crypto/curve25519"
)

func benchSeal(b *testing.B, c Cipher) {
	is, _ := pair(b, []Cipher{c}, DefaultCiphers())
	f := miniFrame()
	dst := make([]byte, 0, len(f)+MaxOverhead)
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = is.Seal(dst[:0], f, 1, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func benchOpen(b *testing.B, c Cipher) {
	is, rs := pair(b, []Cipher{c}, DefaultCiphers())
	f := miniFrame()
	pkt, _ := is.Seal(nil, f, 1, 2)
	out := make([]byte, 0, len(pkt))
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		// Reopen the same packet: resetting the window (clearing 520 bytes)
		// is cheaper and steadier than sealing b.N distinct packets first.
		rs.recv.window.Reset()
		var err error
		if out, _, err = rs.Open(out[:0], pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealChaCha(b *testing.B) { benchSeal(b, CipherChaCha20Poly1305) }
func BenchmarkOpenChaCha(b *testing.B) { benchOpen(b, CipherChaCha20Poly1305) }
func BenchmarkSealAESGCM(b *testing.B) { benchSeal(b, CipherAES256GCM) }
func BenchmarkOpenAESGCM(b *testing.B) { benchOpen(b, CipherAES256GCM) }

// BenchmarkConfirmation is the callee's one-time check of the caller's
// confirmation (one X25519, HKDF, HMAC, commitment) inside its first Open.
func BenchmarkConfirmation(b *testing.B) {
	f := miniFrame()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		is, rs := handshake(b, DefaultCiphers(), DefaultCiphers())
		pkt, _ := is.Seal(nil, f, 1, 2)
		b.StartTimer()
		if _, now, err := rs.Open(nil, pkt); err != nil || !now {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshake is both sides of one handshake: NewInitiator,
// ParseOffer, Respond, Finish (not the confirmation).
func BenchmarkHandshake(b *testing.B) {
	a, r := newIdentity(b), newIdentity(b)
	prefs := DefaultCiphers()
	ies, aies := newIEs(), acceptIEs()
	b.ReportAllocs()
	for b.Loop() {
		init, offer, err := NewInitiator(a, 1, ies, prefs, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseOffer(offer); err != nil {
			b.Fatal(err)
		}
		_, answer, err := Respond(r, offer, 1, 2, ies, aies, prefs, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := init.Finish(answer, 2, aies); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkX25519 is one golang.org/x/crypto/curve25519.X25519 call, the
// yardstick for the handshake's cost.
func BenchmarkX25519(b *testing.B) {
	priv := make([]byte, 32)
	rand.Read(priv)
	pub, _ := curve25519.X25519(priv, curve25519.Basepoint)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := curve25519.X25519(priv, pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkECDHX25519 is one scalar multiplication with the private key
// already parsed, the cost of each DH of the handshake and confirmation
// (curve25519.X25519 above also recomputes the public key, so it costs two).
func BenchmarkECDHX25519(b *testing.B) {
	k, _ := ecdh.X25519().GenerateKey(rand.Reader)
	p, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pub := p.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// benchTrunk seals and then opens (rebuilding the cleartext frame) a trunk
// frame of n 160-byte G.711 entries, each of its own call, with trunk
// timestamps. It reports the encrypted/cleartext size ratio (issue 6
// target: at most 1.2).
func benchTrunk(b *testing.B, n int) {
	send, recv := trunkCalls(b, n)
	var entries []iax.TrunkEntry
	for i := range n {
		entries = append(entries, trunkEntry(uint16(200+i)))
	}
	frame := clearTrunk(1, 7, entries)
	tf, _ := iax.ParseTrunk(frame)
	var tb TrunkBuilder
	pkt := make([]byte, 0, 2*len(frame))
	out := make([]byte, 0, 2*len(frame))
	var err error
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		tb.Start(pkt[:0], tf.CmdData, tf.Timestamp)
		_ = tf.Range(func(e iax.TrunkEntry) bool {
			i := e.SrcCall - 200
			err = tb.Add(send[i], 100+i, e)
			return err == nil
		})
		if err != nil {
			b.Fatal(err)
		}
		r, _ := ReadTrunk(tb.Packet())
		out = r.AppendHeader(out[:0])
		for r.Next() {
			e := r.Entry()
			i := e.SenderCall - 200
			if out, _, err = recv[i].OpenTrunkEntry(out, e, 100+i); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(tb.Packet()))/float64(len(frame)), "wire/clear")
}

func BenchmarkTrunk10(b *testing.B)  { benchTrunk(b, 10) }
func BenchmarkTrunk100(b *testing.B) { benchTrunk(b, 100) }
