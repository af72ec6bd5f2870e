// Package config reads iaxcrypt's configuration file (TOML): the settings
// of `iaxcrypt up`, one key per flag, and the per-peer sections that set a
// peer's policy, pin its identity or route it through the daemon:
//
//	policy = "opportunistic"   # every flag of `iaxcrypt up` is a key: tun,
//	app-port = 4571            # app-port, listen, policy, state-dir, ...
//	listen = ":4569"
//
//	[[peer]]
//	match = "192.0.2.7"        # an address, a CIDR, or "user:NAME"
//	policy = "require"         # opportunistic, require or off
//	identity = "9LFNXqBGMpSH6SVZvOx4RoHSRbk0UwUz1uYjBw3mDWA="  # pinned
//	route = true               # as --peer 192.0.2.7 (single address only)
//
// The first section whose match fits a call applies. Every error names the
// file and line (Errors); the package owns the syntax and the per-peer
// sections, while the top-level settings are checked by the command line
// that owns the flags they stand for.
package config
