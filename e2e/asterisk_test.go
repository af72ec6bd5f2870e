package e2e

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/asterisktest"
	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// The Asterisk tests run real Asterisk 22 PBXs (built by
// scripts/asterisk-build.sh; they skip without it) and send a one-page fax
// between iaxmodems registered to them. See pbx_harness_test.go for the
// set-up.

// pbxPair sets up two offices on a veth pair, A (10.77.0.1) and B
// (10.77.0.2), with iaxcrypt where asked, the PBXs' sections for each other
// extended by peerOpts, and a capture on A's veth.
func pbxPair(t *testing.T, in asterisktest.Install, prefix string, cryptA, cryptB bool, peerOpts ...string) (sa, sb *pbxSite, capA *capture) {
	t.Helper()
	a, b := netns.NewPair(t, prefix)
	capA = startCapture(t, a)
	sa = startSite(t, in, siteSpec{name: "A", host: a, crypt: cryptA, remote: "B", remoteAddr: b.IP(), peerOpts: peerOpts})
	sb = startSite(t, in, siteSpec{name: "B", host: b, crypt: cryptB, remote: "A", remoteAddr: a.IP(), peerOpts: peerOpts})
	return sa, sb, capA
}

// TestAsteriskPBXToPBXEncrypted: two Asterisk PBXs, each behind iaxcrypt,
// peers of each other (CALLTOKEN, MD5), with and without trunking; a page
// from modem A through PBX A and PBX B to modem B. The page must arrive
// with 0 errors; both daemons must show the call encrypted with the same
// SAS and with the call numbers the PBXs really use (not the CALLTOKEN
// placeholder); nothing of the call may cross the wire in clear after the
// ACCEPT, by our parser and by Wireshark's.
func TestAsteriskPBXToPBXEncrypted(t *testing.T) {
	in := requireAsterisk(t)
	for _, trunk := range []string{"yes", "no"} {
		t.Run("trunk="+trunk, func(t *testing.T) {
			sa, sb, capA := pbxPair(t, in, "iaxast", true, true, "trunk="+trunk)
			page := faxtest.MakePage(t, t.TempDir())
			done := faxAsync(t, sa.modem, sb.modem, page, pbxFaxAttempts)

			ca := waitCallWith(t, sa.daemon, sb.host.IP(), 60*time.Second, "encrypted")
			cb := waitCallWith(t, sb.daemon, sa.host.IP(), 30*time.Second, "encrypted")
			chA := waitChannel(t, sa.pbx, sb.host.IP(), 30*time.Second)
			chB := waitChannel(t, sb.pbx, sa.host.IP(), 30*time.Second)
			res := <-done
			capA.stop(t)
			t.Logf("PBX A channel %s %d/%d, PBX B channel %s %d/%d (local/remote)", chA.Name, chA.LocalCall, chA.RemoteCall, chB.Name, chB.LocalCall, chB.RemoteCall)
			t.Logf("--- daemon A status:\n%s\n--- daemon B status:\n%s", statusJSON(sa.daemon), statusJSON(sb.daemon))

			if err := res.Err(); err != nil {
				t.Errorf("fax: %v", err)
			} else {
				t.Logf("fax %s -> %s: 1 page, 0 errors, %v", res.From, res.To, res.Duration.Round(time.Second))
			}
			if ca.SAS == "" || ca.SAS != cb.SAS {
				t.Errorf("SAS differ: A %q, B %q", ca.SAS, cb.SAS)
			}
			if chA.LocalCall != chB.RemoteCall || chA.RemoteCall != chB.LocalCall {
				t.Errorf("the PBXs disagree on the call numbers: A %d/%d, B %d/%d", chA.LocalCall, chA.RemoteCall, chB.LocalCall, chB.RemoteCall)
			}
			// The ended call keeps its SAS and its final numbers.
			for _, x := range []struct {
				who string
				d   *daemon
				ch  asterisktest.Channel
			}{{"daemon A", sa.daemon, chA}, {"daemon B", sb.daemon, chB}} {
				c, ok := findBySAS(t, x.d, ca.SAS)
				if !ok {
					t.Errorf("%s no longer lists the call with SAS %s", x.who, ca.SAS)
					continue
				}
				checkCallNumbers(t, x.who, c, x.ch)
				if c.Dropped != 0 {
					t.Errorf("%s dropped %d packets of the call", x.who, c.Dropped)
				}
				if c.TxPackets == 0 || c.RxPackets == 0 {
					t.Errorf("%s: call sent %d and received %d packets, want both > 0", x.who, c.TxPackets, c.RxPackets)
				}
			}

			w := readWire(t, capA.path)
			t.Logf("wire: %s", w)
			if len(w.calls) != 1 {
				t.Fatalf("want 1 ACCEPT with the marker on the wire, found %d", len(w.calls))
			}
			wc := w.calls[0]
			t.Logf("tshark from the ACCEPT on: %s", tsharkIAX(t, capA.path, wc.acceptFrame))
			if wc.caller != sa.host.IP() || wc.callerCall != chA.LocalCall || wc.calleeCall != chB.LocalCall {
				t.Errorf("the ACCEPT on the wire names %s call %d -> call %d, the PBXs use A %d, B %d", wc.caller, wc.callerCall, wc.calleeCall, chA.LocalCall, chB.LocalCall)
			}
			if n := w.leakCount(); n != 0 {
				t.Errorf("%d datagrams of the encrypted call crossed in clear after the ACCEPT; first: %s", n, w.firstLeak)
			}
			if n := tsharkClearMedia(t, capA.path, wc.acceptFrame); n != 0 {
				t.Errorf("Wireshark's dissector sees %d cleartext voice or trunk frames after the ACCEPT (frame %d)", n, wc.acceptFrame)
			}
			// A fax call lasts over 15 s; 50 frames a second each way.
			if w.sealed < 500 {
				t.Errorf("only %d encrypted datagrams on the wire", w.sealed)
			}
		})
	}
}

// TestAsteriskThroughOnePBX: modem A and modem B on two hosts, both
// registered to one Asterisk on a third host between them (A — M — B), all
// three hosts behind iaxcrypt. A page from A to B crosses two calls, A to
// the PBX and the PBX to B: each must be encrypted end to end between its
// two hosts (same SAS on both daemons, no cleartext on either link).
func TestAsteriskThroughOnePBX(t *testing.T) {
	in := requireAsterisk(t)
	tr := netns.NewTrio(t, "iaxast3")
	capA, capB := startCapture(t, tr.A), startCapture(t, tr.B)
	dA, dM, dB := newDaemon(t, tr.A), newDaemon(t, tr.M), newDaemon(t, tr.B)
	pbx := asterisktest.Start(t, tr.M, in, asterisktest.Config{
		Name:     "pbxM",
		BindPort: appPort,
		IAX:      []asterisktest.Section{modemPeer("modema", "frommodema"), modemPeer("modemb", "frommodemb")},
		Dialplan: []asterisktest.Section{dial("frommodema", "IAX2/modemb"), dial("frommodemb", "IAX2/modema")},
	})
	pbxFromA, pbxFromB := tr.MA.Addr.Addr(), tr.MB.Addr.Addr()
	ma := faxtest.StartModem(t, tr.A, faxtest.ModemConfig{Name: "a", Port: appPort, Dial: netip.AddrPortFrom(pbxFromA, daemonPort), Codec: "ulaw", PeerName: "modema", Secret: modemSecret})
	mb := faxtest.StartModem(t, tr.B, faxtest.ModemConfig{Name: "b", Port: appPort, Dial: netip.AddrPortFrom(pbxFromB, daemonPort), Codec: "ulaw", PeerName: "modemb", Secret: modemSecret})
	// The modems register through the daemons: the PBX sees them at
	// their daemons' port.
	pbx.WaitRegistered(t, "modema", tr.A.IP(), 20*time.Second)
	pbx.WaitRegistered(t, "modemb", tr.B.IP(), 20*time.Second)

	page := faxtest.MakePage(t, t.TempDir())
	done := faxAsync(t, ma, mb, page, pbxFaxAttempts)
	cA := waitCallWith(t, dA, pbxFromA, 60*time.Second, "encrypted")
	cMA := waitCallWith(t, dM, tr.A.IP(), 30*time.Second, "encrypted")
	cMB := waitCallWith(t, dM, tr.B.IP(), 30*time.Second, "encrypted")
	cB := waitCallWith(t, dB, pbxFromB, 30*time.Second, "encrypted")
	chA := waitChannel(t, pbx, tr.A.IP(), 30*time.Second)
	chB := waitChannel(t, pbx, tr.B.IP(), 30*time.Second)
	res := <-done
	capA.stop(t)
	capB.stop(t)
	t.Logf("--- daemon A:\n%s\n--- daemon M:\n%s\n--- daemon B:\n%s", statusJSON(dA), statusJSON(dM), statusJSON(dB))

	if err := res.Err(); err != nil {
		t.Errorf("fax: %v", err)
	} else {
		t.Logf("fax %s -> %s through the PBX: 1 page, 0 errors, %v", res.From, res.To, res.Duration.Round(time.Second))
	}
	for _, leg := range []struct {
		name        string
		modem, pbx  callStatus
		ch          asterisktest.Channel
		cap         *capture
		modemDaemon *daemon
	}{{"A-M", cA, cMA, chA, capA, dA}, {"M-B", cB, cMB, chB, capB, dB}} {
		if leg.modem.SAS == "" || leg.modem.SAS != leg.pbx.SAS {
			t.Errorf("leg %s: SAS differ: modem host %q, PBX host %q", leg.name, leg.modem.SAS, leg.pbx.SAS)
		}
		if c, ok := findBySAS(t, dM, leg.pbx.SAS); ok {
			checkCallNumbers(t, "leg "+leg.name+" daemon M", c, leg.ch)
			if c.Dropped != 0 {
				t.Errorf("leg %s: daemon M dropped %d packets", leg.name, c.Dropped)
			}
		}
		if c, ok := findBySAS(t, leg.modemDaemon, leg.modem.SAS); ok && c.Dropped != 0 {
			t.Errorf("leg %s: the modem's daemon dropped %d packets", leg.name, c.Dropped)
		}
		w := readWire(t, leg.cap.path)
		t.Logf("leg %s wire: %s", leg.name, w)
		if len(w.calls) != 1 {
			t.Errorf("leg %s: want 1 ACCEPT with the marker, found %d", leg.name, len(w.calls))
			continue
		}
		if n := w.leakCount(); n != 0 {
			t.Errorf("leg %s: %d datagrams of the encrypted call crossed in clear after the ACCEPT; first: %s", leg.name, n, w.firstLeak)
		}
		if n := tsharkClearMedia(t, leg.cap.path, w.calls[0].acceptFrame); n != 0 {
			t.Errorf("leg %s: Wireshark sees %d cleartext voice or trunk frames after the ACCEPT", leg.name, n)
		}
		if w.sealed < 500 {
			t.Errorf("leg %s: only %d encrypted datagrams", leg.name, w.sealed)
		}
	}
}

// TestAsteriskWithoutIaxcrypt: PBX A behind iaxcrypt calls PBX B, which
// runs none (its Asterisk on 4569), over a trunk. B's Asterisk ignores the
// offer in the NEW; the call goes on in clear, unharmed: the page arrives,
// A's daemon shows the call cleartext and saying why, it drops nothing,
// and nothing on the wire is encrypted while the voice is there in clear.
func TestAsteriskWithoutIaxcrypt(t *testing.T) {
	in := requireAsterisk(t)
	sa, sb, capA := pbxPair(t, in, "iaxastc", true, false, "trunk=yes")
	page := faxtest.MakePage(t, t.TempDir())
	done := faxAsync(t, sa.modem, sb.modem, page, pbxFaxAttempts)
	c := waitCallWith(t, sa.daemon, sb.host.IP(), 60*time.Second, "cleartext")
	res := <-done
	capA.stop(t)
	t.Logf("--- daemon A status:\n%s", statusJSON(sa.daemon))
	if err := res.Err(); err != nil {
		t.Fatalf("fax in clear: %v", err)
	}
	t.Logf("fax %s -> %s in clear: 1 page, 0 errors, %v", res.From, res.To, res.Duration.Round(time.Second))
	if c.SAS != "" || c.Cipher != "" || c.Reason == "" {
		t.Errorf("cleartext call shows cipher %q SAS %q reason %q; want no cipher or SAS, and a reason", c.Cipher, c.SAS, c.Reason)
	}
	for _, c := range callsWith(t, sa.daemon, sb.host.IP()) {
		if c.State != "cleartext" && c.State != "ended" {
			t.Errorf("daemon A lists a call with B in state %q: %+v", c.State, c)
		}
		if c.Dropped != 0 {
			t.Errorf("daemon A dropped %d packets of a cleartext call: %+v", c.Dropped, c)
		}
	}
	w := readWire(t, capA.path)
	t.Logf("wire: %s; tshark: %s", w, tsharkIAX(t, capA.path, 1))
	if w.sealed != 0 || len(w.calls) != 0 {
		t.Errorf("encrypted frames or an answered offer on a call to a host without iaxcrypt: %s", w)
	}
	if w.clear["trunk"] < 500 {
		t.Errorf("only %d cleartext trunk frames for a fax call over a trunk", w.clear["trunk"])
	}
	// The NEW carried the offer, and B's Asterisk went on all the same.
	if n := len(tsharkFieldsOn(t, capA.path, "iax2.iax.subclass == 1 && iax2.ie_id == 0xc3", "frame.number")); n == 0 {
		t.Errorf("no NEW with iaxcrypt's offer (IE 0xc3) on the wire")
	}
}

// TestAsteriskOwnEncryption: both PBXs behind iaxcrypt, their peers
// configured with Asterisk's own encryption (encryption=aes128, which
// encrypts every frame after the AUTHREQ with a key from the MD5 secret).
// iaxcrypt cannot read those frames; the call must still complete through
// the two daemons, which must agree on what the call is.
func TestAsteriskOwnEncryption(t *testing.T) {
	in := requireAsterisk(t)
	sa, sb, capA := pbxPair(t, in, "iaxastx", true, true, "trunk=no", "encryption=aes128")
	if out := sa.pbx.MustCLI(t, "iax2 show peer pbxB"); !strings.Contains(out, "Encryption   : aes128") {
		t.Fatalf("PBX A's peer is not set to encrypt:\n%s", out)
	}
	page := faxtest.MakePage(t, t.TempDir())
	done := faxAsync(t, sa.modem, sb.modem, page, pbxFaxAttempts)
	chA := waitChannel(t, sa.pbx, sb.host.IP(), 60*time.Second)
	res := <-done
	capA.stop(t)
	t.Logf("PBX A channel %s %d/%d", chA.Name, chA.LocalCall, chA.RemoteCall)
	t.Logf("--- daemon A status:\n%s\n--- daemon B status:\n%s", statusJSON(sa.daemon), statusJSON(sb.daemon))
	w := readWire(t, capA.path)
	t.Logf("wire: %s; tshark: %s", w, tsharkIAX(t, capA.path, 1))
	if err := res.Err(); err != nil {
		t.Fatalf("fax between PBXs with encryption=aes128: %v", err)
	}
	t.Logf("fax %s -> %s: 1 page, 0 errors, %v", res.From, res.To, res.Duration.Round(time.Second))
	callsA, callsB := callsWith(t, sa.daemon, sb.host.IP()), callsWith(t, sb.daemon, sa.host.IP())
	if len(callsA) == 0 || len(callsB) == 0 {
		t.Fatalf("the daemons list %d and %d calls with each other, want the call on both", len(callsA), len(callsB))
	}
	a, b := callsA[len(callsA)-1], callsB[len(callsB)-1]
	if (a.SAS != "") != (b.SAS != "") || a.SAS != b.SAS {
		t.Errorf("the daemons disagree: A %+v, B %+v", a, b)
	}
	t.Logf("with encryption=aes128: daemon A shows the call %s (%s), daemon B %s (%s)", a.State, a.Reason, b.State, b.Reason)
}

// TestAsteriskCallNumberReuse: modem A (host A, behind iaxcrypt) registered
// to the PBX on host B (behind iaxcrypt) faxes modem B, registered to the
// same PBX over loopback; then modem A restarts, which makes it number its
// calls from the start again, and faxes at once. The second call reuses
// the first's call number from the same address: both calls must be
// encrypted and deliver their page.
func TestAsteriskCallNumberReuse(t *testing.T) {
	in := requireAsterisk(t)
	a, b := netns.NewPair(t, "iaxastr")
	capA := startCapture(t, a)
	dA, dB := newDaemon(t, a), newDaemon(t, b)
	pbx := asterisktest.Start(t, b, in, asterisktest.Config{
		Name:     "pbxB",
		BindPort: appPort,
		IAX:      []asterisktest.Section{modemPeer("modema", "frommodema"), modemPeer("modemb", "frommodemb")},
		Dialplan: []asterisktest.Section{dial("frommodema", "IAX2/modemb"), dial("frommodemb", "IAX2/modema")},
	})
	cfgA := faxtest.ModemConfig{Name: "a", Port: appPort, Dial: netip.AddrPortFrom(b.IP(), daemonPort), Codec: "ulaw", PeerName: "modema", Secret: modemSecret}
	ma := faxtest.StartModem(t, a, cfgA)
	mb := faxtest.StartModem(t, b, faxtest.ModemConfig{Name: "b", Port: modemLoopbackPort, Dial: netip.AddrPortFrom(loopback, appPort), Codec: "ulaw", PeerName: "modemb", Secret: modemSecret})
	pbx.WaitRegistered(t, "modema", a.IP(), 20*time.Second)
	pbx.WaitRegistered(t, "modemb", loopback, 20*time.Second)
	page := faxtest.MakePage(t, t.TempDir())

	var calls [2]callStatus
	for i := range calls {
		if i == 1 {
			// Restart modem A: it numbers calls (and its registration)
			// from the start again.
			if err := ma.Proc.Stop(); err != nil {
				t.Fatal(err)
			}
			ma = faxtest.StartModem(t, a, cfgA)
			netns.WaitFor(t, 20*time.Second, func() (bool, string) {
				return strings.Contains(ma.Log(), "Registration"), "modem A has not registered again:\n" + ma.Log()
			})
		}
		before := len(callsWith(t, dA, b.IP()))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		res := faxtest.Transfer(ctx, t, ma, mb, page)
		cancel()
		all := callsWith(t, dA, b.IP())
		t.Logf("--- call %d: daemon A status:\n%s\n--- daemon B status:\n%s", i+1, statusJSON(dA), statusJSON(dB))
		if len(all) <= before {
			t.Fatalf("call %d: daemon A lists no new call with B", i+1)
		}
		calls[i] = all[len(all)-1]
		if err := res.Err(); err != nil {
			t.Errorf("call %d: fax: %v", i+1, err)
		}
		if calls[i].SAS == "" {
			t.Errorf("call %d was not encrypted: %+v", i+1, calls[i])
		}
		if i == 0 {
			faxtest.WaitIdle(t, 30*time.Second, mb)
		}
	}
	if calls[0].LocalCall != calls[1].LocalCall {
		t.Errorf("modem A used call number %d, then %d after its restart; the test needs the same", calls[0].LocalCall, calls[1].LocalCall)
	}
	if calls[0].SAS != "" && calls[0].SAS == calls[1].SAS {
		t.Errorf("two calls with the same SAS %s", calls[0].SAS)
	}
	capA.stop(t)
	w := readWire(t, capA.path)
	t.Logf("wire: %s", w)
	if len(w.calls) != 2 {
		t.Errorf("want 2 ACCEPTs with the marker, found %d", len(w.calls))
	}
	if n := w.leakCount(); n != 0 {
		t.Errorf("%d datagrams of the encrypted calls crossed in clear after an ACCEPT; first: %s", n, w.firstLeak)
	}
}

// tsharkFieldsOn is tsharkFields for captures on the daemon's port 4569.
func tsharkFieldsOn(t *testing.T, file, filter string, fields ...string) []string {
	t.Helper()
	var out []string
	for _, l := range tsharkFieldsPort(t, file, daemonPort, filter, fields...) {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
