package rtpsession

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

func TestRxStatsSequence(t *testing.T) {
	for _, tc := range []struct {
		name     string
		seqs     []uint16
		expected uint64
		lost     int64
		dups     uint64
		extMax   uint32
	}{
		{"in order", []uint16{10, 11, 12, 13}, 4, 0, 0, 13},
		{"gap", []uint16{10, 11, 14, 15}, 6, 2, 0, 15},
		{"reordered", []uint16{10, 12, 11, 13}, 4, 0, 0, 13},
		{"duplicate", []uint16{10, 11, 11, 12, 10}, 3, 0, 2, 12},
		{"wrap", []uint16{65534, 65535, 0, 1}, 4, 0, 0, 1<<16 + 1},
		{"wrap with loss and reorder", []uint16{65533, 65535, 1, 0, 65534}, 5, 0, 0, 1<<16 + 1},
		{"late within misorder is not a dup", []uint16{0, 200, 150}, 201, 198, 0, 200},
		{"far behind is a jump, not counted", []uint16{0, 200, 50}, 201, 199, 0, 200},
		{"restart after jump", []uint16{100, 101, 30000, 30001, 30002}, 5, 0, 0, 30002},
		{"stray jump ignored", []uint16{100, 101, 30000, 102}, 3, 0, 0, 102},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r rxStats
			for _, s := range tc.seqs {
				r.update(s)
			}
			assert.Equal(t, tc.expected, r.expected(), "expected")
			assert.Equal(t, tc.lost, r.lost(), "lost")
			assert.Equal(t, tc.dups, r.dups, "dups")
			assert.Equal(t, tc.extMax, r.extMax(), "extMax")
		})
	}
}

func TestRxStatsReportBlockFraction(t *testing.T) {
	var r rxStats
	for s := range uint16(100) {
		if s%4 != 3 { // lose one in four
			r.update(s)
		}
	}
	frac, cum, ext, _ := r.reportBlock()
	// Highest seen is 98: 99 expected, 75 received, 24 lost (99 is not known yet).
	assert.EqualValues(t, 24*256/99, frac)
	assert.EqualValues(t, 24, cum)
	assert.EqualValues(t, 98, ext)
	// Next interval: no loss.
	for s := uint16(100); s < 150; s++ {
		r.update(s)
	}
	frac, cum, ext, _ = r.reportBlock()
	// 51 expected in this interval (99..149), 50 received: the loss of 99 shows now.
	assert.EqualValues(t, 1*256/51, frac)
	assert.EqualValues(t, 25, cum)
	assert.EqualValues(t, 149, ext)
}

func TestRxStatsJitter(t *testing.T) {
	// Packets every 160 ticks arriving alternately 0 and 80 ticks late: |D| = 80 each
	// time, so J converges on 80.
	var r rxStats
	for i := range 2000 {
		ts := uint32(i * 160)
		arrival := ts + uint32(80*(i%2)) + 12345
		r.updateJitter(arrival, ts)
	}
	assert.InDelta(t, 80, r.jitter, 0.5)
	// Timestamp wrap does not disturb it.
	var w rxStats
	for i := range 100 {
		ts := uint32(0xFFFFFF00) + uint32(i*160)
		w.updateJitter(ts+7, ts)
	}
	assert.Zero(t, w.jitter)
}

func TestNTPConversions(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	n := ntpTime(tm)
	assert.EqualValues(t, uint64(tm.Unix())+2208988800, n>>32)
	assert.EqualValues(t, uint64(1)<<31, n&0xffffffff) // half a second
	assert.Equal(t, 1500*time.Millisecond, ntpShortToDuration(durationToNTPShort(1500*time.Millisecond)).Round(time.Millisecond))
	assert.Zero(t, durationToNTPShort(-time.Second))
	assert.Equal(t, uint32(n>>16), ntpMiddle(tm))
}

func TestConfigValidation(t *testing.T) {
	conn := udpListen(t)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no codec", Config{}},
		{"ptime too short", Config{Codec: media.PCMU(), PTime: 5 * time.Millisecond}},
		{"ptime too long", Config{Codec: media.PCMU(), PTime: 80 * time.Millisecond}},
		{"payload type out of range", Config{Codec: media.PCMU(), PayloadType: 200}},
		{"telephone-event equals audio PT", Config{Codec: media.PCMU(), PayloadType: 96, TelephoneEventPT: 96}},
		{"telephone-event static PT", Config{Codec: media.PCMU(), TelephoneEventPT: 8}},
		{"strict without remote", Config{Codec: media.PCMU(), Latch: LatchStrict}},
		{"bad latch", Config{Codec: media.PCMU(), Latch: 9}},
		{"bad jitter config", Config{Codec: media.PCMU(), Jitter: JitterConfig{MinDepth: time.Second, MaxDepth: time.Millisecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(conn, tc.cfg)
			if s != nil {
				_ = s.Close()
			}
			assert.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
	_, err := New(nil, Config{Codec: media.PCMU()})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestDefaultsAndDeterministicRandomness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s1, p1 := newMemSession(t, n, Config{Rand: fixedRand(99), RTCPInterval: -1})
		s2, p2 := newMemSession(t, n, Config{Rand: fixedRand(99), RTCPInterval: -1})
		assert.Equal(t, s1.SSRC(), s2.SSRC(), "same seed, same SSRC")
		a, _ := readRTP(t, p1)
		b, _ := readRTP(t, p2)
		assert.Equal(t, a.SequenceNumber, b.SequenceNumber)
		assert.Equal(t, a.Timestamp, b.Timestamp)
		assert.Equal(t, 20*time.Millisecond, s1.PTime())
		assert.Equal(t, 8000, s1.SampleRate())
		assert.EqualValues(t, 0, a.PayloadType, "PCMU's static payload type")

		s3, _ := newMemSession(t, n, Config{RTCPInterval: -1})
		s4, _ := newMemSession(t, n, Config{RTCPInterval: -1, Rand: nil})
		_ = s4
		assert.NotZero(t, s3.SSRC()|1) // smoke: the default source works
	})
}

func TestCloseIsIdempotentAndLeavesInjectedConnOpen(t *testing.T) {
	conn := udpListen(t)
	peer := udpListen(t)
	s, err := New(conn, Config{Codec: media.PCMU(), RemoteAddr: peer.LocalAddr(), RTCPInterval: -1})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	// The injected socket still works, with no read deadline left behind.
	_, err = peer.WriteTo([]byte("ping"), conn.LocalAddr())
	require.NoError(t, err)
	buf := make([]byte, 16)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	n, _, err := conn.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf[:n]))

	_, err = s.ReadFrame()
	assert.ErrorIs(t, err, media.ErrClosed)
	assert.ErrorIs(t, s.WaitPlayout(t.Context()), media.ErrClosed)
	_, err = s.ReadDTMF(t.Context())
	assert.ErrorIs(t, err, media.ErrClosed)
}

func TestCloseClosesOwnedConns(t *testing.T) {
	rtpC, rtcpC, err := Listen(netip.Addr{}, PortRange{}, false)
	require.NoError(t, err)
	s, err := New(rtpC, Config{Codec: media.PCMU(), RTCPConn: rtcpC, OwnConns: true})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = rtpC.WriteTo([]byte("x"), rtcpC.LocalAddr())
	assert.True(t, errors.Is(err, net.ErrClosed))
	_, err = rtcpC.WriteTo([]byte("x"), rtpC.LocalAddr())
	assert.True(t, errors.Is(err, net.ErrClosed))
}

func TestListen(t *testing.T) {
	r, c, err := Listen(netip.Addr{}, PortRange{Min: 41001, Max: 41100}, true)
	require.NoError(t, err)
	defer r.Close()
	assert.Nil(t, c, "rtcp-mux: no RTCP socket")
	port := r.LocalAddr().(*net.UDPAddr).Port
	assert.Zero(t, port%2)
	assert.GreaterOrEqual(t, port, 41002)
	assert.LessOrEqual(t, port, 41100)
	assert.Equal(t, "127.0.0.1", r.LocalAddr().(*net.UDPAddr).IP.String())

	// A range of one pair, taken: ErrNoPorts.
	a, b, err := Listen(netip.Addr{}, PortRange{Min: 41200, Max: 41201}, false)
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	_, _, err = Listen(netip.Addr{}, PortRange{Min: 41200, Max: 41201}, false)
	assert.ErrorIs(t, err, ErrNoPorts)

	_, _, err = Listen(netip.Addr{}, PortRange{Min: 41300, Max: 41300}, false)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

type countTicker struct{ n atomic.Int64 }

func (c *countTicker) tick(time.Time, int) { c.n.Add(1) }

func TestClockServicesManyAndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(0)
		var tickers [50]countTicker
		entries := make([]*clockEntry, len(tickers))
		for i := range tickers {
			// Phases spread over 20 ms, periods 10/20/30/60 ms.
			period := []time.Duration{10, 20, 30, 60}[i%4] * time.Millisecond
			e, err := c.register(&tickers[i], period, time.Now().Add(time.Duration(i)*400*time.Microsecond))
			require.NoError(t, err)
			entries[i] = e
			time.Sleep(0)
		}
		assert.Equal(t, 50, c.Len())
		time.Sleep(1200*time.Millisecond + 100*time.Microsecond)
		for i := range tickers {
			period := []int64{10, 20, 30, 60}[i%4]
			// Registered at phase i*0.4 ms rounded up to 1 ms, ticking every period.
			assert.InDelta(t, 1200/period, tickers[i].n.Load(), 1, "ticker %d", i)
		}
		for _, e := range entries[:25] {
			c.unregister(e)
		}
		before, other := tickers[0].n.Load(), tickers[49].n.Load()
		time.Sleep(time.Second)
		assert.Equal(t, before, tickers[0].n.Load(), "unregistered tickers stop")
		assert.InDelta(t, other+50, tickers[49].n.Load(), 1, "the others go on")
		require.NoError(t, c.Close())
		require.NoError(t, c.Close())
		_, err := c.register(&tickers[0], 20*time.Millisecond, time.Now())
		assert.ErrorIs(t, err, media.ErrClosed)
	})
}

func TestClockSkipsAfterLongStall(t *testing.T) {
	var ticks, skipped atomic.Int64
	tk := tickFunc(func(_ time.Time, s int) { ticks.Add(1); skipped.Add(int64(s)) })
	c := NewClock(0)
	defer c.Close()
	e := &clockEntry{t: tk, period: 20 * time.Millisecond, next: time.Now()}
	c.mu.Lock()
	c.push(e)
	c.mu.Unlock()
	// Service as if the goroutine woke 1 s late: beyond maxCatchUp, so the missed
	// periods are skipped and one tick runs; within it, they all run.
	c.serviceDue(e.next.Add(time.Second))
	assert.EqualValues(t, 1, ticks.Load())
	assert.EqualValues(t, 50, skipped.Load())
	ticks.Store(0)
	skipped.Store(0)
	c.serviceDue(e.next.Add(100 * time.Millisecond))
	assert.EqualValues(t, 6, ticks.Load(), "caught up")
	assert.Zero(t, skipped.Load())
}

type tickFunc func(time.Time, int)

func (f tickFunc) tick(d time.Time, s int) { f(d, s) }

func TestClockPoolBalances(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewClockPool(3, 0)
		defer p.Close()
		n := newMemNet()
		for range 9 {
			s, err := New(n.listen(), Config{Codec: media.PCMU(), Clock: p.Clock(), RTCPInterval: -1, OwnConns: true})
			require.NoError(t, err)
			defer s.Close()
		}
		for _, c := range p.clocks {
			assert.Equal(t, 3, c.Len())
		}
		q := NewClockPool(0, 0)
		defer q.Close()
		assert.Len(t, q.clocks, runtime.GOMAXPROCS(0))
	})
}

func TestDigitQueueBounded(t *testing.T) {
	q := newDigitQueue(nil)
	for range maxPendingDigits + 10 {
		q.push(Digit{Digit: '1'})
	}
	assert.EqualValues(t, 10, q.dropped.Load())
	n := 0
	for {
		if _, ok := q.pop(); !ok {
			break
		}
		n++
	}
	assert.Equal(t, maxPendingDigits, n)
	select {
	case <-q.notify:
	default:
		t.Fatal("no notification")
	}
}
