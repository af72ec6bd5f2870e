//go:build linux

// Command wgpeer runs one userspace WireGuard peer (golang.zx2c4.com/
// wireguard: device, TUN and the standard UDP bind) for the data-path
// benchmark: it creates the TUN, gives it an address, brings it up and
// serves the UAPI socket (/var/run/wireguard/NAME.sock), through which the
// benchmark sets keys, port, peer and allowed IPs. It runs until SIGINT or
// SIGTERM and prints "wgpeer: ready" once the UAPI socket listens.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
)

func main() {
	name := flag.String("name", "wg0", "interface name (also names the UAPI socket)")
	mtu := flag.Int("mtu", 1420, "interface MTU")
	addr := flag.String("addr", "", "address of the interface with its prefix, e.g. 10.99.0.1/24")
	flag.Parse()
	if err := run(*name, *mtu, *addr); err != nil {
		fmt.Fprintf(os.Stderr, "wgpeer: %v\n", err)
		os.Exit(1)
	}
}

func run(name string, mtu int, addr string) error {
	prefix, err := netip.ParsePrefix(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	tdev, err := tun.CreateTUN(name, mtu)
	if err != nil {
		return fmt.Errorf("create TUN %s: %w", name, err)
	}
	dev := device.NewDevice(tdev, conn.NewDefaultBind(), device.NewLogger(device.LogLevelError, "wgpeer: "))
	defer dev.Close()
	uf, err := ipc.UAPIOpen(name)
	if err != nil {
		return fmt.Errorf("open UAPI socket: %w", err)
	}
	uapi, err := ipc.UAPIListen(name, uf)
	if err != nil {
		return fmt.Errorf("listen on UAPI socket: %w", err)
	}
	defer uapi.Close()
	go func() {
		for {
			c, err := uapi.Accept()
			if err != nil {
				return
			}
			go dev.IpcHandle(c)
		}
	}()
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	ipn := &net.IPNet{IP: prefix.Addr().AsSlice(), Mask: net.CIDRMask(prefix.Bits(), prefix.Addr().BitLen())}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("address %s on %s: %w", prefix, name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	fmt.Println("wgpeer: ready")
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-term:
	case <-dev.Wait():
	}
	return nil
}
