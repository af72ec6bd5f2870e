package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// TestCrashMidCall kills A's daemon with SIGKILL in the middle of an
// encrypted fax. What the README promises: the kill switch keeps A's
// application from sending the call on in clear; a restarted daemon takes
// the leftovers over without a gap and encrypts the next call; after
// another crash, `iaxcrypt down` removes what the dead daemon left.
func TestCrashMidCall(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxcr")
	capA := startCapture(t, a)
	da, db := newDaemon(t, a), newDaemon(t, b)
	ma, mb := modems(t, a, b, appPort, appPort, daemonPort, daemonPort)
	page := faxtest.MakePage(t, t.TempDir())

	done := faxAsync(t, ma, mb, page, 1)
	waitCall(t, da, 60*time.Second, "encrypted")
	waitCall(t, db, 60*time.Second, "encrypted")
	// Let voice flow, then crash.
	netns.WaitFor(t, 30*time.Second, func() (bool, string) {
		c := lastCall(t, da)
		return c.TxPackets > 100, fmt.Sprintf("call has sent %d packets", c.TxPackets)
	})
	da.kill(t)
	killedAt := time.Now()

	// The rules and the blackhole are still there: the kill switch.
	rules := a.MustRun("ip", "rule", "list")
	if !strings.Contains(rules, fmt.Sprintf("sport %d", appPort)) {
		t.Fatalf("after SIGKILL the rule for the app port is gone; the app's packets would go out in clear:\n%s", rules)
	}
	// Restart while A's application still sends the dead call's frames:
	// the new daemon takes the leftovers over without opening the direct
	// path, and drops those frames (it has no keys for them) rather than
	// sending them in clear.
	da.start(t)
	if res := <-done; res.Err() == nil {
		t.Log("the fax survived the crash (it was nearly over); the wire check below still applies")
	}
	faxtest.WaitIdle(t, 60*time.Second, ma, mb)

	// The restarted daemon (same identity) encrypts the next call.
	done = faxAsync(t, ma, mb, page, faxAttempts)
	c := waitCall(t, da, 60*time.Second, "encrypted")
	res := <-done
	if err := res.Err(); err != nil {
		t.Fatalf("fax after restart: %v\n--- daemon:\n%s", err, da.proc.Output())
	}
	t.Logf("fax after restart: 0 errors, encrypted with SAS %s", c.SAS)

	// Crash again; this time `iaxcrypt down` removes what is left,
	// deliberately restoring the direct path.
	da.kill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := a.Run(ctx, da.bin, "down", "--app-port", fmt.Sprint(appPort))
	if err != nil {
		t.Fatalf("iaxcrypt down: %v: %s", err, out)
	}
	t.Logf("iaxcrypt down:\n%s", strings.TrimSpace(out))
	if rules := a.MustRun("ip", "rule", "list"); strings.Contains(rules, fmt.Sprintf("sport %d", appPort)) {
		t.Fatalf("iaxcrypt down left rules:\n%s", rules)
	}
	if routes := a.MustRun("ip", "route", "show", "table", "all"); strings.Contains(routes, "blackhole") {
		t.Fatalf("iaxcrypt down left the blackhole:\n%s", routes)
	}
	downAt := time.Now()
	capA.stop(t)

	// On the wire: from the first crash until `down`, nothing of A's
	// application left A in clear, except the set-up frames of new calls.
	dgs, err := pcapread.ReadUDP(capA.path)
	if err != nil {
		t.Fatal(err)
	}
	var clear, sealedBefore int
	for i, d := range dgs {
		if d.Src.Addr() != a.IP() {
			continue
		}
		if crypt.IsEncryptedFrame(d.Payload) {
			if d.Time.Before(killedAt) {
				sealedBefore++
			}
			continue
		}
		if d.Time.After(killedAt) && d.Time.Before(downAt) && !hasMarkerFrame(d.Payload) {
			clear++
			t.Errorf("datagram %d from A after the crash crossed in clear: %x", i, head(d.Payload))
		}
	}
	if sealedBefore == 0 {
		t.Fatal("no encrypted frame from A before the crash: the test did not test anything")
	}
	t.Logf("wire: %d encrypted frames from A before the crash, %d cleartext frames from A after it", sealedBefore, clear)
}
