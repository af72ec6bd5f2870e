package daemon

import (
	"fmt"
	"log/slog"

	"github.com/iaxcrypt/iaxcrypt/knownpeers"
	"github.com/iaxcrypt/iaxcrypt/trust"
)

// openTrust opens the known-peers store of the state directory (locked
// for as long as the daemon runs, saved off the packet path) and the
// per-peer rules around it. close saves what is pending and unlocks.
func openTrust(o Config, log *slog.Logger) (tr *trust.Trust, store *knownpeers.Store, close func(), err error) {
	path := knownpeers.Path(o.StateDir)
	store, lineErrs, err := knownpeers.Open(path, knownpeers.Options{Log: log, Lock: true})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w (is another iaxcrypt running with --state-dir %s?)", err, o.StateDir)
	}
	for _, e := range lineErrs {
		log.Warn("known peers: bad line", "err", e)
	}
	store.Start()
	log.Info("known peers", "file", path, "peers", store.Len())
	tr = trust.New(store, trust.Rules{Policy: o.Policy, Peers: o.PeerRules})
	close = func() {
		if err := store.Close(); err != nil {
			log.Error("save known peers", "err", err)
		}
	}
	return tr, store, close, nil
}
