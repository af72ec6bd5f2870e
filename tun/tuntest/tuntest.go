// Package tuntest provides Device, a channel-backed fake of wireguard's
// tun.Device, so that the daemon's data path runs in go test without root
// and without a kernel TUN.
//
// A test plays the kernel: Inject queues a packet as if the kernel had
// routed it into the TUN (the daemon gets it from Read), and Receive returns
// what the daemon wrote with Write (what the kernel would deliver to the
// local application).
package tuntest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	wgtun "golang.zx2c4.com/wireguard/tun"
)

// QueueLen bounds both packet queues of a Device. Inject and Write block
// when their queue is full, as a kernel queue applies back-pressure.
const QueueLen = 1024

// Device is a fake TUN device. Its methods are safe for concurrent use.
// Create it with New.
type Device struct {
	name  string
	mtu   int
	batch int

	// MinOffset makes Read and Write fail unless offset is at least this
	// large. Set it to 10 to catch code that would fail on Linux, where
	// wireguard's TUN needs room for a virtio-net header. Set it before the
	// device is used.
	MinOffset int

	inbound  chan []byte // injected by the test, read by the daemon
	outbound chan []byte // written by the daemon, received by the test

	mu     sync.Mutex // guards events against send after close
	events chan wgtun.Event
	done   chan struct{}
	once   sync.Once
}

var _ wgtun.Device = (*Device)(nil)

// New returns a fake device called name with the given MTU and batch size
// (values below 1 mean 1). Like a real device it reports EventUp once.
func New(name string, mtu, batchSize int) *Device {
	if batchSize < 1 {
		batchSize = 1
	}
	d := &Device{
		name:     name,
		mtu:      mtu,
		batch:    batchSize,
		inbound:  make(chan []byte, QueueLen),
		outbound: make(chan []byte, QueueLen),
		events:   make(chan wgtun.Event, 16),
		done:     make(chan struct{}),
	}
	d.events <- wgtun.EventUp
	return d
}

// Inject queues a copy of pkt for the daemon to Read, as if the kernel had
// routed it into the TUN. It blocks while the queue is full and returns
// os.ErrClosed once the device is closed.
func (d *Device) Inject(pkt []byte) error {
	p := append([]byte(nil), pkt...)
	select {
	case <-d.done:
		return os.ErrClosed
	default:
	}
	select {
	case d.inbound <- p:
		return nil
	case <-d.done:
		return os.ErrClosed
	}
}

// Outbound returns the channel of packets the daemon wrote, for tests that
// select over several sources. Each packet is a copy the test owns.
func (d *Device) Outbound() <-chan []byte { return d.outbound }

// Receive returns the next packet the daemon wrote, waiting at most
// timeout. It reports an error on timeout, so a test fails instead of
// hanging when the daemon writes nothing.
func (d *Device) Receive(timeout time.Duration) ([]byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p := <-d.outbound:
		return p, nil
	case <-t.C:
		return nil, fmt.Errorf("tuntest: no packet written to %s within %v", d.name, timeout)
	}
}

// SendEvent delivers e on the Events channel without blocking. It reports
// false if the device is closed or the event queue (16 events) is full.
func (d *Device) SendEvent(e wgtun.Event) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.done:
		return false
	default:
	}
	select {
	case d.events <- e:
		return true
	default:
		return false
	}
}

// File returns nil: there is no file behind a fake device.
func (d *Device) File() *os.File { return nil }

// Read blocks until at least one injected packet is queued, then copies up
// to min(len(bufs), BatchSize()) queued packets into bufs[i][offset:] and
// their lengths into sizes. It returns os.ErrClosed after Close.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if err := d.checkOffset(offset); err != nil {
		return 0, err
	}
	if len(sizes) < len(bufs) {
		return 0, errors.New("tuntest: read: sizes is shorter than bufs")
	}
	if len(bufs) == 0 {
		return 0, nil
	}
	var p []byte
	select {
	case p = <-d.inbound:
	case <-d.done:
		return 0, os.ErrClosed
	}
	n := 0
	for {
		if offset > len(bufs[n]) || len(bufs[n])-offset < len(p) {
			// A real TUN would truncate; failing loudly shows the
			// undersized buffer to the test instead.
			return n, fmt.Errorf("tuntest: read: buffer %d holds %d bytes after offset %d, packet has %d", n, len(bufs[n])-offset, offset, len(p))
		}
		sizes[n] = copy(bufs[n][offset:], p)
		n++
		if n == len(bufs) || n == d.batch {
			return n, nil
		}
		select {
		case p = <-d.inbound:
		default:
			return n, nil
		}
	}
}

// Write queues a copy of each bufs[i][offset:] for the test to Receive. It
// returns the number of packets queued, and os.ErrClosed after Close.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	if err := d.checkOffset(offset); err != nil {
		return 0, err
	}
	for i, b := range bufs {
		if offset > len(b) {
			return i, fmt.Errorf("tuntest: write: offset %d is past the end of buffer %d (%d bytes)", offset, i, len(b))
		}
		p := append([]byte(nil), b[offset:]...)
		select {
		case <-d.done:
			return i, os.ErrClosed
		default:
		}
		select {
		case d.outbound <- p:
		case <-d.done:
			return i, os.ErrClosed
		}
	}
	return len(bufs), nil
}

func (d *Device) checkOffset(offset int) error {
	if offset < 0 || offset < d.MinOffset {
		return fmt.Errorf("tuntest: invalid offset %d (this device needs at least %d)", offset, d.MinOffset)
	}
	return nil
}

// MTU returns the MTU given to New.
func (d *Device) MTU() (int, error) { return d.mtu, nil }

// Name returns the name given to New.
func (d *Device) Name() (string, error) { return d.name, nil }

// Events returns the event channel; it is closed by Close.
func (d *Device) Events() <-chan wgtun.Event { return d.events }

// BatchSize returns the batch size given to New.
func (d *Device) BatchSize() int { return d.batch }

// Close unblocks pending Read, Write and Inject calls and closes the event
// channel. It is idempotent.
func (d *Device) Close() error {
	d.once.Do(func() {
		d.mu.Lock()
		close(d.done)
		close(d.events)
		d.mu.Unlock()
	})
	return nil
}
