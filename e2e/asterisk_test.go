package e2e

import (
	"context"
	"net/netip"
	"os/exec"
	"regexp"
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
// ACCEPT, by our parser and by Wireshark's. Every attempt's call is
// checked, not only the last.
func TestAsteriskPBXToPBXEncrypted(t *testing.T) {
	in := requireAsterisk(t)
	for _, trunk := range []string{"yes", "no"} {
		t.Run("trunk="+trunk, func(t *testing.T) {
			sa, sb, capA := pbxPair(t, in, "iaxast", true, true, "trunk="+trunk)
			page := faxtest.MakePage(t, t.TempDir())
			var seen []pbxCallSeen
			res, attempts := faxDuring(t, sa.modem, sb.modem, page, pbxFaxAttempts, func(attempt int) {
				seen = append(seen, watchPBXCall(t, sa, sb))
			})
			capA.stop(t)
			t.Logf("--- daemon A status:\n%s\n--- daemon B status:\n%s", statusJSON(sa.daemon), statusJSON(sb.daemon))
			if err := res.Err(); err != nil {
				t.Errorf("fax, %d attempts: %v", attempts, err)
			} else {
				t.Logf("fax %s -> %s: 1 page, 0 errors, %v (attempt %d)", res.From, res.To, res.Duration.Round(time.Second), attempts)
			}
			for _, x := range []struct {
				who string
				d   *daemon
			}{{"daemon A", sa.daemon}, {"daemon B", sb.daemon}} {
				for _, c := range callsWith(t, x.d, otherHost(x.d, sa, sb)) {
					if c.Dropped != 0 || c.State != "ended" {
						t.Errorf("%s: call %+v: want ended with nothing dropped", x.who, c)
					}
				}
			}

			w := readWire(t, capA.path)
			t.Logf("wire: %s", w)
			if len(w.calls) != len(seen) {
				t.Fatalf("%d ACCEPTs with the marker on the wire for %d calls", len(w.calls), len(seen))
			}
			for i, wc := range w.calls {
				o := seen[i]
				if wc.caller != sa.host.IP() || wc.callerCall != o.chA.LocalCall || wc.calleeCall != o.chB.LocalCall {
					t.Errorf("call %d: the ACCEPT on the wire names %s call %d -> call %d, the PBXs use A %d, B %d",
						i+1, wc.caller, wc.callerCall, wc.calleeCall, o.chA.LocalCall, o.chB.LocalCall)
				}
			}
			first := w.calls[0].acceptFrame
			t.Logf("tshark from the first ACCEPT on: %s", tsharkIAX(t, capA.path, first))
			if n := w.leakCount(); n != 0 {
				t.Errorf("%d datagrams of encrypted calls crossed in clear after the ACCEPT; first: %s", n, w.firstLeak)
			}
			if n := tsharkClearMedia(t, capA.path, first); n != 0 {
				t.Errorf("Wireshark's dissector sees %d cleartext voice or trunk frames after the first ACCEPT (frame %d)", n, first)
			}
			// A fax call lasts over 15 s; 50 frames a second each way.
			if w.sealed < 500*len(seen) {
				t.Errorf("only %d encrypted datagrams on the wire for %d calls", w.sealed, len(seen))
			}
		})
	}
}

// pbxCallSeen is what the daemons and PBXs showed of one PBX-to-PBX call
// while it was up.
type pbxCallSeen struct {
	a, b     callStatus           // the daemons' view
	chA, chB asterisktest.Channel // the PBXs' channels to each other
}

// watchPBXCall waits until a call from PBX A to PBX B is encrypted on both
// daemons and up on both PBXs, and checks, while it is up, that the
// daemons agree on the SAS and show the PBXs' real call numbers.
func watchPBXCall(t *testing.T, sa, sb *pbxSite) pbxCallSeen {
	t.Helper()
	var o pbxCallSeen
	o.a = waitCallWith(t, sa.daemon, sb.host.IP(), 60*time.Second, "encrypted")
	o.b = waitCallWith(t, sb.daemon, sa.host.IP(), 30*time.Second, "encrypted")
	o.chA = waitChannel(t, sa.pbx, sb.host.IP(), 30*time.Second)
	o.chB = waitChannel(t, sb.pbx, sa.host.IP(), 30*time.Second)
	t.Logf("call up: SAS %q on A, %q on B; PBX A channel %s %d/%d, PBX B channel %s %d/%d (local/remote)",
		o.a.SAS, o.b.SAS, o.chA.Name, o.chA.LocalCall, o.chA.RemoteCall, o.chB.Name, o.chB.LocalCall, o.chB.RemoteCall)
	if o.a.SAS == "" || o.a.SAS != o.b.SAS {
		t.Errorf("SAS differ: A %q, B %q", o.a.SAS, o.b.SAS)
	}
	if o.chA.LocalCall != o.chB.RemoteCall || o.chA.RemoteCall != o.chB.LocalCall {
		t.Errorf("the PBXs disagree on the call numbers: A %d/%d, B %d/%d", o.chA.LocalCall, o.chA.RemoteCall, o.chB.LocalCall, o.chB.RemoteCall)
	}
	// Read again now that both PBXs have the call: the numbers the
	// daemons show must be the PBXs'.
	if c, ok := findBySAS(t, sa.daemon, o.a.SAS); ok {
		o.a = c
	}
	if c, ok := findBySAS(t, sb.daemon, o.b.SAS); ok {
		o.b = c
	}
	checkCallNumbers(t, "daemon A", o.a, o.chA)
	checkCallNumbers(t, "daemon B", o.b, o.chB)
	return o
}

// otherHost returns the address of the site whose daemon is not d.
func otherHost(d *daemon, sa, sb *pbxSite) netip.Addr {
	if d == sa.daemon {
		return sb.host.IP()
	}
	return sa.host.IP()
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
	calls := 0
	res, attempts := faxDuring(t, ma, mb, page, pbxFaxAttempts, func(int) {
		calls++
		for _, leg := range []struct {
			name               string
			modemHost, pbxSide netip.Addr // each daemon's peer on this leg
			modemDaemon        *daemon
		}{{"A-M", tr.A.IP(), pbxFromA, dA}, {"M-B", tr.B.IP(), pbxFromB, dB}} {
			cModem := waitCallWith(t, leg.modemDaemon, leg.pbxSide, 60*time.Second, "encrypted")
			cPBX := waitCallWith(t, dM, leg.modemHost, 30*time.Second, "encrypted")
			ch := waitChannel(t, pbx, leg.modemHost, 30*time.Second)
			t.Logf("leg %s up: SAS %q on the modem's host, %q on the PBX's; PBX channel %s %d/%d", leg.name, cModem.SAS, cPBX.SAS, ch.Name, ch.LocalCall, ch.RemoteCall)
			if cModem.SAS == "" || cModem.SAS != cPBX.SAS {
				t.Errorf("leg %s: SAS differ: modem's host %q, PBX's host %q", leg.name, cModem.SAS, cPBX.SAS)
			}
			if c, ok := findBySAS(t, dM, cPBX.SAS); ok {
				checkCallNumbers(t, "leg "+leg.name+" daemon M", c, ch)
			}
			if c, ok := findBySAS(t, leg.modemDaemon, cModem.SAS); ok && (c.LocalCall != int(ch.RemoteCall) || c.RemoteCall != int(ch.LocalCall)) {
				t.Errorf("leg %s: the modem's daemon shows %d/%d (local/remote), the PBX %d/%d", leg.name, c.LocalCall, c.RemoteCall, ch.LocalCall, ch.RemoteCall)
			}
		}
	})
	capA.stop(t)
	capB.stop(t)
	t.Logf("--- daemon A:\n%s\n--- daemon M:\n%s\n--- daemon B:\n%s", statusJSON(dA), statusJSON(dM), statusJSON(dB))
	if err := res.Err(); err != nil {
		t.Errorf("fax, %d attempts: %v", attempts, err)
	} else {
		t.Logf("fax %s -> %s through the PBX: 1 page, 0 errors, %v (attempt %d)", res.From, res.To, res.Duration.Round(time.Second), attempts)
	}
	for _, d := range []*daemon{dA, dM, dB} {
		for _, c := range d.status(t).Calls {
			if c.Dropped != 0 || c.State != "ended" {
				t.Errorf("%s: call %+v: want ended with nothing dropped", d.host, c)
			}
		}
	}
	for _, leg := range []struct {
		name string
		cap  *capture
	}{{"A-M", capA}, {"M-B", capB}} {
		w := readWire(t, leg.cap.path)
		t.Logf("leg %s wire: %s", leg.name, w)
		if len(w.calls) != calls {
			t.Errorf("leg %s: %d ACCEPTs with the marker for %d calls", leg.name, len(w.calls), calls)
			continue
		}
		if n := w.leakCount(); n != 0 {
			t.Errorf("leg %s: %d datagrams of encrypted calls crossed in clear after the ACCEPT; first: %s", leg.name, n, w.firstLeak)
		}
		if n := tsharkClearMedia(t, leg.cap.path, w.calls[0].acceptFrame); n != 0 {
			t.Errorf("leg %s: Wireshark sees %d cleartext voice or trunk frames after the first ACCEPT", leg.name, n)
		}
		if w.sealed < 500*calls {
			t.Errorf("leg %s: only %d encrypted datagrams for %d calls", leg.name, w.sealed, calls)
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
	res, attempts := faxDuring(t, sa.modem, sb.modem, page, pbxFaxAttempts, func(int) {
		c := waitCallWith(t, sa.daemon, sb.host.IP(), 60*time.Second, "cleartext")
		if c.SAS != "" || c.Cipher != "" || c.Reason == "" {
			t.Errorf("cleartext call shows cipher %q SAS %q reason %q; want no cipher or SAS, and a reason", c.Cipher, c.SAS, c.Reason)
		}
	})
	capA.stop(t)
	t.Logf("--- daemon A status:\n%s", statusJSON(sa.daemon))
	if err := res.Err(); err != nil {
		t.Fatalf("fax in clear, %d attempts: %v", attempts, err)
	}
	t.Logf("fax %s -> %s in clear: 1 page, 0 errors, %v (attempt %d)", res.From, res.To, res.Duration.Round(time.Second), attempts)
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
//
// What the wire shows then (Asterisk 22.10.1): the NEW, CALLTOKEN and
// AUTHREQ in clear, then every full frame (AUTHREP, ACCEPT, ANSWER, LAGRQ,
// HANGUP...) encrypted by Asterisk, and mini frames with clear headers and
// encrypted audio. iaxcrypt offers in the NEW but never sees an ACCEPT it
// can read, so it adds no layer of its own: it relays the call unchanged,
// and the call is exactly as protected as Asterisk makes it (a key from the
// shared secret and the MD5 challenge: no forward secrecy, no SAS, call
// numbers and timestamps in clear).
func TestAsteriskOwnEncryption(t *testing.T) {
	in := requireAsterisk(t)
	sa, sb, capA := pbxPair(t, in, "iaxastx", true, true, "trunk=no", "encryption=aes128")
	if out := sa.pbx.MustCLI(t, "iax2 show peer pbxB"); !regexp.MustCompile(`Encryption\s*:.*aes128`).MatchString(out) {
		t.Fatalf("PBX A's peer is not set to encrypt:\n%s", out)
	}
	page := faxtest.MakePage(t, t.TempDir())
	res, attempts := faxDuring(t, sa.modem, sb.modem, page, pbxFaxAttempts, func(int) {
		chA := waitChannel(t, sa.pbx, sb.host.IP(), 60*time.Second)
		t.Logf("call up: PBX A channel %s %d/%d; daemon A:\n%s", chA.Name, chA.LocalCall, chA.RemoteCall, statusJSON(sa.daemon))
	})
	capA.stop(t)
	t.Logf("--- daemon A status:\n%s\n--- daemon B status:\n%s", statusJSON(sa.daemon), statusJSON(sb.daemon))
	w := readWire(t, capA.path)
	t.Logf("wire: %s; tshark: %s", w, tsharkIAX(t, capA.path, 1))
	if err := res.Err(); err != nil {
		t.Fatalf("fax between PBXs with encryption=aes128, %d attempts: %v", attempts, err)
	}
	t.Logf("fax %s -> %s: 1 page, 0 errors, %v (attempt %d)", res.From, res.To, res.Duration.Round(time.Second), attempts)
	callsA, callsB := callsWith(t, sa.daemon, sb.host.IP()), callsWith(t, sb.daemon, sa.host.IP())
	if len(callsA) == 0 || len(callsB) == 0 {
		t.Fatalf("the daemons list %d and %d calls with each other, want the call on both", len(callsA), len(callsB))
	}
	a, b := callsA[len(callsA)-1], callsB[len(callsB)-1]
	if a.SAS != b.SAS {
		t.Errorf("the daemons disagree: A %+v, B %+v", a, b)
	}
	// iaxcrypt cannot read frames Asterisk encrypted (the ACCEPT among
	// them), so it must not claim the call, nor drop any of it, and (as the
	// README says) show it in clear as far as iaxcrypt goes, saying why.
	for _, c := range []callStatus{a, b} {
		if (c.State != "cleartext" && c.State != "ended") || c.Reason == "" || c.SAS != "" || c.Dropped != 0 {
			t.Errorf("call with Asterisk's own encryption: %+v; want cleartext (or ended) with a reason, no SAS, nothing dropped", c)
		}
	}
	t.Logf("with encryption=aes128: daemon A shows the call %s (%s), daemon B %s (%s)", a.State, a.Reason, b.State, b.Reason)
}

// TestAsteriskCallNumberReuse: modem A (host A, behind iaxcrypt) registered
// to the PBX on host B (behind iaxcrypt) faxes modem B, registered to the
// same PBX over loopback; then modem A restarts and faxes again at once,
// with the same call number from the same address. Both calls must be
// encrypted and deliver their page.
//
// iaxmodem's libiax2 numbers its sessions from a base drawn with
// srand(time(NULL)) when it starts, so a restarted modem would pick
// another number; each instance runs under faketime started at the same
// instant, which gives every instance the same base and so every call the
// same number.
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
	if _, err := exec.LookPath("faketime"); err != nil {
		t.Skip("skipping: faketime not installed (apt-get install faketime)")
	}
	sameStart := time.Now().UTC().Format("@2006-01-02 15:04:05")
	cfgA := faxtest.ModemConfig{Name: "a", Port: appPort, Dial: netip.AddrPortFrom(b.IP(), daemonPort), Codec: "ulaw", PeerName: "modema", Secret: modemSecret,
		Wrapper: []string{"env", "TZ=UTC", "faketime", "-f", sameStart}}
	ma := faxtest.StartModem(t, a, cfgA)
	mb := faxtest.StartModem(t, b, faxtest.ModemConfig{Name: "b", Port: modemLoopbackPort, Dial: netip.AddrPortFrom(loopback, appPort), Codec: "ulaw", PeerName: "modemb", Secret: modemSecret})
	pbx.WaitRegistered(t, "modema", a.IP(), 20*time.Second)
	pbx.WaitRegistered(t, "modemb", loopback, 20*time.Second)
	page := faxtest.MakePage(t, t.TempDir())

	// Before every call but the first, restart modem A, so that every
	// call, retries included, has the same number.
	restartA := func() {
		faxtest.WaitIdle(t, 30*time.Second, mb)
		if err := ma.Proc.Stop(); err != nil {
			t.Fatal(err)
		}
		ma = faxtest.StartModem(t, a, cfgA)
		netns.WaitFor(t, 20*time.Second, func() (bool, string) {
			return strings.Contains(ma.Log(), "Registration completed"), "modem A has not registered again:\n" + ma.Log()
		})
	}
	var calls []callStatus // daemon A's view of each call while it was up
	for i := 1; i <= 2; i++ {
		var res faxtest.Result
		for attempt := 1; attempt <= pbxFaxAttempts; attempt++ {
			if i > 1 || attempt > 1 {
				restartA()
			}
			done := make(chan faxtest.Result, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				defer cancel()
				done <- faxtest.Transfer(ctx, t, ma, mb, page)
			}()
			ca := waitCallWith(t, dA, b.IP(), 60*time.Second, "encrypted")
			cb := waitCallWith(t, dB, a.IP(), 30*time.Second, "encrypted")
			t.Logf("call %d attempt %d up: daemon A local_call %d remote_call %d SAS %q; daemon B SAS %q", i, attempt, ca.LocalCall, ca.RemoteCall, ca.SAS, cb.SAS)
			if ca.SAS == "" || ca.SAS != cb.SAS {
				t.Errorf("call %d: SAS differ: A %q, B %q", i, ca.SAS, cb.SAS)
			}
			calls = append(calls, ca)
			res = <-done
			if res.Err() == nil {
				break
			}
			t.Logf("call %d attempt %d failed: %v", i, attempt, res.Err())
		}
		t.Logf("--- after call %d: daemon A status:\n%s\n--- daemon B status:\n%s", i, statusJSON(dA), statusJSON(dB))
		if err := res.Err(); err != nil {
			t.Errorf("call %d: fax: %v", i, err)
		}
	}
	for _, c := range calls[1:] {
		if c.LocalCall != calls[0].LocalCall {
			t.Errorf("modem A used call number %d, then %d after a restart; the test needs the same", calls[0].LocalCall, c.LocalCall)
		}
		if c.SAS == calls[0].SAS {
			t.Errorf("two calls with the same SAS %s", c.SAS)
		}
	}
	for _, d := range []*daemon{dA, dB} {
		for _, c := range d.status(t).Calls {
			if c.Dropped != 0 || c.State != "ended" {
				t.Errorf("%s: call %+v: want ended with nothing dropped", d.host, c)
			}
		}
	}
	capA.stop(t)
	w := readWire(t, capA.path)
	t.Logf("wire: %s", w)
	if len(w.calls) != len(calls) {
		t.Errorf("%d ACCEPTs with the marker for %d calls", len(w.calls), len(calls))
	}
	if n := w.leakCount(); n != 0 {
		t.Errorf("%d datagrams of the encrypted calls crossed in clear after an ACCEPT; first: %s", n, w.firstLeak)
	}
	// Each NEW was answered at once: a NEW the callee's daemon dropped
	// (as a frame of the ended call) comes again, a second later.
	if n := w.clear["full NEW"]; n != len(calls) {
		t.Errorf("%d NEWs on the wire for %d calls: a NEW with the reused call number went unanswered", n, len(calls))
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
