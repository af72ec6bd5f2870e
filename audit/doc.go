// Package audit owns `iaxcrypt audit`: it reads a packet capture (pcap or
// pcapng) and reports every IAX2 call in it — endpoints, both call numbers,
// the iaxcrypt marker offered in the NEW and answered in the ACCEPT, when
// each side started encrypting, the frames of each kind — and every frame of
// an encrypted call that crossed in cleartext after the switch.
//
// The package reads the capture file and does no other I/O. It decodes
// link, IP and UDP headers itself (decode.go) so that every packet it cannot
// check — an IP fragment, a packet cut by the snap length, a malformed
// header — is counted as unreadable rather than silently skipped, and it
// follows calls the way chan_iax2 sets them up (calls.go): a NEW may be
// answered with CALLTOKEN from a placeholder call number, the callee's real
// number appears first in AUTHREQ or ACCEPT, and a call number may be reused
// by a new NEW once its call is over.
package audit
