package route

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// WatchRoutingMessages opens a routing socket and delivers, until ctx is
// done, the messages the kernel broadcasts on it that may have moved the
// default route (mayMoveDefault). They are only notices for
// EgressFollower, so when it lags the newest are dropped: one already
// pending triggers the same lookup.
func WatchRoutingMessages(ctx context.Context) (<-chan []byte, error) {
	fd, err := unix.Socket(unix.AF_ROUTE, unix.SOCK_RAW, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("open routing socket to follow the default route: %w", err)
	}
	unix.CloseOnExec(fd)
	out := make(chan []byte, 64)
	go func() {
		defer close(out)
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		for ctx.Err() == nil {
			// Poll with a timeout rather than block in read, so the
			// routine sees ctx end within half a second.
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, 500); err != nil && !errors.Is(err, unix.EINTR) {
				return
			}
			if fds[0].Revents&unix.POLLIN == 0 {
				continue
			}
			n, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				// ENOBUFS: the kernel dropped messages for us;
				// what follows still triggers a lookup.
				continue
			}
			if err != nil || n == 0 {
				return
			}
			if !mayMoveDefault(buf[:n]) {
				continue
			}
			select {
			case out <- append([]byte(nil), buf[:n]...):
			default:
			}
		}
	}()
	return out, nil
}

// DefaultRouteInterface asks the kernel (RTM_GET) for the interface of
// the IPv4 default route, else the IPv6 one.
func DefaultRouteInterface() (string, error) {
	name, err := RouteInterface(netip.IPv4Unspecified())
	if err == nil {
		return name, nil
	}
	if name6, err6 := RouteInterface(netip.IPv6Unspecified()); err6 == nil {
		return name6, nil
	}
	return "", err
}
