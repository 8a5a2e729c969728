package rtpsession

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
)

// PortRange is an inclusive range of UDP ports for RTP. The zero value means
// 10000-20000.
type PortRange struct{ Min, Max int }

// Listen binds an RTP socket on an even port of ports at ip, and its RTCP socket on
// the next (odd) port unless rtcpMux is set, in which case rtcp is nil and RTCP shares
// the RTP socket. A zero ip means 127.0.0.1. The search starts at a random pair so
// that concurrent callers rarely collide, and tries every pair once before failing
// with ErrNoPorts. Pass the sockets to New with OwnConns set so that Close closes them.
func Listen(ip netip.Addr, ports PortRange, rtcpMux bool) (rtp, rtcp net.PacketConn, err error) {
	if !ip.IsValid() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	lo, hi := ports.Min, ports.Max
	if lo == 0 && hi == 0 {
		lo, hi = 10000, 20000
	}
	lo += lo & 1 // RTP takes even ports (RFC 3550 11)
	if lo < 2 || hi > 65535 || hi < lo+1 && !rtcpMux || hi < lo {
		return nil, nil, fmt.Errorf("%w: port range %d-%d", ErrInvalidConfig, ports.Min, ports.Max)
	}
	pairs := (hi-lo)/2 + 1
	first := rand.IntN(pairs)
	var lastErr error
	for i := range pairs {
		port := lo + 2*((first+i)%pairs)
		if !rtcpMux && port+1 > hi {
			continue
		}
		r, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			lastErr = err
			continue
		}
		if rtcpMux {
			return r, nil, nil
		}
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			lastErr = err
			_ = r.Close()
			continue
		}
		return r, c, nil
	}
	if lastErr == nil {
		lastErr = errors.New("empty range")
	}
	return nil, nil, fmt.Errorf("%w in %d-%d: %w", ErrNoPorts, ports.Min, ports.Max, lastErr)
}
