package faxtest

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// TestBaselineFaxBothDirections faxes a page from A to B and from B to A
// across a veth link between two namespaces, with no iaxcrypt involved: the
// reference the end-to-end tests are measured against. One retry per
// direction absorbs the occasional lost T.30 frame between two iaxmodems on
// a loaded machine; a failed first attempt is logged. The receiver's
// responses must have gone through the harness's ResponseDelay.
func TestBaselineFaxBothDirections(t *testing.T) {
	RequireTools(t)
	a, b := netns.NewPair(t, "faxbase")
	ma := StartModem(t, a, ModemConfig{Name: "a", Dial: netip.AddrPortFrom(b.IP(), DefaultPort)})
	mb := StartModem(t, b, ModemConfig{Name: "b", Dial: netip.AddrPortFrom(a.IP(), DefaultPort)})
	page := MakePage(t, t.TempDir())

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for i, dir := range []struct{ from, to *Modem }{{ma, mb}, {mb, ma}} {
		if i > 0 {
			WaitIdle(t, 30*time.Second, ma, mb)
		}
		res := TransferRetry(ctx, t, dir.from, dir.to, page, 2)
		if err := res.Err(); err != nil {
			t.Fatalf("%v\n--- iaxmodem %s:\n%s\n--- iaxmodem %s:\n%s", err,
				dir.from.Config.Name, dir.from.Log(), dir.to.Config.Name, dir.to.Log())
		}
		// CFR after TCF, MCF after the page.
		if res.ResponsesDelayed < 2 {
			t.Errorf("%s -> %s: %d responses went through ResponseDelay, want at least 2 (CFR, MCF)", res.From, res.To, res.ResponsesDelayed)
		}
		t.Logf("%s -> %s: %d lines, 0 errors, %v, %d responses delayed", res.From, res.To, res.Pages[0].Lines, res.Duration.Round(time.Second), res.ResponsesDelayed)
	}
}

func TestParseReceived(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want []Page
	}{
		{
			name: "clean page",
			log: `efax: 38:45 sent CFR - channel OK
efax: 38:49 received 412 lines, 0 errors
efax: 38:49 received -> /tmp/x/recv.001
efax: 38:50 received EOP - done`,
			want: []Page{{Lines: 412, Errors: 0, File: "/tmp/x/recv.001"}},
		},
		{
			name: "page with errors then retransmission",
			log: `efax: 39:17 Warning: 33 reception errors
efax: 39:17 received 492 lines, 33 errors
efax: 39:17 received -> /tmp/x/recv.001
efax: 39:19 sent RTN - page not OK, check channel
efax: 39:40 received 412 lines, 0 errors
efax: 39:40 received -> /tmp/x/recv.002`,
			want: []Page{{492, 33, "/tmp/x/recv.001"}, {412, 0, "/tmp/x/recv.002"}},
		},
		{
			name: "no page",
			log:  "efax: 41:56 sent DIS - answering capabilities\nefax: 42:02 done, returning 3 (invalid modem response)\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseReceived(tt.log)
			if len(got) != len(tt.want) {
				t.Fatalf("ParseReceived = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("page %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestResultErr(t *testing.T) {
	ok := Page{Lines: 412}
	tests := []struct {
		name string
		res  Result
		want string // substring of the error; "" for success
	}{
		{"success", Result{Pages: []Page{ok}}, ""},
		{"sender failed", Result{SendExit: ExitProtocol, Pages: []Page{ok}}, "sender efax: modem protocol error"},
		{"receiver exit 0 but errors", Result{Pages: []Page{{Lines: 492, Errors: 33}}}, "33 of 492 lines with errors"},
		{"nothing arrived", Result{SendExit: ExitFailed, RecvExit: ExitProtocol}, "no page received"},
		{"retransmitted", Result{Pages: []Page{ok, ok}}, "2 pages received"},
		{"receiver killed", Result{RecvExit: -1, Pages: []Page{ok}}, "killed or not finished"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.res.Err()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrFax) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err() = %v, want ErrFax mentioning %q", err, tt.want)
			}
		})
	}
}

func TestIdleAt(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	margin := BusyOut + time.Second + 200*time.Millisecond
	tests := []struct {
		name    string
		log     string
		want    time.Time
		wantErr bool
	}{
		{"no call yet", "[2026-11-25 22:44:20] Modem started\n[2026-11-25 22:44:20] Created /tmp/x symbolic link\n", time.Time{}, false},
		{
			"last of several hangups",
			"[2026-11-25 22:44:39] Hanging Up\n[2026-11-25 22:44:51] Answering\n[2026-11-25 22:44:56] Remote hangup.\n[2026-11-25 22:44:57] Hanging Up\n",
			ts("2026-11-25 22:44:57").Add(margin), false,
		},
		{"unstamped hangup line", "Hanging Up\n", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IdleAt(tt.log)
			if (err != nil) != tt.wantErr {
				t.Fatalf("IdleAt error = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("IdleAt = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigText(t *testing.T) {
	got := configText(ModemConfig{Name: "a", Port: 4571, Dial: netip.MustParseAddrPort("10.77.0.2:4569"), Codec: "ulaw", CIDNumber: "1a"}, "/tmp/f/ttya")
	for _, want := range []string{"device /tmp/f/ttya\n", "port 4571\n", "refresh 0\n", "server 10.77.0.2:4569\n", "codec ulaw\n", "cidnumber 1a\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	// iaxmodem ignores a whole line containing '%'.
	if strings.Contains(got, "%") {
		t.Errorf("config contains %%:\n%s", got)
	}

	reg := configText(ModemConfig{Name: "b", Port: 4580, Dial: netip.MustParseAddrPort("127.0.0.1:4571"), PeerName: "modemb", Secret: "pw"}, "/tmp/f/ttyb")
	for _, want := range []string{"refresh 60\n", "server 127.0.0.1:4571\n", "peername modemb\n", "secret pw\n"} {
		if !strings.Contains(reg, want) {
			t.Errorf("registering config lacks %q:\n%s", want, reg)
		}
	}
}

func TestFTHMatcher(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []bool
	}{
		{"whole command", []string{"AT+FTH=3\r"}, []bool{true}},
		{"lower case", []string{"at+fth=3\r"}, []bool{true}},
		{"split over chunks", []string{"AT+F", "TH", "=3\r"}, []bool{false, false, true}},
		{"other commands", []string{"AT+FRH=3\r", "AT+FTM=146\r", "AT+FTH=24\r"}, []bool{false, false, false}},
		{"not matched twice", []string{"AT+FTH=3\r", "\xff\x13", "\x84"}, []bool{true, false, false}},
		{"two in a row", []string{"AT+FTH=3\r", "AT+FTH=3\r"}, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m fthMatcher
			for i, c := range tt.chunks {
				if got := m.Feed([]byte(c)); got != tt.want[i] {
					t.Errorf("chunk %d %q: Feed = %v, want %v", i, c, got, tt.want[i])
				}
			}
		})
	}
}
