package impair_test

import (
	"fmt"
	"net"
	"time"

	"github.com/switchboard-go/switchboard/internal/impair"
)

// A relay in front of a UDP echo server: every request is delayed by 20 ms on the way
// there and the reply comes back through the same relay.
func Example() {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = srv.WriteToUDPAddrPort(buf[:n], from)
		}
	}()

	relay, err := impair.Listen("127.0.0.1:0", srv.LocalAddr().String(), impair.Config{
		Upstream: impair.Impairment{Delay: 20 * time.Millisecond},
		Seed:     1,
	})
	if err != nil {
		panic(err)
	}
	defer relay.Close()

	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(relay.Addr()))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = c.Write([]byte("hello"))
	buf := make([]byte, 16)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s, after at least 20 ms: %v\n", buf[:n], time.Since(start) >= 20*time.Millisecond)
	// Received is counted before a packet is scheduled, so it is already up to date here.
	st := relay.Stats()
	fmt.Println("relayed up:", st.Upstream.Received, "down:", st.Downstream.Received)
	// Output:
	// hello, after at least 20 ms: true
	// relayed up: 1 down: 1
}
