package peer

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

// Loopback is the only address tests use.
const Loopback = "127.0.0.1"

// portRange is where ports are picked: above the registered range and below the Linux
// ephemeral range (32768+), so the kernel's own choices for other sockets do not collide
// with ours.
const (
	portMin = 20000
	portMax = 32000
)

// reserved remembers every port handed out by this test binary, so two peers in one test
// never get the same port even before either has bound it. Test binaries of different
// packages run as separate processes; random placement plus the bind check keeps them apart.
var reserved = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort returns a UDP and TCP port on 127.0.0.1 that is free now.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePortRange(t, 1)
}

// FreePortRange returns the first of n consecutive free ports (UDP and TCP) on 127.0.0.1;
// the first is even, as RTP wants.
func FreePortRange(t testing.TB, n int) int {
	t.Helper()
	p, err := AllocPorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// AllocPorts is FreePortRange without a testing.TB.
func AllocPorts(n int) (int, error) {
	reserved.Lock()
	defer reserved.Unlock()
	for attempt := 0; attempt < 200; attempt++ {
		base := portMin + 2*rand.IntN((portMax-portMin-n)/2)
		if rangeFree(base, n) {
			for p := base; p < base+n; p++ {
				reserved.ports[p] = true
			}
			return base, nil
		}
	}
	return 0, fmt.Errorf("peer: no %d consecutive free ports in %d-%d", n, portMin, portMax)
}

func rangeFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		if reserved.ports[p] || !portFree(p) {
			return false
		}
	}
	return true
}

func portFree(port int) bool {
	addr := fmt.Sprintf("%s:%d", Loopback, port)
	u, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return false
	}
	defer u.Close()
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// Addr formats 127.0.0.1:port.
func Addr(port int) string { return fmt.Sprintf("%s:%d", Loopback, port) }
