package impair

import (
	"net"
	"syscall"
)

// growBuffers enlarges a socket's kernel buffers so that a burst arriving while the
// relay is briefly descheduled is queued rather than dropped: the relay must not add loss
// of its own. SO_RCVBUFFORCE goes past net.core.rmem_max when the process may (root);
// otherwise the plain setting, capped by the kernel, is what we get.
func growBuffers(c *net.UDPConn) {
	const size = 4 << 20
	_ = c.SetReadBuffer(size)
	_ = c.SetWriteBuffer(size)
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, size)
		})
	}
}
