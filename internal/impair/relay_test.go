package impair_test

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/impair"
)

// startEcho runs a UDP echo server on loopback until the test ends.
func startEcho(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	forceBuffers(c)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			_, _ = c.WriteToUDPAddrPort(buf[:n], from)
		}
	})
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return c
}

func listen(t testing.TB, target string, cfg impair.Config) *impair.Relay {
	t.Helper()
	r, err := impair.Listen("", target, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// echo is one packet that came back: its sequence number and round-trip time.
type echo struct {
	seq int
	rtt time.Duration
}

// pingPong sends n numbered packets from one client socket through the relay, one every
// interval, and returns the echoes in the order they came back. It does not send the next
// packet before the relay has read the previous one, so a busy machine cannot make the
// kernel drop packets in front of the relay (which would change the sequence the relay
// sees). It stops reading after a second of silence once everything is sent (wall time
// only decides when to stop listening, never whether the test passes).
func pingPong(t testing.TB, relay *impair.Relay, n int, interval time.Duration) []echo {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(relay.Addr()))
	require.NoError(t, err)
	defer c.Close()
	forceBuffers(c)

	var echoes []echo
	var sent atomic.Bool
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 64)
		last := time.Now()
		for {
			_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			k, err := c.Read(buf)
			if err != nil {
				if sent.Load() && time.Since(last) > time.Second {
					return
				}
				continue
			}
			last = time.Now()
			if k != 16 {
				continue
			}
			sentAt := time.Unix(0, int64(binary.BigEndian.Uint64(buf[8:16])))
			echoes = append(echoes, echo{seq: int(binary.BigEndian.Uint64(buf[:8])), rtt: time.Since(sentAt)})
		}
	}()
	pkt := make([]byte, 16)
	next := time.Now()
	for i := range n {
		binary.BigEndian.PutUint64(pkt[:8], uint64(i))
		binary.BigEndian.PutUint64(pkt[8:], uint64(time.Now().UnixNano()))
		_, err := c.Write(pkt)
		require.NoError(t, err)
		for st := relay.Stats(); st.Upstream.Received+st.Rejected < uint64(i+1); st = relay.Stats() {
			time.Sleep(20 * time.Microsecond)
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	sent.Store(true)
	<-readDone
	return echoes
}

func seqs(es []echo) []int {
	s := make([]int, len(es))
	for i, e := range es {
		s[i] = e.seq
	}
	return s
}

func binomialOK(k, n int, p, z float64) bool {
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(k)-mean) <= z*sd
}

// Without impairment every packet comes back, in order, and the counters agree.
func TestRelayTransparent(t *testing.T) {
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{})
	es := pingPong(t, r, 200, 200*time.Microsecond)
	require.Len(t, es, 200)
	assert.True(t, slices.IsSorted(seqs(es)))
	st := r.Stats()
	assert.Equal(t, impair.DirectionStats{Received: 200, Forwarded: 200}, st.Upstream)
	assert.Equal(t, impair.DirectionStats{Received: 200, Forwarded: 200}, st.Downstream)
	assert.Equal(t, 1, st.Clients)
	assert.Equal(t, srv.LocalAddr().(*net.UDPAddr).AddrPort(), r.Target())
	assert.Equal(t, int(r.Addr().Port()), r.Port())
}

// The realised loss over real sockets matches the configured probability (binomial
// tolerance), in each direction, and every packet the relay forwarded arrived.
func TestRelayLossRate(t *testing.T) {
	const n = 2000
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{
		Upstream:   impair.Impairment{Loss: 0.10},
		Downstream: impair.Impairment{Loss: 0.05},
		Seed:       3,
	})
	es := pingPong(t, r, n, 250*time.Microsecond)
	st := r.Stats()
	assert.Equal(t, uint64(n), st.Upstream.Received)
	assert.Truef(t, binomialOK(int(st.Upstream.Dropped), n, 0.10, 5), "upstream dropped %d of %d", st.Upstream.Dropped, n)
	assert.Equal(t, st.Upstream.Forwarded, st.Downstream.Received, "the echo server answered every forwarded packet")
	assert.Truef(t, binomialOK(int(st.Downstream.Dropped), int(st.Downstream.Received), 0.05, 5),
		"downstream dropped %d of %d", st.Downstream.Dropped, st.Downstream.Received)
	assert.Equal(t, int(st.Downstream.Forwarded), len(es))
	rtLoss := 1 - float64(len(es))/n
	// Round trip: 1 - 0.9 × 0.95 = 14.5 %.
	assert.Truef(t, binomialOK(n-len(es), n, 0.145, 5), "round-trip loss %.3f", rtLoss)
	t.Logf("upstream %.2f%%, downstream %.2f%%, round trip %.2f%% (configured 10%%, 5%%, 14.5%%)",
		100*float64(st.Upstream.Dropped)/float64(st.Upstream.Received),
		100*float64(st.Downstream.Dropped)/float64(st.Downstream.Received), 100*rtLoss)
}

// Same seed and same packet sequence: the same packets are lost. Another seed loses
// others.
func TestRelayDeterministic(t *testing.T) {
	srv := startEcho(t)
	run := func(seed uint64) []int {
		r := listen(t, srv.LocalAddr().String(), impair.Config{
			Upstream:   impair.Impairment{Loss: 0.2},
			Downstream: impair.Impairment{Loss: 0.1},
			Seed:       seed,
		})
		es := pingPong(t, r, 500, 300*time.Microsecond)
		require.NoError(t, r.Close())
		return seqs(es)
	}
	a, b, c := run(99), run(99), run(100)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	t.Logf("seed 99: %d of 500 came back; seed 100: %d", len(a), len(c))
}

// Delay and jitter over real sockets: no packet comes back sooner than its minimum delay,
// and the spread is that of the configured distribution. Upper bounds depend on how busy
// the machine is, so they are reported, not asserted.
func TestRelayDelay(t *testing.T) {
	const (
		delay  = 40 * time.Millisecond
		jitter = 15 * time.Millisecond
	)
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{
		Upstream: impair.Impairment{Delay: delay, Jitter: jitter, Reorder: true},
		Seed:     5,
	})
	es := pingPong(t, r, 500, time.Millisecond)
	require.Len(t, es, 500)
	var sum, sumSq float64
	lo, hi := time.Hour, time.Duration(0)
	for _, e := range es {
		require.GreaterOrEqual(t, e.rtt, delay-jitter, "packet %d came back too soon", e.seq)
		sum += float64(e.rtt)
		sumSq += float64(e.rtt) * float64(e.rtt)
		lo, hi = min(lo, e.rtt), max(hi, e.rtt)
	}
	mean := sum / float64(len(es))
	sd := math.Sqrt(sumSq/float64(len(es)) - mean*mean)
	assert.GreaterOrEqual(t, mean, float64(delay-time.Millisecond))
	// A uniform ±15 ms jitter has σ = 8.7 ms; scheduling noise only adds to it.
	assert.Greater(t, sd, 0.5*float64(jitter)/math.Sqrt(3))
	t.Logf("delay %v ± %v uniform: round trip mean %v, σ %v (want %v), min %v, max %v",
		delay, jitter, time.Duration(mean), time.Duration(sd), time.Duration(float64(jitter)/math.Sqrt(3)), lo, hi)
}

// With Reorder false, jitter much larger than the packet interval still never reorders;
// with Reorder true it does, and the relay counts it.
func TestRelayOrdering(t *testing.T) {
	srv := startEcho(t)
	imp := impair.Impairment{Delay: 20 * time.Millisecond, Jitter: 15 * time.Millisecond}
	t.Run("preserved", func(t *testing.T) {
		r := listen(t, srv.LocalAddr().String(), impair.Config{Upstream: imp, Downstream: imp, Seed: 1})
		es := pingPong(t, r, 500, 500*time.Microsecond)
		require.Len(t, es, 500)
		assert.True(t, slices.IsSorted(seqs(es)), "echoes in send order")
		assert.Zero(t, r.Stats().Upstream.Reordered)
		assert.Zero(t, r.Stats().Downstream.Reordered)
	})
	t.Run("reordered", func(t *testing.T) {
		imp := imp
		imp.Reorder = true
		r := listen(t, srv.LocalAddr().String(), impair.Config{Upstream: imp, Seed: 1})
		es := pingPong(t, r, 500, 500*time.Microsecond)
		require.Len(t, es, 500)
		inversions := 0
		for i := 1; i < len(es); i++ {
			if es[i].seq < es[i-1].seq {
				inversions++
			}
		}
		assert.Positive(t, inversions)
		assert.Positive(t, r.Stats().Upstream.Reordered)
		t.Logf("%d adjacent inversions at the client; relay counted %d reordered", inversions, r.Stats().Upstream.Reordered)
	})
}

func TestRelayDuplicate(t *testing.T) {
	const n = 1000
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{Upstream: impair.Impairment{Duplicate: 0.2}, Seed: 8})
	es := pingPong(t, r, n, 300*time.Microsecond)
	st := r.Stats()
	assert.True(t, binomialOK(int(st.Upstream.Duplicated), n, 0.2, 5), "duplicated %d", st.Upstream.Duplicated)
	assert.Equal(t, n+int(st.Upstream.Duplicated), len(es))
	assert.Equal(t, uint64(len(es)), st.Upstream.Forwarded)
}

// Several clients through one relay: each gets its own upstream socket, so each gets back
// only its own echoes.
func TestRelayClients(t *testing.T) {
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{Upstream: impair.Impairment{Delay: 5 * time.Millisecond}})
	const clients, n = 3, 50
	conns := make([]*net.UDPConn, clients)
	for i := range conns {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.Addr()))
		require.NoError(t, err)
		defer c.Close()
		conns[i] = c
	}
	for k := range n {
		for i, c := range conns {
			_, err := c.Write([]byte{byte(i), byte(k)})
			require.NoError(t, err)
		}
	}
	for i, c := range conns {
		got := 0
		buf := make([]byte, 16)
		for got < n {
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			k, err := c.Read(buf)
			require.NoError(t, err)
			require.Equal(t, 2, k)
			require.Equal(t, byte(i), buf[0], "client %d got another client's packet", i)
			require.Equal(t, byte(got), buf[1])
			got++
		}
	}
	assert.Equal(t, clients, r.Stats().Clients)
}

func TestRelayMaxClients(t *testing.T) {
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{MaxClients: 1})
	es := pingPong(t, r, 10, 0)
	assert.Len(t, es, 10)
	es = pingPong(t, r, 10, 0)
	assert.Empty(t, es, "a second client is refused")
	assert.Equal(t, uint64(10), r.Stats().Rejected)
}

// Close discards packets still held back, waits for every goroutine (TestMain checks for
// leaks), and a second Close reports net.ErrClosed.
func TestRelayClose(t *testing.T) {
	srv := startEcho(t)
	r, err := impair.Listen("", srv.LocalAddr().String(), impair.Config{Upstream: impair.Impairment{Delay: time.Hour}})
	require.NoError(t, err)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.Addr()))
	require.NoError(t, err)
	defer c.Close()
	for range 5 {
		_, err = c.Write([]byte("held"))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return r.Stats().Upstream.Received == 5 }, 5*time.Second, time.Millisecond)
	require.NoError(t, r.Close())
	err = r.Close()
	require.ErrorIs(t, err, net.ErrClosed)
	assert.Zero(t, r.Stats().Upstream.Forwarded)
}

// Replies from a target that is not listening yet (ICMP port unreachable) do not stop
// the relay: once the target comes up, traffic flows.
func TestRelayTargetComesUpLater(t *testing.T) {
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	target := probe.LocalAddr().(*net.UDPAddr)
	probe.Close()

	r := listen(t, target.String(), impair.Config{})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.Addr()))
	require.NoError(t, err)
	defer c.Close()
	for range 3 {
		_, _ = c.Write([]byte("early"))
	}
	require.Eventually(t, func() bool { return r.Stats().Upstream.Received == 3 }, 5*time.Second, time.Millisecond)

	srv, err := net.ListenUDP("udp", target)
	require.NoError(t, err)
	defer srv.Close()
	_, err = c.Write([]byte("late"))
	require.NoError(t, err)
	buf := make([]byte, 16)
	require.NoError(t, srv.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		k, from, err := srv.ReadFromUDPAddrPort(buf)
		require.NoError(t, err)
		if string(buf[:k]) == "late" {
			_, err = srv.WriteToUDPAddrPort([]byte("reply"), from)
			require.NoError(t, err)
			break
		}
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	k, err := c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "reply", string(buf[:k]))
}

func TestListenErrors(t *testing.T) {
	for name, cfg := range map[string]impair.Config{
		"loss":         {Upstream: impair.Impairment{Loss: 1.5}},
		"nan loss":     {Downstream: impair.Impairment{Loss: math.NaN()}},
		"duplicate":    {Downstream: impair.Impairment{Duplicate: -0.1}},
		"jitter":       {Upstream: impair.Impairment{Jitter: -time.Millisecond}},
		"distribution": {Upstream: impair.Impairment{Distribution: 7}},
		"max clients":  {MaxClients: -1},
	} {
		_, err := impair.Listen("", "127.0.0.1:9", cfg)
		assert.ErrorIs(t, err, impair.ErrConfig, name)
	}
	_, err := impair.Listen("", "not an address", impair.Config{})
	assert.Error(t, err)
	_, err = impair.Listen("256.0.0.1:0", "127.0.0.1:9", impair.Config{})
	assert.Error(t, err)
}

// A group relays several ports at once, each route impaired on its own.
func TestGroup(t *testing.T) {
	a, b := startEcho(t), startEcho(t)
	g, err := impair.ListenGroup(impair.Config{Upstream: impair.Impairment{Loss: 0.3}, Seed: 4},
		impair.Route{Name: "sip", Target: a.LocalAddr().String()},
		impair.Route{Name: "rtp", Target: b.LocalAddr().String()},
	)
	require.NoError(t, err)
	defer g.Close()
	require.Len(t, g.Relays(), 2)
	require.Nil(t, g.Relay("video"))
	sip, rtp := pingPong(t, g.Relay("sip"), 300, 200*time.Microsecond), pingPong(t, g.Relay("rtp"), 300, 200*time.Microsecond)
	assert.NotEqual(t, seqs(sip), seqs(rtp), "routes draw from different seeds")
	st := g.Stats()
	assert.Equal(t, len(sip), int(st["sip"].Downstream.Forwarded))
	assert.Equal(t, len(rtp), int(st["rtp"].Downstream.Forwarded))
	assert.Equal(t, g.Relay("rtp").Target(), b.LocalAddr().(*net.UDPAddr).AddrPort())
	require.NoError(t, g.Close())
	assert.ErrorIs(t, g.Close(), net.ErrClosed)

	_, err = impair.ListenGroup(impair.Config{}, impair.Route{Name: "x", Target: a.LocalAddr().String()}, impair.Route{Name: "x", Target: b.LocalAddr().String()})
	assert.ErrorIs(t, err, impair.ErrConfig)
	_, err = impair.ListenGroup(impair.Config{}, impair.Route{Name: "x", Target: a.LocalAddr().String()}, impair.Route{Name: "y", Target: "bad"})
	assert.Error(t, err)
}

// Round trip of one RTP-sized packet through a relay with no impairment: the cost of the
// relay itself (two extra socket hops, the scheduler hand-off).
func BenchmarkRelayRoundTrip(b *testing.B) {
	srv := startEcho(b)
	r := listen(b, srv.LocalAddr().String(), impair.Config{})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.Addr()))
	require.NoError(b, err)
	defer c.Close()
	pkt, buf := make([]byte, 172), make([]byte, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(pkt); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// The relay's forwarding path (read, decide, queue, release, write, both directions)
// allocates nothing once its buffers are recycled.
func TestRelayNoAllocs(t *testing.T) {
	srv := startEcho(t)
	r := listen(t, srv.LocalAddr().String(), impair.Config{
		Upstream:   impair.Impairment{Delay: 100 * time.Microsecond, Jitter: 50 * time.Microsecond},
		Downstream: impair.Impairment{Delay: 100 * time.Microsecond},
	})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.Addr()))
	require.NoError(t, err)
	defer c.Close()
	pkt, buf := make([]byte, 172), make([]byte, 2048)
	roundTrip := func() {
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		roundTrip()
	}
	assert.Zero(t, testing.AllocsPerRun(500, roundTrip))
}
