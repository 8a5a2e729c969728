//go:build !linux

package impair

import "net"

// growBuffers enlarges a socket's kernel buffers so that a burst arriving while the
// relay is briefly descheduled is queued rather than dropped.
func growBuffers(c *net.UDPConn) {
	const size = 4 << 20
	_ = c.SetReadBuffer(size)
	_ = c.SetWriteBuffer(size)
}
