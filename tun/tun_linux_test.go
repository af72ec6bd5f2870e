package tun

import (
	"errors"
	"net"
	"os/exec"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/platform/nstest"
)

func TestKernelCreateExistsDelete(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	dev, err := Create("iaxt1", 1380)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := dev.Name()
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if ifc.Flags&net.FlagUp == 0 || ifc.MTU != 1380 {
		t.Errorf("TUN %s: flags %v, MTU %d; want up and 1380", name, ifc.Flags, ifc.MTU)
	}
	if !Exists(name) || Exists("iaxt-none") {
		t.Error("Exists is wrong about iaxt1 or iaxt-none")
	}
	dev.Close()

	// A persistent TUN, as another process might leave behind.
	if out, err := exec.Command("ip", "tuntap", "add", "mode", "tun", "name", "iaxt2").CombinedOutput(); err != nil {
		t.Fatalf("ip tuntap add: %v: %s", err, out)
	}
	tests := []struct {
		name    string
		wantErr error
		gone    bool
	}{
		{"iaxt2", nil, true},
		{"iaxt2", nil, true}, // already gone: not an error
		{nstest.Iface, ErrNotTUN, false},
	}
	for _, tt := range tests {
		err := Delete(tt.name)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("Delete(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
		if Exists(tt.name) == tt.gone {
			t.Errorf("after Delete(%s) Exists = %v", tt.name, !tt.gone)
		}
	}
	if _, err := Create(nstest.Iface, 1400); !errors.Is(err, ErrNotTUN) {
		t.Errorf("Create over a veth = %v, want ErrNotTUN", err)
	}
}
