package daemon

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/device"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

// fakeMetricsSource has known counters and calls: two active encrypted
// calls with one cipher, one negotiating, one ended (not active) that
// carries a warning, and one active with another warning.
func fakeMetricsSource() metricsSource {
	var es engine.Stats
	es.SealedPackets, es.OpenedPackets, es.ClearPackets = 11, 12, 13
	es.Encrypted, es.Cleartext, es.Failed = 3, 4, 5
	es.Dropped[engine.DropReplay] = 7
	es.Dropped[engine.DropAuthentication] = 2
	now := time.Now()
	calls := []engine.CallInfo{
		{Status: engine.StatusEncrypted, Encrypted: true, Cipher: crypt.CipherChaCha20Poly1305},
		{Status: engine.StatusEncrypted, Encrypted: true, Cipher: crypt.CipherChaCha20Poly1305, Warning: engine.WarnIdentityChanged},
		{Status: engine.StatusNegotiating},
		{Status: engine.StatusCleartext, Warning: engine.WarnDowngradeSuspected, Ended: now},
	}
	return metricsSource{
		device: func() device.Stats {
			return device.Stats{FromApp: 100, ToNetwork: 99, FromNetwork: 50, ToApp: 49, NotIAX: 6, EngineDrops: 9, WriteErrors: 1}
		},
		engine: func() engine.Stats { return es },
		calls:  func(time.Time) []engine.CallInfo { return calls },
	}
}

// TestMetricsCollector checks the values and labels the collector reads
// from its source, metric by metric.
func TestMetricsCollector(t *testing.T) {
	c := newMetricsCollector(fakeMetricsSource())
	want := `
# HELP iaxcrypt_engine_packets_total Packets the engine handled, by kind: sealed, opened, clear (forwarded unchanged).
# TYPE iaxcrypt_engine_packets_total counter
iaxcrypt_engine_packets_total{kind="clear"} 13
iaxcrypt_engine_packets_total{kind="opened"} 12
iaxcrypt_engine_packets_total{kind="sealed"} 11
# HELP iaxcrypt_handshakes_total Calls by outcome of the encryption handshake: encrypted, cleartext, failed.
# TYPE iaxcrypt_handshakes_total counter
iaxcrypt_handshakes_total{outcome="cleartext"} 4
iaxcrypt_handshakes_total{outcome="encrypted"} 3
iaxcrypt_handshakes_total{outcome="failed"} 5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "iaxcrypt_engine_packets_total", "iaxcrypt_handshakes_total"); err != nil {
		t.Error(err)
	}
	wantCalls := `
# HELP iaxcrypt_calls_active Calls going on now, by state and cipher (cipher "none" unless encrypted).
# TYPE iaxcrypt_calls_active gauge
iaxcrypt_calls_active{cipher="chacha20-poly1305",state="encrypted"} 2
iaxcrypt_calls_active{cipher="none",state="negotiating"} 1
# HELP iaxcrypt_call_warnings Calls the daemon still lists (active or recently ended) that carry a warning, by kind.
# TYPE iaxcrypt_call_warnings gauge
iaxcrypt_call_warnings{kind="downgrade_suspected"} 1
iaxcrypt_call_warnings{kind="identity_changed"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantCalls), "iaxcrypt_calls_active", "iaxcrypt_call_warnings"); err != nil {
		t.Error(err)
	}
	// One drop series per reason but DropNone, zero or not.
	if n := testutil.CollectAndCount(c, "iaxcrypt_engine_drops_total"); n != len(engine.Stats{}.Dropped)-1 {
		t.Errorf("engine_drops_total has %d series, want one per reason (%d)", n, len(engine.Stats{}.Dropped)-1)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestMetricsEndpoint scrapes a real listener and looks for the data
// path's and the engine's series in the text exposition.
func TestMetricsEndpoint(t *testing.T) {
	m, err := startMetrics("127.0.0.1:0", fakeMetricsSource(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	resp, err := http.Get("http://" + m.addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, err %v", resp.StatusCode, err)
	}
	text := string(body)
	for _, line := range []string{
		`iaxcrypt_packets_total{direction="from_app"} 100`,
		`iaxcrypt_packets_total{direction="to_app"} 49`,
		`iaxcrypt_not_iax_packets_total 6`,
		`iaxcrypt_device_drops_total{reason="engine"} 9`,
		`iaxcrypt_io_errors_total{op="write"} 1`,
		`iaxcrypt_engine_drops_total{reason="replay"} 7`,
		`iaxcrypt_engine_drops_total{reason="authentication"} 2`,
		`iaxcrypt_engine_drops_total{reason="malformed"} 0`,
		`iaxcrypt_calls_active{cipher="chacha20-poly1305",state="encrypted"} 2`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("scrape lacks %q", line)
		}
	}
	if strings.Contains(text, `reason="none"`) {
		t.Error("scrape has a drop series for reason none")
	}
	m.close()
	if _, err := http.Get("http://" + m.addr() + "/metrics"); err == nil {
		t.Error("metrics endpoint still answers after close")
	}
}

// TestMetricsAddrInUse: a taken port is an error that says what to do.
func TestMetricsAddrInUse(t *testing.T) {
	m, err := startMetrics("127.0.0.1:0", fakeMetricsSource(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	_, err = startMetrics(m.addr(), fakeMetricsSource(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "--metrics") {
		t.Fatalf("second listener on %s: %v, want an error naming --metrics", m.addr(), err)
	}
}
