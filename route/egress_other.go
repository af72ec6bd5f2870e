//go:build !darwin

package route

import (
	"context"
	"fmt"
)

// WatchRoutingMessages reports ErrUnsupported: only macOS pins the
// daemon's sockets to an interface (Linux marks them instead).
func WatchRoutingMessages(ctx context.Context) (<-chan []byte, error) {
	return nil, fmt.Errorf("follow the default route: %w", ErrUnsupported)
}

// DefaultRouteInterface reports ErrUnsupported (see WatchRoutingMessages).
func DefaultRouteInterface() (string, error) {
	return "", fmt.Errorf("default route interface: %w", ErrUnsupported)
}
