// Package keystore keeps the daemon's long-term identity key on disk: one
// file, DIR/identity.key, holding the base64 X25519 private key on one
// line, readable by its owner only. The key itself is never logged.
package keystore
