//go:build !linux

package impair_test

import "net"

// forceBuffers gives a test socket larger kernel buffers.
func forceBuffers(c *net.UDPConn) { _ = c.SetReadBuffer(4 << 20) }
