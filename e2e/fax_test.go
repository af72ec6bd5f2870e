package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
	"github.com/iaxcrypt/iaxcrypt/route"
)

// TestEncryptedFaxBothWays: iaxcrypt on both hosts; a page goes from A to B,
// then from B to A. Each page must arrive with 0 errors, both daemons must
// show the call encrypted with the same SAS, and the capture on the veth
// must show the markers in NEW and ACCEPT and nothing of the call in clear
// after the ACCEPT.
func TestEncryptedFaxBothWays(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxe2e")
	capA := startCapture(t, a)
	da, db := newDaemon(t, a), newDaemon(t, b)
	requireDroppedPrivileges(t, da)
	ma, mb := modems(t, a, b, appPort, appPort, daemonPort, daemonPort)
	page := faxtest.MakePage(t, t.TempDir())

	for i, dir := range []struct {
		from, to       *faxtest.Modem
		caller, callee *daemon
	}{{ma, mb, da, db}, {mb, ma, db, da}} {
		done := faxAsync(t, dir.from, dir.to, page, faxAttempts)
		ca := waitCall(t, dir.caller, 60*time.Second, "encrypted")
		cb := waitCall(t, dir.callee, 60*time.Second, "encrypted")
		res := <-done
		if err := res.Err(); err != nil {
			t.Fatalf("fax %d: %v\n--- caller daemon:\n%s\n--- callee daemon:\n%s", i+1, err, dir.caller.proc.Output(), dir.callee.proc.Output())
		}
		t.Logf("fax %s -> %s: 1 page, 0 errors, %v; SAS %s, cipher %s", res.From, res.To, res.Duration.Round(time.Second), ca.SAS, ca.Cipher)
		if ca.SAS == "" || ca.SAS != cb.SAS {
			t.Fatalf("SAS differ: caller %q callee %q", ca.SAS, cb.SAS)
		}
		if ca.PeerIdentity != dir.callee.status(t).Identity || cb.PeerIdentity != dir.caller.status(t).Identity {
			t.Fatalf("peer identities: caller sees %s (callee is %s), callee sees %s (caller is %s)",
				ca.PeerIdentity, dir.callee.status(t).Identity, cb.PeerIdentity, dir.caller.status(t).Identity)
		}
		requireNoDrops(t, dir.caller)
		requireNoDrops(t, dir.callee)
		// The call, now ended, is still listed with its keys' fingerprints.
		if last := lastCall(t, dir.caller); last.State != "ended" || last.SAS != ca.SAS || last.TxPackets == 0 || last.RxPackets == 0 {
			t.Fatalf("caller's ended call: %+v", last)
		}
		faxtest.WaitIdle(t, 30*time.Second, ma, mb)
	}
	capA.stop(t)
	checkWire(t, capA.path, 2)
	requireNoLeak(t, capA.path, 2)
	requireCleanStop(t, da)
}

// requireCleanStop stops the daemon with SIGTERM and checks that it exited
// cleanly and removed every rule, route and device it had created.
func requireCleanStop(t *testing.T, d *daemon) {
	t.Helper()
	if err := d.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	if code := d.proc.ExitCode(); code != 0 {
		t.Fatalf("iaxcrypt up exited with %d after SIGTERM:\n%s", code, d.proc.Output())
	}
	for _, family := range []string{"-4", "-6"} {
		rules := d.host.MustRun("ip", family, "rule", "list")
		if strings.Contains(rules, fmt.Sprintf("lookup %d", route.DefaultTable)) || strings.Contains(rules, "fwmark") {
			t.Fatalf("rules left after a clean stop:\n%s", rules)
		}
	}
	if routes := d.host.MustRun("ip", "route", "show", "table", "all"); strings.Contains(routes, "blackhole") || strings.Contains(routes, "iax0") {
		t.Fatalf("routes left after a clean stop:\n%s", routes)
	}
	if links := d.host.MustRun("ip", "link", "show"); strings.Contains(links, "iax0") {
		t.Fatalf("TUN left after a clean stop:\n%s", links)
	}
}

// requireDroppedPrivileges checks that the running daemon kept only
// CAP_NET_ADMIN (to remove its routes at exit) and cannot regain more.
func requireDroppedPrivileges(t *testing.T, d *daemon) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.proc.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	const netAdminOnly = "0000000000001000" // 1 << CAP_NET_ADMIN (12)
	for _, want := range []string{"CapEff:\t" + netAdminOnly, "CapPrm:\t" + netAdminOnly, "NoNewPrivs:\t1"} {
		if !strings.Contains(string(status), want) {
			t.Fatalf("daemon did not drop privileges: no %q in\n%s", want, status)
		}
	}
}

// checkWire reads the capture and checks, call by call, that the NEW and
// ACCEPT carry the marker and that after the ACCEPT every datagram of the
// call is an encrypted frame (or the ACCEPT's own retransmission).
func checkWire(t *testing.T, path string, wantCalls int) {
	t.Helper()
	dgs, err := pcapread.ReadUDP(path)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		addr netip.AddrPort
		call uint16
	}
	accepted := map[key]bool{}
	var news, accepts, sealed, clearAfter int
	for i, d := range dgs {
		if crypt.IsEncryptedFrame(d.Payload) {
			sealed++
			continue
		}
		src, ok := iax.PeekSrcCall(d.Payload)
		if !ok {
			t.Fatalf("datagram %d: not IAX2: %x", i, d.Payload)
		}
		f, err := iax.ParseFull(d.Payload)
		isFull := err == nil
		if isFull {
			if sub, ok := f.IAXSubclass(); ok && (sub == iax.IAXNew || sub == iax.IAXAccept) {
				if _, found, _ := iax.FindIE(f.Payload, crypt.MarkerIE); !found {
					t.Fatalf("datagram %d: %v without the marker", i, sub)
				}
				if sub == iax.IAXNew {
					news++
				} else {
					accepts++
					accepted[key{d.Src, f.SrcCall}] = true
					accepted[key{d.Dst, f.DstCall}] = true
				}
				continue
			}
		}
		if accepted[key{d.Src, src}] {
			clearAfter++
			t.Errorf("datagram %d of an encrypted call crossed in clear: %x", i, head(d.Payload))
		}
	}
	t.Logf("wire: %d datagrams, %d NEW, %d ACCEPT with markers, %d encrypted, %d in clear after an ACCEPT",
		len(dgs), news, accepts, sealed, clearAfter)
	if news < wantCalls || accepts < wantCalls || sealed == 0 {
		t.Fatalf("want at least %d NEW and ACCEPT with markers and encrypted frames", wantCalls)
	}
	// Wireshark's own dissector sees the NEW and ACCEPT (IAX type 6,
	// subclasses 1 and 7) with the unknown IE 0xc3.
	for _, sub := range []int{1, 7} {
		ies := tsharkFields(t, path, fmt.Sprintf("iax2.iax.subclass == %d", sub), "iax2.ie_id")
		if len(ies) == 0 || ies[0] == "" {
			t.Fatalf("tshark shows no IAX subclass %d frame", sub)
		}
		for _, line := range ies {
			if !containsIE(line, 0xc3) {
				t.Errorf("tshark: subclass %d frame with IEs %q, no 0xc3", sub, line)
			}
		}
	}
}

func containsIE(tsharkLine string, id int64) bool {
	fields := strings.FieldsFunc(tsharkLine, func(r rune) bool { return r == ',' || r == '\t' })
	for _, f := range fields {
		if v, err := strconv.ParseInt(f, 0, 64); err == nil && v == id { // "0xc3" or "195"
			return true
		}
	}
	return false
}

func head(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}

// hasMarkerFrame reports whether b is a full frame carrying the marker IE
// (a NEW or an ACCEPT of the handshake).
func hasMarkerFrame(b []byte) bool {
	f, err := iax.ParseFull(b)
	if err != nil {
		return false
	}
	_, found, _ := iax.FindIE(f.Payload, crypt.MarkerIE)
	return found
}
