package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iaxcrypt/iaxcrypt/device"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

// metricsSource is what the metrics endpoint reads at scrape time: the
// data path's and the engine's counters and the calls the engine follows.
// Nothing is counted for the metrics on the packet path.
type metricsSource struct {
	device func() device.Stats
	engine func() engine.Stats
	calls  func(now time.Time) []engine.CallInfo
}

// metricsCollector turns a metricsSource into Prometheus metrics on each
// scrape (a prometheus.Collector).
type metricsCollector struct {
	src metricsSource

	packets, notIAX, passedThrough, deviceDrops, ioErrors *prometheus.Desc
	enginePackets, engineDrops, handshakes                *prometheus.Desc
	activeCalls, callWarnings                             *prometheus.Desc
}

func newMetricsCollector(src metricsSource) *metricsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("iaxcrypt_"+name, help, labels, nil)
	}
	return &metricsCollector{
		src:           src,
		packets:       d("packets_total", "Datagrams through the data path by direction: from_app/to_network (TUN to socket), from_network/to_app (socket to TUN).", "direction"),
		notIAX:        d("not_iax_packets_total", "TUN packets that were neither the application's IAX2 nor passed through; dropped."),
		passedThrough: d("passed_through_packets_total", "TUN packets that were not IAX2 and were sent out unchanged."),
		deviceDrops:   d("device_drops_total", "Datagrams the data path dropped, by reason (engine: the engine decided; no_app_addr: no local address of the application known).", "reason"),
		ioErrors:      d("io_errors_total", "Datagrams lost to I/O errors, by operation (send: socket, write: TUN, read: either, pass_through: raw socket).", "op"),
		enginePackets: d("engine_packets_total", "Packets the engine handled, by kind: sealed, opened, clear (forwarded unchanged).", "kind"),
		engineDrops:   d("engine_drops_total", "Packets the engine dropped, by reason.", "reason"),
		handshakes:    d("handshakes_total", "Calls by outcome of the encryption handshake: encrypted, cleartext, failed.", "outcome"),
		activeCalls:   d("calls_active", "Calls going on now, by state and cipher (cipher \"none\" unless encrypted).", "state", "cipher"),
		callWarnings:  d("call_warnings", "Calls the daemon still lists (active or recently ended) that carry a warning, by kind.", "kind"),
	}
}

// Describe sends every metric's description.
func (c *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.packets, c.notIAX, c.passedThrough, c.deviceDrops, c.ioErrors,
		c.enginePackets, c.engineDrops, c.handshakes, c.activeCalls, c.callWarnings} {
		ch <- d
	}
}

// Collect reads the sources and sends the metrics.
func (c *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if c.src.device != nil {
		s := c.src.device()
		counter(c.packets, s.FromApp, "from_app")
		counter(c.packets, s.ToNetwork, "to_network")
		counter(c.packets, s.FromNetwork, "from_network")
		counter(c.packets, s.ToApp, "to_app")
		counter(c.notIAX, s.NotIAX)
		counter(c.passedThrough, s.PassedThrough)
		counter(c.deviceDrops, s.EngineDrops, "engine")
		counter(c.deviceDrops, s.NoAppAddr, "no_app_addr")
		counter(c.ioErrors, s.SendErrors, "send")
		counter(c.ioErrors, s.WriteErrors, "write")
		counter(c.ioErrors, s.ReadErrors, "read")
		counter(c.ioErrors, s.PassThroughErrors, "pass_through")
	}
	if c.src.engine != nil {
		s := c.src.engine()
		counter(c.enginePackets, s.SealedPackets, "sealed")
		counter(c.enginePackets, s.OpenedPackets, "opened")
		counter(c.enginePackets, s.ClearPackets, "clear")
		for r := range s.Dropped {
			if engine.DropReason(r) == engine.DropNone {
				continue
			}
			counter(c.engineDrops, s.Dropped[r], engine.DropReason(r).String())
		}
		counter(c.handshakes, s.Encrypted, "encrypted")
		counter(c.handshakes, s.Cleartext, "cleartext")
		counter(c.handshakes, s.Failed, "failed")
	}
	if c.src.calls != nil {
		type stateCipher struct{ state, cipher string }
		active := map[stateCipher]int{}
		warnings := map[engine.Warning]int{}
		for _, ci := range c.src.calls(time.Now()) {
			if ci.Warning != engine.WarnNone {
				warnings[ci.Warning]++
			}
			if !ci.Ended.IsZero() {
				continue
			}
			k := stateCipher{ci.Status.String(), "none"}
			if ci.Encrypted {
				k.cipher = ci.Cipher.String()
			}
			active[k]++
		}
		for k, n := range active {
			ch <- prometheus.MustNewConstMetric(c.activeCalls, prometheus.GaugeValue, float64(n), k.state, k.cipher)
		}
		for k, n := range warnings {
			ch <- prometheus.MustNewConstMetric(c.callWarnings, prometheus.GaugeValue, float64(n), string(k))
		}
	}
}

// metricsServer serves Prometheus metrics at /metrics on its own HTTP
// server (--metrics); off by default.
type metricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// startMetrics listens on addr (host:port) and serves the source's
// metrics, with Go's runtime and process metrics, until close.
func startMetrics(addr string, src metricsSource, log *slog.Logger) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(newMetricsCollector(src)); err != nil {
		return nil, fmt.Errorf("metrics endpoint: register collector: %w", err)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint on %s: %w (give --metrics HOST:PORT with a free port, e.g. 127.0.0.1:9469)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	m := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: httpIdleTimeout}, ln: ln}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics endpoint stopped", "err", err)
		}
	}()
	log.Info("metrics endpoint (Prometheus) listening", "addr", ln.Addr().String(), "path", "/metrics")
	return m, nil
}

// addr is the address the server listens on (the port chosen for :0).
func (m *metricsServer) addr() string { return m.ln.Addr().String() }

func (m *metricsServer) close() { m.srv.Close() }
