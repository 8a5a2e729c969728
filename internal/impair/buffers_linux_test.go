package impair_test

import (
	"net"
	"syscall"
)

// forceBuffers gives a test socket 4 MB kernel buffers, past net.core.rmem_max when
// running as root, so that a test endpoint descheduled for a while on a busy machine does
// not lose packets the relay's counters say were delivered.
func forceBuffers(c *net.UDPConn) {
	_ = c.SetReadBuffer(4 << 20)
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 4<<20)
		})
	}
}
