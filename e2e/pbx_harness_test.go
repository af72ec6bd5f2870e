package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/iax"
	"github.com/iaxcrypt/iaxcrypt/internal/asterisktest"
	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// The PBX set-up of the Asterisk tests, as in
// ../shared/captures/asterisk22/README.md: on each host an Asterisk whose
// chan_iax2 listens on appPort behind `iaxcrypt up --listen :4569
// --app-port 4571` (or on 4569 without iaxcrypt), the two PBXs friends of
// each other with MD5 authentication (and CALLTOKEN, as Asterisk does by
// default), and an iaxmodem registered to each PBX over loopback.
const (
	modemLoopbackPort = 4580 // iaxmodem's port beside its PBX
	trunkSecret       = "trunkpw"
	modemSecret       = "modempw"
	// pbxFaxAttempts: as faxAttempts. The daemon is the one process of
	// the media path without real-time priority, and on a loaded machine
	// it delays frames enough to cost a T.30 frame now and then.
	pbxFaxAttempts = faxAttempts
)

var loopback = netip.MustParseAddr("127.0.0.1")

// requireAsterisk skips unless the fax tools, tshark, root and a built
// Asterisk are all there, saying which is missing.
func requireAsterisk(t *testing.T) asterisktest.Install {
	t.Helper()
	requireAll(t)
	return asterisktest.Require(t)
}

// pbxSite is one office: an Asterisk PBX, behind iaxcrypt or not, with an
// iaxmodem registered to it.
type pbxSite struct {
	name   string // "A"; the PBX is pbxA, its modem modema
	host   *netns.Host
	pbx    *asterisktest.PBX
	daemon *daemon // nil when the host runs no iaxcrypt
	modem  *faxtest.Modem
}

// siteSpec says how to set up a pbxSite.
type siteSpec struct {
	name  string
	host  *netns.Host
	crypt bool // run iaxcrypt up on the host
	// remote names the other office's PBX ("B") and where it is reached:
	// its host's port 4569 (its daemon, or its Asterisk without one).
	remote     string
	remoteAddr netip.Addr
	// peerOpts are more lines of the section of the other PBX
	// ("trunk=yes", "encryption=aes128").
	peerOpts []string
}

func modemName(site string) string { return "modem" + strings.ToLower(site) }

// modemPeer is a PBX's section for an iaxmodem that registers to it. The
// old libiax2 of iaxmodem knows no CALLTOKEN, hence requirecalltoken=no.
func modemPeer(name, context string) asterisktest.Section {
	return asterisktest.Section{Name: name, Lines: []string{
		"type=friend", "host=dynamic", "secret=" + modemSecret, "auth=md5",
		"context=" + context, "requirecalltoken=no",
	}}
}

// dial is a one-extension dialplan context: DefaultNumber (what efax
// dials) goes to target.
func dial(context, target string) asterisktest.Section {
	return asterisktest.Section{Name: context, Lines: []string{
		fmt.Sprintf("exten => %s,1,Dial(%s,60)", faxtest.DefaultNumber, target),
		" same => n,Hangup()",
	}}
}

// startSite starts, in order, the daemon (if any), the PBX and the modem,
// and waits until the modem has registered.
func startSite(t *testing.T, in asterisktest.Install, s siteSpec) *pbxSite {
	t.Helper()
	site := &pbxSite{name: s.name, host: s.host}
	bind := faxtest.DefaultPort
	if s.crypt {
		site.daemon = newDaemon(t, s.host)
		bind = appPort
	}
	modem := modemName(s.name)
	trunk := asterisktest.Section{Name: "pbx" + s.remote, Lines: append([]string{
		"type=friend", "host=" + s.remoteAddr.String(), fmt.Sprintf("port=%d", daemonPort),
		"username=pbx" + s.name, "secret=" + trunkSecret, "auth=md5", "context=fromtrunk",
	}, s.peerOpts...)}
	site.pbx = asterisktest.Start(t, s.host, in, asterisktest.Config{
		Name:     "pbx" + s.name,
		BindPort: bind,
		IAX:      []asterisktest.Section{trunk, modemPeer(modem, "frommodem")},
		Dialplan: []asterisktest.Section{
			dial("frommodem", fmt.Sprintf("IAX2/pbx%s/%s", s.remote, faxtest.DefaultNumber)),
			dial("fromtrunk", "IAX2/"+modem),
		},
	})
	site.modem = faxtest.StartModem(t, s.host, faxtest.ModemConfig{
		Name: strings.ToLower(s.name), Port: modemLoopbackPort, Dial: netip.AddrPortFrom(loopback, uint16(bind)),
		Codec: "ulaw", PeerName: modem, Secret: modemSecret,
	})
	site.pbx.WaitRegistered(t, modem, loopback, 20*time.Second)
	return site
}

// faxDuring faxes page from one modem to the other, up to attempts times
// until the page arrives; during runs, for each attempt, while the call is
// up (it waits for what it checks, and the call lasts over 15 s). Failed
// attempts are logged. It returns the last result and the number of
// attempts made.
func faxDuring(t *testing.T, from, to *faxtest.Modem, page string, attempts int, during func(attempt int)) (faxtest.Result, int) {
	t.Helper()
	for i := 1; ; i++ {
		if i > 1 {
			faxtest.WaitIdle(t, 30*time.Second, from, to)
		}
		done := make(chan faxtest.Result, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			done <- faxtest.Transfer(ctx, t, from, to, page)
		}()
		during(i)
		res := <-done
		if res.Err() == nil || i >= attempts {
			return res, i
		}
		t.Logf("attempt %d of %d failed, retrying: %v", i, attempts, res.Err())
	}
}

// waitChannel waits until the PBX has an IAX2 channel with the host at
// peer, both call numbers known, and returns it.
func waitChannel(t *testing.T, p *asterisktest.PBX, peer netip.Addr, timeout time.Duration) asterisktest.Channel {
	t.Helper()
	var found asterisktest.Channel
	netns.WaitFor(t, timeout, func() (bool, string) {
		chans, err := p.Channels()
		if err != nil {
			return false, err.Error()
		}
		for _, c := range chans {
			if c.Peer == peer.String() && c.LocalCall != 0 && c.RemoteCall != 0 {
				found = c
				return true, ""
			}
		}
		return false, fmt.Sprintf("%s has no IAX2 channel with %s: %+v", p.Config.Name, peer, chans)
	})
	return found
}

// callsWith returns the daemon's calls with the host at peer, in the
// order the daemon lists them.
func callsWith(t *testing.T, d *daemon, peer netip.Addr) []callStatus {
	t.Helper()
	var out []callStatus
	for _, c := range d.status(t).Calls {
		if ap, err := netip.ParseAddrPort(c.Peer); err == nil && ap.Addr() == peer {
			out = append(out, c)
		}
	}
	return out
}

// waitCallWith waits until the daemon has a call with peer in one of the
// states, and returns it.
func waitCallWith(t *testing.T, d *daemon, peer netip.Addr, timeout time.Duration, states ...string) callStatus {
	t.Helper()
	var found callStatus
	netns.WaitFor(t, timeout, func() (bool, string) {
		s, err := d.statusErr()
		if err != nil {
			return false, err.Error()
		}
		for _, c := range s.Calls {
			ap, err := netip.ParseAddrPort(c.Peer)
			if err != nil || ap.Addr() != peer {
				continue
			}
			for _, st := range states {
				if c.State == st {
					found = c
					return true, ""
				}
			}
		}
		return false, fmt.Sprintf("%s: no call with %s in state %v: %s", d.host, peer, states, statusJSON(d))
	})
	return found
}

// statusJSON is the daemon's `iaxcrypt status --json`, as is, for logs.
func statusJSON(d *daemon) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, d.bin, "status", "--json", "--control", d.control).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(iaxcrypt status: %v: %s)", err, out)
	}
	var v any
	if json.Unmarshal(out, &v) == nil {
		if b, err := json.MarshalIndent(v, "", "  "); err == nil {
			return string(b)
		}
	}
	return string(out)
}

// findBySAS returns the daemon's call whose SAS is sas.
func findBySAS(t *testing.T, d *daemon, sas string) (callStatus, bool) {
	t.Helper()
	for _, c := range d.status(t).Calls {
		if c.SAS == sas {
			return c, true
		}
	}
	return callStatus{}, false
}

// checkCallNumbers checks that a daemon shows the call numbers the PBX
// behind it uses on that call: its own as local_call, the peer's as
// remote_call.
func checkCallNumbers(t *testing.T, who string, c callStatus, ch asterisktest.Channel) {
	t.Helper()
	if c.LocalCall != int(ch.LocalCall) || c.RemoteCall != int(ch.RemoteCall) {
		t.Errorf("%s: daemon shows local_call %d remote_call %d, its PBX's channel %s uses %d/%d (local/remote)",
			who, c.LocalCall, c.RemoteCall, ch.Name, ch.LocalCall, ch.RemoteCall)
	}
}

// wireCall is one encrypted call as seen on the wire: the ACCEPT with the
// marker names both ends and their call numbers.
type wireCall struct {
	caller, callee         netip.Addr
	callerCall, calleeCall uint16
	acceptFrame            int // tshark's frame number of the first ACCEPT
}

// wireReport counts what crossed the wire.
type wireReport struct {
	calls []wireCall
	// sealed counts iaxcrypt's datagrams (meta frames other than trunk
	// and video).
	sealed int
	// leaks counts datagrams of an encrypted call, after its ACCEPT,
	// that crossed in clear, by kind ("full NEW", "mini", "trunk", ...);
	// firstLeak describes the first.
	leaks     map[string]int
	firstLeak string
	// clear counts the other cleartext datagrams by kind.
	clear map[string]int
}

func (r wireReport) leakCount() int {
	n := 0
	for _, v := range r.leaks {
		n += v
	}
	return n
}

func (r wireReport) String() string {
	var calls []string
	for _, c := range r.calls {
		calls = append(calls, fmt.Sprintf("%s call %d -> %s call %d (ACCEPT frame %d)", c.caller, c.callerCall, c.callee, c.calleeCall, c.acceptFrame))
	}
	return fmt.Sprintf("encrypted calls [%s]; %d sealed datagrams; in clear of an encrypted call after its ACCEPT: %s; other cleartext: %s",
		strings.Join(calls, "; "), r.sealed, countsString(r.leaks), countsString(r.clear))
}

func countsString(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// readWire classifies every datagram of a capture between iaxcrypt hosts.
// A call is encrypted from its ACCEPT carrying the marker; from then on
// every full frame to or from its call numbers, every mini or video frame
// from them and every trunk frame with an entry of theirs that is not
// iaxcrypt's is a leak (the ACCEPT's own retransmissions excepted).
func readWire(t *testing.T, path string) wireReport {
	t.Helper()
	dgs, err := pcapread.ReadUDP(path)
	if err != nil {
		t.Fatal(err)
	}
	type end struct {
		addr netip.Addr
		call uint16
	}
	encrypted := map[end]bool{}
	r := wireReport{leaks: map[string]int{}, clear: map[string]int{}}
	leak := func(kind string, d pcapread.Datagram) {
		if r.leakCount() == 0 {
			r.firstLeak = fmt.Sprintf("frame %d %s -> %s %s: %x", d.Frame, d.Src, d.Dst, kind, head(d.Payload))
		}
		r.leaks[kind]++
	}
	for _, d := range dgs {
		kind, err := iax.Classify(d.Payload)
		if err != nil {
			r.clear["not IAX2"]++
			continue
		}
		src := end{d.Src.Addr(), 0}
		switch kind {
		case iax.KindMeta:
			// Meta frames other than trunk and video: iaxcrypt's (and
			// nothing Asterisk sends).
			r.sealed++
		case iax.KindFull:
			f, err := iax.ParseFull(d.Payload)
			if err != nil {
				r.clear["bad full"]++
				continue
			}
			name := fullName(&f)
			if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXAccept && hasMarkerFrame(d.Payload) {
				if !encrypted[end{d.Src.Addr(), f.SrcCall}] {
					r.calls = append(r.calls, wireCall{caller: d.Dst.Addr(), callee: d.Src.Addr(), callerCall: f.DstCall, calleeCall: f.SrcCall, acceptFrame: d.Frame})
					encrypted[end{d.Src.Addr(), f.SrcCall}] = true
					encrypted[end{d.Dst.Addr(), f.DstCall}] = true
				}
				continue
			}
			src.call = f.SrcCall
			if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXNew && f.DstCall == 0 {
				// A new call, perhaps with the number of an ended one.
				delete(encrypted, src)
			}
			if encrypted[src] || encrypted[end{d.Dst.Addr(), f.DstCall}] {
				leak("full "+name, d)
			} else {
				r.clear["full "+name]++
			}
		case iax.KindMini, iax.KindVideo:
			src.call, _ = iax.PeekSrcCall(d.Payload)
			if encrypted[src] {
				leak(kind.String(), d)
			} else {
				r.clear[kind.String()]++
			}
		case iax.KindTrunk:
			tf, err := iax.ParseTrunk(d.Payload)
			if err != nil {
				r.clear["bad trunk"]++
				continue
			}
			ours := false
			tf.Range(func(e iax.TrunkEntry) bool {
				ours = encrypted[end{d.Src.Addr(), e.SrcCall}]
				return !ours
			})
			if ours {
				leak("trunk", d)
			} else {
				r.clear["trunk"]++
			}
		}
	}
	return r
}

// fullName names a full frame for the counts: "NEW", "ACK", "voice", ...
func fullName(f *iax.FullFrame) string {
	if sub, ok := f.IAXSubclass(); ok {
		return sub.String()
	}
	if sub, ok := f.ControlSubclass(); ok {
		return "control " + sub.String()
	}
	return f.Type.String()
}

// tsharkIAX summarises a capture as Wireshark's own IAX2 dissector sees
// it on port 4569: how many datagrams of each packet type (0 mini voice,
// 1 full, 2 mini video, 3 meta), frame type, IAX subclass and meta
// command, from frame from on.
func tsharkIAX(t *testing.T, path string, from int) string {
	t.Helper()
	args := []string{"-r", path, "-d", fmt.Sprintf("udp.port==%d,iax2", daemonPort),
		"-Y", fmt.Sprintf("frame.number >= %d", from), "-T", "fields",
		"-e", "iax2.packet_type", "-e", "iax2.type", "-e", "iax2.iax.subclass", "-e", "iax2.trunk.metacmd"}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		key := "packet_type=" + f[0]
		if len(f) > 1 && f[1] != "" {
			key += " type=" + f[1]
		}
		if len(f) > 2 && f[2] != "" {
			key += " iax=" + f[2]
		}
		if len(f) > 3 && f[3] != "" {
			key += " metacmd=" + f[3]
		}
		counts[key]++
	}
	return countsString(counts)
}

// tsharkFieldsPort is tsharkFields with the IAX2 dissector on port.
func tsharkFieldsPort(t *testing.T, file string, port int, filter string, fields ...string) []string {
	t.Helper()
	args := []string{"-r", file, "-d", fmt.Sprintf("udp.port==%d,iax2", port), "-Y", filter, "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// tsharkClearMedia counts, with Wireshark's dissector, the cleartext media
// after frame from: mini voice and video frames (packet types 0 and 2),
// trunk frames (packet type 3, meta command 1; Wireshark shows iaxcrypt's
// frames as packet type 3 with meta command 0x45), and full voice and
// video frames (types 2 and 3). A cross-check of readWire for captures
// whose calls are all encrypted.
func tsharkClearMedia(t *testing.T, path string, from int) int {
	t.Helper()
	filter := fmt.Sprintf("frame.number > %d && (iax2.packet_type == 0 || iax2.packet_type == 2 || (iax2.packet_type == 3 && iax2.trunk.metacmd == 1) || (iax2.packet_type == 1 && (iax2.type == 2 || iax2.type == 3)))", from)
	out, err := exec.Command("tshark", "-r", path, "-d", fmt.Sprintf("udp.port==%d,iax2", daemonPort), "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark -Y %q: %v", filter, err)
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return 0
	}
	return len(strings.Split(s, "\n"))
}
