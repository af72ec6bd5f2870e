package tun

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

func TestIfAliasReqGolden(t *testing.T) {
	got, err := ifAliasReq("utun7", DefaultLocal4, DefaultPeer4)
	if err != nil {
		t.Fatal(err)
	}
	want := "7574756e37" + strings.Repeat("00", 11) + // ifra_name
		"1002" + "0000" + "a9fe4501" + strings.Repeat("00", 8) + // ifra_addr 169.254.69.1
		"1002" + "0000" + "a9fe4502" + strings.Repeat("00", 8) + // ifra_broadaddr (peer) 169.254.69.2
		"1002" + "0000" + "ffffffff" + strings.Repeat("00", 8) // ifra_mask /32
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("\n got %s\nwant %s", h, want)
	}
}

func TestIn6AliasReqGolden(t *testing.T) {
	got, err := in6AliasReq("utun7", DefaultLocal6)
	if err != nil {
		t.Fatal(err)
	}
	want := "7574756e37" + strings.Repeat("00", 11) + // ifra_name
		"1c1e" + "0000" + "00000000" + "fd696178637200000000000000000001" + "00000000" + // ifra_addr
		strings.Repeat("00", 28) + // ifra_dstaddr
		"1c1e" + "0000" + "00000000" + strings.Repeat("ff", 16) + "00000000" + // ifra_prefixmask /128
		"20000000" + // ifra_flags IN6_IFF_NODAD
		strings.Repeat("00", 16) + "ffffffff" + "ffffffff" // lifetimes: expire, preferred, vltime, pltime
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("\n got %s\nwant %s", h, want)
	}
}

func TestAliasReqRefuses(t *testing.T) {
	v4, v6 := DefaultLocal4, DefaultLocal6
	if _, err := ifAliasReq("utun7", v6, v4); err == nil {
		t.Error("IPv6 address accepted in an ifaliasreq")
	}
	if _, err := ifAliasReq("a-name-far-too-long", v4, v4); err == nil {
		t.Error("16-byte name accepted")
	}
	for _, a := range []string{"192.0.2.1", "::ffff:192.0.2.1", "fe80::1%utun7"} {
		if _, err := in6AliasReq("utun7", netip.MustParseAddr(a)); err == nil {
			t.Errorf("in6_aliasreq accepted %s", a)
		}
	}
}
