//go:build linux

package netns_test

import (
	"fmt"
	"net"
	"time"

	"github.com/switchboard-go/switchboard/internal/netns"
)

// Two namespaces; B drops every second datagram that arrives over the link.
func Example() {
	p, err := netns.Create()
	if err != nil {
		panic(err)
	}
	defer p.Close()
	if err := p.B.SetLoss(netns.Loss{Every: 2}); err != nil {
		panic(err)
	}
	srv, err := p.B.ListenUDP(0)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	cli, err := p.A.ListenUDP(0)
	if err != nil {
		panic(err)
	}
	defer cli.Close()

	for i := range 4 {
		_, _ = cli.WriteToUDPAddrPort([]byte{byte('0' + i)}, srv.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	buf := make([]byte, 8)
	for {
		_ = srv.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := srv.Read(buf)
		if err != nil {
			break
		}
		fmt.Println("B got", string(buf[:n]))
	}
	c, _ := p.B.Counters()
	fmt.Println("dropped", c.Dropped, "accepted", c.Accepted)
	// Output:
	// B got 0
	// B got 2
	// dropped 2 accepted 2
}
