// Package knownpeers remembers the peers iaxcrypt met: for each one the
// identity key it presented (first seen when), when it was last seen,
// whether its last call was encrypted, and whether a person verified the
// SAS. It is iaxcrypt's known_hosts: the memory that turns a man in the
// middle with his own key, or an attacker who strips the marker, into a
// warning instead of silence (key continuity).
//
// The store lives in one text file, DIR/known_peers (mode 0600), one line
// per peer, easy to read and to edit by hand while the daemon is stopped:
//
//	# PEER          IDENTITY                                      FIELDS...
//	192.0.2.7       9LFNXqBGMpSH6SVZvOx4RoHSRbk0UwUz1uYjBw3mDWA=  first-seen=2026-01-02T03:04:05Z last-seen=2026-01-05T10:00:00Z last-call=encrypted verified=2026-01-02T03:10:00Z
//	pbxA@10.0.0.5   -                                             last-seen=2026-01-05T10:00:00Z last-call=clear
//
// PEER is the peer's IP address, or USER@ADDRESS when its calls name a user
// (the NEW's IAX2 username, else its calling number); in USER, bytes other
// than ASCII letters, digits and - . _ + * ~ are written %XX. IDENTITY is
// the identity fingerprint remembered for the peer (as `iaxcrypt identity`
// prints it), or "-" when none is known yet. The fields, in any order, all
// optional:
//
//	first-seen=TIME     when IDENTITY was first seen (RFC 3339, UTC)
//	last-seen=TIME      when the last call with the peer was set up
//	last-call=encrypted|clear
//	verified=TIME       when a person verified IDENTITY (SAS read aloud,
//	                    then `iaxcrypt peers verify`); absent: not verified
//	presented=IDENTITY  the last call presented this other identity: a
//	                    changed key, flagged, never adopted silently
//
// Lines starting with # and blank lines are ignored; comments are not kept
// when the daemon rewrites the file. A line that does not parse is reported
// with its line number, the rest of the file still loads, and the bad line
// is written back unchanged so that it can be fixed.
//
// Concurrency: the engine calls the lookups and NoteCall with its lock
// held, so they work in memory only, under the store's mutex. Changes are
// written by RoutineSave, coalesced, atomically (a temporary file in the
// same directory, fsync, rename, fsync of the directory): a crash or a
// full disk leaves the previous file whole.
package knownpeers
