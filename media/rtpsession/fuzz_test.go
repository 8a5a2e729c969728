package rtpsession

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/switchboard-go/switchboard/media"
)

// nullConn is a PacketConn that never receives and discards what is written, so a
// fuzzed session runs its clock without touching the network.
type nullConn struct {
	once   sync.Once
	closed chan struct{}
	mu     sync.Mutex
	dl     chan struct{}
}

func newNullConn() *nullConn { return &nullConn{closed: make(chan struct{}), dl: make(chan struct{})} }

func (c *nullConn) ReadFrom([]byte) (int, net.Addr, error) {
	c.mu.Lock()
	dl := c.dl
	c.mu.Unlock()
	select {
	case <-c.closed:
		return 0, nil, net.ErrClosed
	case <-dl:
		return 0, nil, os.ErrDeadlineExceeded
	}
}
func (c *nullConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (c *nullConn) Close() error                              { c.once.Do(func() { close(c.closed) }); return nil }
func (c *nullConn) LocalAddr() net.Addr                       { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5004} }
func (c *nullConn) SetDeadline(t time.Time) error             { return c.SetReadDeadline(t) }
func (c *nullConn) SetWriteDeadline(time.Time) error          { return nil }
func (c *nullConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.IsZero() && !t.After(time.Now()) {
		close(c.dl)
	} else {
		c.dl = make(chan struct{})
	}
	return nil
}

var fuzzSources = [2]netip.AddrPort{
	netip.MustParseAddrPort("127.0.0.1:7000"),
	netip.MustParseAddrPort("127.0.0.2:7002"),
}

func fuzzSession(f *testing.F) *Session {
	s, err := New(newNullConn(), Config{
		Codec:             media.PCMU(),
		TelephoneEventPT:  101,
		RemoteAddr:        net.UDPAddrFromAddrPort(fuzzSources[0]),
		RTCPMux:           true,
		RTCPInterval:      50 * time.Millisecond,
		InactivityTimeout: -1,
		Rand:              fixedRand(5),
		OwnConns:          true,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	return s
}

func accounted(s *Session) uint64 {
	c := &s.stats
	return c.packetsReceived.Load() + c.droppedGarbage.Load() + c.droppedPayloadType.Load() +
		c.droppedSource.Load() + c.droppedSSRC.Load() + c.rtcpReceived.Load() + c.rtcpDropped.Load()
}

func seedPackets(f *testing.F) {
	audio, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 1},
		Payload: make([]byte, 160)}).Marshal()
	event, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, Marker: true, SequenceNumber: 2,
		Timestamp: 320, SSRC: 1}, Payload: []byte{5, 0x8a, 0x03, 0x20}}).Marshal()
	ext, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 3, Timestamp: 480, SSRC: 1,
		Extension: true, ExtensionProfile: 0xBEDE, CSRC: []uint32{9, 10}}, Payload: []byte{1, 2, 3}}).Marshal()
	rr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2, FractionLost: 12, TotalLost: 3, Jitter: 40, LastSenderReport: 77, Delay: 5}}},
		rtcp.NewCNAMESourceDescription(1, "x@y"),
	})
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, RTPTime: 5, PacketCount: 9}, &rtcp.Goodbye{Sources: []uint32{1}}})
	for i, b := range [][]byte{audio, event, ext, rr, sr, {0x80}, {0x80, 0xc8, 0, 1}, []byte("not rtp"), append([]byte{0xa0}, audio[1:]...)} {
		f.Add(b, uint8(i%2))
	}
}

// FuzzReceive feeds arbitrary datagrams, from the latched source or another one, to
// the receive path the reader goroutine runs: demultiplexing, RTP parsing, latching,
// sequence statistics, the jitter buffer (whose output the clock keeps decoding),
// RFC 4733 events and RTCP. It must never panic, and every datagram must be counted
// as received or dropped.
func FuzzReceive(f *testing.F) {
	seedPackets(f)
	s := fuzzSession(f)
	f.Fuzz(func(t *testing.T, b []byte, src uint8) {
		before := accounted(s)
		s.handleDatagram(b, fuzzSources[src%2], nil, time.Now())
		if accounted(s) == before {
			t.Fatalf("datagram %x from %v not counted", b, fuzzSources[src%2])
		}
	})
}

// FuzzRTCP feeds arbitrary compound RTCP packets to the RTCP handler (as from a
// separate RTCP socket) and then builds a report from whatever state results.
func FuzzRTCP(f *testing.F) {
	seedPackets(f)
	s := fuzzSession(f)
	f.Fuzz(func(t *testing.T, b []byte, src uint8) {
		before := s.stats.rtcpReceived.Load() + s.stats.rtcpDropped.Load()
		s.handleRTCP(b, fuzzSources[src%2], nil, time.Now())
		if s.stats.rtcpReceived.Load()+s.stats.rtcpDropped.Load() == before {
			t.Fatalf("RTCP %x not counted", b)
		}
		if _, err := rtcp.Marshal(s.buildReport(time.Now(), false)); err != nil {
			t.Fatalf("report after %x: %v", b, err)
		}
	})
}
