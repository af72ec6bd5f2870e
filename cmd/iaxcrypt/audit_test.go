package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// leakyCapture writes a call whose callee answers with a marker and then
// sends a mini frame in clear.
func leakyCapture(t *testing.T, port uint16) string {
	t.Helper()
	a := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port)
	b := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), port)
	marker := func(typ byte) []byte { return []byte{crypt.MarkerIE, 2, crypt.Version, typ} }
	full := func(src, dst uint16, oseq, iseq uint8, sub iax.IAXSubclass, ies []byte) []byte {
		f := iax.FullFrame{SrcCall: src, DstCall: dst, OSeq: oseq, ISeq: iseq, Type: iax.FrameIAX, Subclass: uint8(sub), Payload: ies}
		return f.AppendTo(nil)
	}
	mini := iax.MiniFrame{SrcCall: 20, Timestamp: 40, Payload: []byte{1, 2, 3}}
	dgs := []pcapread.Datagram{
		{Src: a, Dst: b, Payload: full(10, 0, 0, 0, iax.IAXNew, marker(crypt.MarkerOffer))},
		{Src: b, Dst: a, Payload: full(20, 10, 0, 1, iax.IAXAccept, marker(crypt.MarkerAnswer))},
		{Src: b, Dst: a, Payload: mini.AppendTo(nil)},
	}
	path := filepath.Join(t.TempDir(), "leak.pcap")
	if err := pcapread.WriteUDP(path, dgs); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditExitStatus(t *testing.T) {
	clean := "../../iax/testdata/captures/busy-reject.pcap"
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, []byte("not a capture"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"clean capture", []string{"audit", clean}, exitOK, "result: 1 call, 0 encrypted, 0 frames", ""},
		{"leak", []string{"audit", leakyCapture(t, 4569)}, exitLeak, "LEAK call 1 packet 3", ""},
		{"leak on another port is other traffic", []string{"audit", leakyCapture(t, 6000)}, exitOK, "no IAX2 calls", ""},
		{"leak on a port given with --port", []string{"audit", "--port", "6000", leakyCapture(t, 6000)}, exitLeak, "LEAK", ""},
		{"not a capture", []string{"audit", garbage}, exitError, "", "neither pcap nor pcapng"},
		{"missing file", []string{"audit", filepath.Join(t.TempDir(), "none.pcap")}, exitError, "", "no such file"},
		{"no file", []string{"audit"}, exitUsage, "", "usage: iaxcrypt audit FILE"},
		{"two files", []string{"audit", clean, clean}, exitUsage, "", "usage"},
		{"port zero", []string{"audit", "--port", "0", clean}, exitUsage, "", "--port 0"},
		{"port too big", []string{"audit", "--port", "70000", clean}, exitUsage, "", "--port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.out) || !strings.Contains(stderr, tt.err) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
		})
	}
}

// TestAuditJSON checks the field names the README documents.
func TestAuditJSON(t *testing.T) {
	code, stdout, stderr := runArgs("audit", "--json", leakyCapture(t, 4569))
	if code != exitLeak {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Packets int `json:"packets"`
		Leaks   int `json:"leaks"`
		Calls   []struct {
			Caller     string `json:"caller"`
			CallerCall int    `json:"caller_call"`
			CalleeCall int    `json:"callee_call"`
			Encryption string `json:"encryption"`
			Offer      struct {
				Version int `json:"version"`
			} `json:"offer"`
			CalleeEncrypts struct {
				Packet int `json:"packet"`
			} `json:"callee_encrypts_from"`
			Leaks []struct {
				Packet int    `json:"packet"`
				Side   string `json:"side"`
				Kind   string `json:"kind"`
			} `json:"leaks"`
		} `json:"calls"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if r.Packets != 3 || r.Leaks != 1 || len(r.Calls) != 1 {
		t.Fatalf("%+v", r)
	}
	c := r.Calls[0]
	if c.Caller != "192.0.2.1:4569" || c.CallerCall != 10 || c.CalleeCall != 20 || c.Encryption != "encrypted" ||
		c.Offer.Version != crypt.Version || c.CalleeEncrypts.Packet != 2 || len(c.Leaks) != 1 || c.Leaks[0].Packet != 3 ||
		c.Leaks[0].Side != "callee" || c.Leaks[0].Kind != "mini" {
		t.Fatalf("%+v", c)
	}
}
