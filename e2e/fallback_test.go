package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// TestCleartextFallback: iaxcrypt on host A only. Its offer is ignored by
// B's plain iaxmodem; faxes in both directions go through in clear and A's
// status says cleartext.
func TestCleartextFallback(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxfb")
	capA := startCapture(t, a)
	da := newDaemon(t, a)
	// B's modem has the standard port and no daemon; it dials A's daemon.
	ma, mb := modems(t, a, b, appPort, faxtest.DefaultPort, daemonPort, faxtest.DefaultPort)
	page := faxtest.MakePage(t, t.TempDir())
	for _, dir := range []struct{ from, to *faxtest.Modem }{{ma, mb}, {mb, ma}} {
		done := faxAsync(t, dir.from, dir.to, page, faxAttempts)
		c := waitCall(t, da, 60*time.Second, "cleartext")
		res := <-done
		if err := res.Err(); err != nil {
			t.Fatalf("fax %s -> %s in clear: %v\n--- daemon:\n%s", res.From, res.To, err, da.proc.Output())
		}
		if c.SAS != "" || c.Cipher != "" {
			t.Fatalf("cleartext call shows cipher %q SAS %q", c.Cipher, c.SAS)
		}
		if !strings.Contains(c.Reason, "no iaxcrypt there?") {
			t.Fatalf("status does not say why the call is in clear: %+v", c)
		}
		t.Logf("fax %s -> %s in clear: 0 errors, %v", res.From, res.To, res.Duration.Round(time.Second))
		faxtest.WaitIdle(t, 30*time.Second, ma, mb)
	}
	capA.stop(t)
	dgs, err := pcapread.ReadUDP(capA.path)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range dgs {
		if crypt.IsEncryptedFrame(d.Payload) {
			t.Fatalf("datagram %d is an encrypted frame on a cleartext call", i)
		}
	}
}

// TestRequirePolicyRefusesVisibly: iaxcrypt with --policy require on host A
// only. Calls in either direction are refused: the fax fails, A's status
// shows the call failed, and the daemon log says why.
func TestRequirePolicyRefusesVisibly(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxrq")
	da := newDaemon(t, a, "--policy", "require")
	ma, mb := modems(t, a, b, appPort, faxtest.DefaultPort, daemonPort, faxtest.DefaultPort)
	page := faxtest.MakePage(t, t.TempDir())
	for i, dir := range []struct{ from, to *faxtest.Modem }{{ma, mb}, {mb, ma}} {
		done := faxAsync(t, dir.from, dir.to, page, 1)
		// Failed calls stay listed as failed: wait for this one.
		netns.WaitFor(t, 60*time.Second, func() (bool, string) {
			n := 0
			for _, c := range da.status(t).Calls {
				if c.State == "failed" {
					n++
				}
			}
			return n > i, fmt.Sprintf("%d failed calls listed, want %d", n, i+1)
		})
		res := <-done
		if res.Err() == nil {
			t.Fatalf("fax %s -> %s went through in clear under --policy require", res.From, res.To)
		}
		if len(res.Pages) != 0 {
			t.Fatalf("%d pages received on a refused call", len(res.Pages))
		}
		t.Logf("fax %s -> %s refused: sender efax %q", res.From, res.To, faxtest.ExitText(res.SendExit))
		if dir.from == ma && !strings.Contains(ma.Log(), "Rejected call") {
			// The peer's ACCEPT reached A's application as a REJECT.
			t.Fatalf("A's iaxmodem did not see a REJECT:\n%s", ma.Log())
		}
		faxtest.WaitIdle(t, 30*time.Second, ma, mb)
	}
	if !strings.Contains(da.proc.Output(), "encryption required") {
		t.Fatalf("daemon log does not say why calls were refused:\n%s", da.proc.Output())
	}
}
