package rtpsession

import (
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/media"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ---- audio helpers ----

// sine fills a buffer with a tone of hz at rate, amplitude amp, continuing phase from
// *phase.
func sine(dst []int16, hz float64, rate int, amp float64, phase *float64) {
	step := 2 * math.Pi * hz / float64(rate)
	for i := range dst {
		dst[i] = int16(amp * math.Sin(*phase))
		*phase += step
	}
	*phase = math.Mod(*phase, 2*math.Pi)
}

// goertzel returns the share of the signal's energy at hz (0..1).
func goertzel(x []int16, hz float64, rate int) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		s := f + k*s1 - s2
		s2, s1 = s1, s
		energy += f * f
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - k*s1*s2
	return power / (energy * float64(len(x)) / 2)
}

// ---- socket helpers ----

func udpListen(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// fixedRand is a deterministic source for tests.
func fixedRand(seed uint64) rand.Source { return rand.NewPCG(seed, seed^0x9e3779b97f4a7c15) }

// sentPacket is a packet seen leaving through a recordConn.
type sentPacket struct {
	hdr     rtp.Header
	payload []byte
	at      time.Time
	rtcp    bool
}

// recordConn records every RTP packet written through it.
type recordConn struct {
	net.PacketConn
	mu   sync.Mutex
	pkts []sentPacket
}

func (c *recordConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	sp := sentPacket{at: time.Now(), rtcp: isRTCP(b)}
	if !sp.rtcp {
		var p rtp.Packet
		if err := p.Unmarshal(b); err == nil {
			sp.hdr = p.Header
			sp.payload = append([]byte(nil), p.Payload...)
		}
	}
	c.mu.Lock()
	c.pkts = append(c.pkts, sp)
	c.mu.Unlock()
	return c.PacketConn.WriteTo(b, addr)
}

func (c *recordConn) packets() []sentPacket {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sentPacket
	for _, p := range c.pkts {
		if !p.rtcp {
			out = append(out, p)
		}
	}
	return out
}

// impairConn degrades what is written through it: seeded random loss, and a random
// delay in [delay, delay+jitter] per packet, which reorders packets when jitter
// exceeds the packet interval. RTCP is delayed but never dropped unless dropRTCP.
type impairConn struct {
	net.PacketConn
	loss     float64
	delay    time.Duration
	jitter   time.Duration
	dropRTCP bool

	mu      sync.Mutex
	rng     *rand.Rand
	wg      sync.WaitGroup
	dropped int
	sent    int
}

func newImpairConn(c net.PacketConn, seed uint64, loss float64, delay, jitter time.Duration) *impairConn {
	return &impairConn{PacketConn: c, loss: loss, delay: delay, jitter: jitter, rng: rand.New(fixedRand(seed))}
}

func (c *impairConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	rtcp := isRTCP(b)
	drop := (!rtcp || c.dropRTCP) && c.rng.Float64() < c.loss
	d := c.delay
	if c.jitter > 0 {
		d += time.Duration(c.rng.Int64N(int64(c.jitter)))
	}
	if drop {
		c.dropped++
	} else if !rtcp {
		c.sent++
	}
	c.mu.Unlock()
	if drop {
		return len(b), nil
	}
	if d <= 0 {
		return c.PacketConn.WriteTo(b, addr)
	}
	cp := append([]byte(nil), b...)
	c.wg.Add(1)
	time.AfterFunc(d, func() {
		defer c.wg.Done()
		_, _ = c.PacketConn.WriteTo(cp, addr)
	})
	return len(b), nil
}

// flush waits for delayed packets to be written. Call it only once nothing writes
// through c any more (a WaitGroup must not be waited on while it is being added to).
func (c *impairConn) flush() { c.wg.Wait() }

func (c *impairConn) counts() (sent, dropped int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.dropped
}

// ---- in-memory network, for synctest bubbles (real sockets are not durably blocking) ----

type memNet struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
	next  uint16
}

func newMemNet() *memNet { return &memNet{conns: map[netip.AddrPort]*memConn{}, next: 20000} }

type memDatagram struct {
	b    []byte
	from *net.UDPAddr
}

// memConn is a PacketConn on a memNet. Datagrams to unknown addresses vanish; a full
// inbox drops (as UDP would).
type memConn struct {
	net   *memNet
	addr  *net.UDPAddr
	inbox chan memDatagram

	mu       sync.Mutex
	closed   chan struct{}
	isClosed bool
	deadline time.Time
	dlChange chan struct{}
}

func (n *memNet) listen() *memConn {
	n.mu.Lock()
	defer n.mu.Unlock()
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), n.next)
	n.next += 2
	c := &memConn{net: n, addr: net.UDPAddrFromAddrPort(ap), inbox: make(chan memDatagram, 512),
		closed: make(chan struct{}), dlChange: make(chan struct{})}
	n.conns[ap] = c
	return c
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		dl, change := c.deadline, c.dlChange
		c.mu.Unlock()
		var (
			timeout <-chan time.Time
			tm      *time.Timer
		)
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			tm = time.NewTimer(d)
			timeout = tm.C
		}
		select {
		case d := <-c.inbox:
			if tm != nil {
				tm.Stop()
			}
			return copy(b, d.b), d.from, nil
		case <-c.closed:
			return 0, nil, net.ErrClosed
		case <-change:
		case <-timeout:
		}
		if tm != nil {
			tm.Stop()
		}
	}
}

func (c *memConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.AddrError{Err: "not UDP", Addr: addr.String()}
	}
	c.net.mu.Lock()
	dst := c.net.conns[u.AddrPort()]
	c.net.mu.Unlock()
	if dst != nil {
		select {
		case dst.inbox <- memDatagram{b: append([]byte(nil), b...), from: c.addr}:
		default:
		}
	}
	return len(b), nil
}

func (c *memConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.isClosed {
		c.isClosed = true
		close(c.closed)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr.AddrPort())
		c.net.mu.Unlock()
	}
	return nil
}

func (c *memConn) LocalAddr() net.Addr { return c.addr }

func (c *memConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.dlChange)
	c.dlChange = make(chan struct{})
	c.mu.Unlock()
	return nil
}

func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// readRTP reads one datagram from c and parses it as RTP.
func readRTP(t testing.TB, c net.PacketConn) (rtp.Packet, time.Time) {
	t.Helper()
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFrom(buf)
		require.NoError(t, err)
		if isRTCP(buf[:n]) {
			continue
		}
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(buf[:n]))
		p.Payload = append([]byte(nil), p.Payload...)
		return p, time.Now()
	}
}

// toneFrames returns dur of a 1 kHz tone at rate split into frames of ptime.
func toneFrames(rate int, ptime, dur time.Duration, hz float64) []media.Frame {
	n := media.SamplesPer(rate, ptime)
	var phase float64
	var out []media.Frame
	for range int(dur / ptime) {
		s := make([]int16, n)
		sine(s, hz, rate, 8000, &phase)
		out = append(out, media.Frame{Samples: s, SampleRate: rate})
	}
	return out
}
