package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// doctorReport is the JSON of `iaxcrypt doctor --json`, with its own types
// (see status).
type doctorReport struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
}

func runDoctor(t *testing.T, d *daemon) (doctorReport, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := d.host.Command(ctx, d.bin, "doctor", "--json", "--control", d.control, "--state-dir", d.stateDir)
	out, _ := cmd.Output()
	var r doctorReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("doctor --json: %v: %s", err, out)
	}
	return r, cmd.ProcessState.ExitCode()
}

// checkStatus returns the status of the named check ("" if absent).
func checkStatus(r doctorReport, name string) string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

// TestDoctor runs `iaxcrypt doctor` against a daemon in a namespace: all
// checks pass on a sound set-up, and each broken set-up (route into the
// TUN missing, kill switch missing, key readable by others, rule of the
// application's port missing, daemon down) fails its check, says how to
// fix it, and makes the exit status 1.
func TestDoctor(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	a, b := netns.NewPair(t, "iaxdoc")
	// A default route, as a real host has: the daemon's socket must leave
	// on it.
	a.MustRun("ip", "route", "add", "default", "via", b.IP().String())
	d := newDaemon(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := a.Run(ctx, d.bin, "route", "add", b.IP().String(), "--control", d.control); err != nil {
		t.Fatalf("route add: %v: %s", err, out)
	}

	r, code := runDoctor(t, d)
	if !r.OK || code != 0 {
		t.Fatalf("doctor on a sound set-up: ok %v, exit %d: %+v", r.OK, code, r.Checks)
	}
	for _, name := range []string{"daemon", "tun", "routing", "kill switch", "application's datagrams", "peer " + b.IP().String(), "daemon's socket", "identity key"} {
		if s := checkStatus(r, name); s != "pass" {
			t.Errorf("check %q: %q, want pass", name, s)
		}
	}

	table := "17769"
	key := filepath.Join(d.stateDir, "identity.key")
	breaks := []struct {
		name       string
		breakIt    []string
		restore    []string
		chmod      os.FileMode // for the key case
		wantFailed []string
	}{
		{"route into the TUN missing", []string{"ip", "route", "del", "default", "dev", "iax0", "table", table},
			[]string{"ip", "route", "add", "default", "dev", "iax0", "table", table, "metric", "10"}, 0, []string{"routing", "application's datagrams", "peer " + b.IP().String()}},
		{"kill switch missing", []string{"ip", "route", "del", "blackhole", "default", "table", table},
			[]string{"ip", "route", "add", "blackhole", "default", "table", table, "metric", "1000000"}, 0, []string{"kill switch"}},
		{"rule of the application's port missing", []string{"ip", "rule", "del", "pref", "4561"},
			[]string{"ip", "rule", "add", "pref", "4561", "ipproto", "udp", "sport", fmt.Sprint(appPort), "lookup", table}, 0, []string{"routing", "application's datagrams"}},
		{"key readable by others", nil, nil, 0o644, []string{"identity key"}},
	}
	for _, br := range breaks {
		if br.breakIt != nil {
			a.MustRun(br.breakIt[0], br.breakIt[1:]...)
		} else if err := os.Chmod(key, br.chmod); err != nil {
			t.Fatal(err)
		}
		r, code := runDoctor(t, d)
		if r.OK || code != 1 {
			t.Errorf("%s: ok %v, exit %d; want a failure", br.name, r.OK, code)
		}
		for _, c := range r.Checks {
			want := false
			for _, w := range br.wantFailed {
				want = want || c.Name == w
			}
			if want && (c.Status != "fail" || c.Fix == "") {
				t.Errorf("%s: check %q is %q (fix %q), want fail with a fix", br.name, c.Name, c.Status, c.Fix)
			}
			if !want && c.Status == "fail" {
				t.Errorf("%s: check %q failed too: %s", br.name, c.Name, c.Detail)
			}
		}
		if br.restore != nil {
			a.MustRun(br.restore[0], br.restore[1:]...)
		} else if err := os.Chmod(key, 0o600); err != nil {
			t.Fatal(err)
		}
		if r, _ := runDoctor(t, d); !r.OK {
			t.Fatalf("after restoring from %q: %+v", br.name, r.Checks)
		}
	}

	// The daemon down: doctor says so and fails.
	if err := d.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	r, code = runDoctor(t, d)
	if r.OK || code != 1 || checkStatus(r, "daemon") != "fail" {
		t.Errorf("daemon stopped: ok %v, exit %d, daemon check %q", r.OK, code, checkStatus(r, "daemon"))
	}
}
