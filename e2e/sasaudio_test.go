package e2e

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
	"github.com/iaxcrypt/iaxcrypt/sasaudio"
)

// voiceTo returns, in order, the voice payloads the application at port
// received from peer (mini frames, and full voice frames that are not
// retransmissions).
func voiceTo(dgs []pcapread.Datagram, peer netip.Addr, port uint16) []byte {
	var audio []byte
	for _, d := range dgs {
		p := d.Payload
		if d.Src.Addr() != peer || d.Dst.Port() != port || len(p) < 4 {
			continue
		}
		switch {
		case p[0]&0x80 == 0 && (p[0] != 0 || p[1] != 0): // mini frame
			audio = append(audio, p[4:]...)
		case p[0]&0x80 != 0 && len(p) > 12 && p[10] == 2 && p[2]&0x80 == 0: // full voice frame
			audio = append(audio, p[12:]...)
		}
	}
	return audio
}

// TestSASAudioHeard: both daemons play the SAS into the call
// (--sas-audio); what each application receives from the TUN holds, in its
// audio, the SAS its daemon shows. Modems speak µ-law; the audio is read
// from a capture on each host's TUN and decoded with sasaudio's Goertzel
// detector.
func TestSASAudioHeard(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxsa")
	da, db := newDaemon(t, a, "--sas-audio"), newDaemon(t, b, "--sas-audio")
	capA, capB := startCaptureOn(t, a, "iax0"), startCaptureOn(t, b, "iax0")
	ma := faxtest.StartModem(t, a, faxtest.ModemConfig{Name: "a", Port: appPort, Codec: "ulaw", Dial: netip.AddrPortFrom(b.IP(), daemonPort)})
	mb := faxtest.StartModem(t, b, faxtest.ModemConfig{Name: "b", Port: appPort, Codec: "ulaw", Dial: netip.AddrPortFrom(a.IP(), daemonPort)})
	page := faxtest.MakePage(t, t.TempDir())

	done := faxAsync(t, ma, mb, page, 1)
	ca := waitCall(t, da, 60*time.Second, "encrypted")
	cb := waitCall(t, db, 60*time.Second, "encrypted")
	// Let 2.5 s of audio through: the SAS lasts 1.8 s.
	netns.WaitFor(t, 30*time.Second, func() (bool, string) {
		c := lastCall(t, da)
		return c.RxPackets > 150, "waiting for audio"
	})
	res := <-done
	faxtest.WaitIdle(t, 60*time.Second, ma, mb)
	t.Logf("fax with the SAS played over its first 1.8 s: %v", res.Err())
	capA.stop(t)
	capB.stop(t)

	for _, side := range []struct {
		name      string
		cap       *capture
		peer      netip.Addr
		statusSAS string
	}{{"A", capA, b.IP(), ca.SAS}, {"B", capB, a.IP(), cb.SAS}} {
		dgs, err := pcapread.ReadUDP(side.cap.path)
		if err != nil {
			t.Fatal(err)
		}
		audio := voiceTo(dgs, side.peer, appPort)
		if len(audio) < 8000 {
			t.Fatalf("%s: only %d bytes of audio to the application", side.name, len(audio))
		}
		got, err := sasaudio.DecodeG711(audio, sasaudio.ULaw)
		if err != nil {
			t.Fatalf("%s: no SAS in the %d bytes of audio the application got: %v", side.name, len(audio), err)
		}
		want, _, _ := strings.Cut(side.statusSAS, " ")
		if got.Base32() != want || got.SAS().String() != side.statusSAS {
			t.Fatalf("%s: heard %s (%s), status shows %s", side.name, got.Base32(), got.SAS(), side.statusSAS)
		}
		t.Logf("%s's application heard SAS %s, as status shows", side.name, got.SAS())
	}
}
