package daemon

import (
	"net/netip"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

func TestCallStatus(t *testing.T) {
	peer := netip.MustParseAddrPort("10.0.0.2:4569")
	var key crypt.PublicKey
	key[0] = 7
	tests := []struct {
		name string
		in   engine.CallInfo
		want func(t *testing.T, cs control.CallStatus)
	}{
		{"encrypted call shows its keys, no reason", engine.CallInfo{
			Peer: peer, LocalCall: 1, RemoteCall: 2, Status: engine.StatusEncrypted, Encrypted: true,
			Cipher: crypt.CipherAES256GCM, SAS: crypt.SAS{1, 2, 3, 4}, PeerIdentity: key, Reason: "ignored",
		}, func(t *testing.T, cs control.CallStatus) {
			if cs.State != "encrypted" || cs.Cipher != "aes-256-gcm" || cs.SAS == "" || cs.PeerIdentity != key.Fingerprint() || cs.Reason != "" {
				t.Fatalf("%+v", cs)
			}
		}},
		{"cleartext call says why, no keys", engine.CallInfo{
			Peer: peer, Status: engine.StatusCleartext, Reason: "the peer did not answer the offer",
		}, func(t *testing.T, cs control.CallStatus) {
			if cs.State != "cleartext" || cs.Cipher != "" || cs.SAS != "" || cs.PeerIdentity != "" || cs.Reason == "" {
				t.Fatalf("%+v", cs)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := callStatus(tc.in)
			if cs.Peer != "10.0.0.2:4569" {
				t.Fatalf("peer %q", cs.Peer)
			}
			tc.want(t, cs)
		})
	}
}
