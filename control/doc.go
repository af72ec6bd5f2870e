// Package control is the daemon's local control socket: a unix socket
// speaking JSON lines, one request and one response a line, used by
// `iaxcrypt status` and `iaxcrypt route`. The socket is created mode 0600,
// so only root (the daemon's owner) can use it.
//
// Requests:
//
//	{"op":"status"}
//	{"op":"route-add","peer":"192.0.2.7"}
//	{"op":"route-del","peer":"192.0.2.7"}
//	{"op":"peers-list"}, {"op":"peers-verify",...}, {"op":"peers-forget",...} (see peers.go)
//
// A status response is a Status object; a route response is {} on success.
// Any failed request gets {"error":"what failed and what to do"}.
package control
