package rtpsession

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

// pcmuSilence is the μ-law code of a zero sample.
const pcmuSilence = 0xFF

func allSilence(payload []byte) bool {
	for _, b := range payload {
		if b != pcmuSilence {
			return false
		}
	}
	return true
}

// newMemSession starts a session on an in-memory network sending to a raw peer
// socket the test reads directly.
func newMemSession(t *testing.T, n *memNet, cfg Config) (*Session, *memConn) {
	t.Helper()
	peer := n.listen()
	local := n.listen()
	cfg.RemoteAddr = peer.addr
	if cfg.Codec == nil {
		cfg.Codec = media.PCMU()
	}
	if cfg.Rand == nil {
		cfg.Rand = fixedRand(1)
	}
	cfg.OwnConns = true
	s, err := New(local, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(); _ = peer.Close() })
	return s, peer
}

func TestPacingExactlyOnePacketPerPTime(t *testing.T) {
	for _, ptime := range []time.Duration{10, 20, 30, 60} {
		ptime *= time.Millisecond
		t.Run(ptime.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newMemNet()
				s, peer := newMemSession(t, n, Config{PTime: ptime, RTCPInterval: -1})
				require.Equal(t, ptime, s.PTime())
				const seconds = 3
				want := int(seconds * time.Second / ptime)
				spf := media.SamplesPer(8000, ptime)

				// One second of tone queued at once, then idle.
				for _, f := range toneFrames(8000, ptime, time.Second, 1000) {
					require.NoError(t, s.WriteFrame(f))
				}
				var prev time.Time
				var first struct {
					seq uint16
					ts  uint32
				}
				for i := range want {
					p, at := readRTP(t, peer)
					if i == 0 {
						first.seq, first.ts = p.SequenceNumber, p.Timestamp
						assert.True(t, p.Marker, "marker on the first packet")
					} else {
						assert.Equal(t, ptime, at.Sub(prev), "packet %d interval", i)
						assert.False(t, p.Marker)
					}
					prev = at
					assert.Equal(t, first.seq+uint16(i), p.SequenceNumber)
					assert.Equal(t, first.ts+uint32(i*spf), p.Timestamp)
					assert.Equal(t, s.SSRC(), p.SSRC)
					require.Len(t, p.Payload, spf)
					tone := i < int(time.Second/ptime)
					assert.Equal(t, !tone, allSilence(p.Payload), "packet %d: tone=%v", i, tone)
				}
				st := s.Stats()
				assert.EqualValues(t, want, st.PacketsSent)
				assert.EqualValues(t, want-int(time.Second/ptime), st.SilenceSent)
				assert.Zero(t, st.Underruns)
				assert.Zero(t, st.SkippedTicks)
			})
		})
	}
}

func TestClearEmptiesWithinOneFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := newMemSession(t, n, Config{RTCPInterval: -1})
		for _, f := range toneFrames(8000, 20*time.Millisecond, 2*time.Second, 1000) {
			require.NoError(t, s.WriteFrame(f))
		}
		assert.Equal(t, 2*time.Second, s.QueueDepth())
		waitErr := make(chan error, 1)
		go func() { waitErr <- s.WaitPlayout(context.Background()) }()
		for range 10 {
			p, _ := readRTP(t, peer)
			assert.False(t, allSilence(p.Payload))
		}
		s.Clear()
		assert.Zero(t, s.QueueDepth())
		err := <-waitErr
		assert.ErrorIs(t, err, ErrCleared)
		// The very next packet is silence.
		p, _ := readRTP(t, peer)
		assert.True(t, allSilence(p.Payload))
		assert.Equal(t, uint64(2*8000-10*160), s.Stats().SamplesCleared)
	})
}

func TestWaitPlayoutReturnsWhenPlayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := newMemSession(t, n, Config{RTCPInterval: -1})
		go func() { // drain the peer
			buf := make([]byte, 1500)
			for {
				if _, _, err := peer.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		// Nothing queued: returns at once.
		require.NoError(t, s.WaitPlayout(context.Background()))

		start := time.Now()
		// 500 ms of audio in 7 ms pieces: the pacer re-frames it.
		for _, f := range toneFrames(8000, 5*time.Millisecond, 500*time.Millisecond, 440) {
			require.NoError(t, s.WriteFrame(f))
		}
		require.NoError(t, s.WaitPlayout(context.Background()))
		// The first packet goes at most one ptime after the write, then 25 packets.
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, 480*time.Millisecond)
		assert.LessOrEqual(t, elapsed, 520*time.Millisecond)
		assert.Zero(t, s.QueueDepth())

		// A context that ends first.
		for _, f := range toneFrames(8000, 20*time.Millisecond, time.Second, 440) {
			require.NoError(t, s.WriteFrame(f))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, s.WaitPlayout(ctx), context.DeadlineExceeded)

		// Close releases a waiter with ErrClosed.
		go func() {
			time.Sleep(40 * time.Millisecond)
			_ = s.Close()
		}()
		err := s.WaitPlayout(context.Background())
		assert.ErrorIs(t, err, media.ErrClosed)
	})
}

func TestWriteFrameBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, _ := newMemSession(t, n, Config{RTCPInterval: -1, QueueDuration: 200 * time.Millisecond})
		frames := toneFrames(8000, 20*time.Millisecond, time.Second, 1000)
		start := time.Now()
		for _, f := range frames {
			require.NoError(t, s.WriteFrame(f))
		}
		// 1 s into a 200 ms queue: the writer waited for about 800 ms of playout.
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, 780*time.Millisecond)
		assert.LessOrEqual(t, elapsed, 820*time.Millisecond)
		assert.LessOrEqual(t, s.QueueDepth(), 200*time.Millisecond)

		err := s.WriteFrame(media.Frame{Samples: make([]int16, 320), SampleRate: 16000})
		assert.ErrorIs(t, err, media.ErrRateMismatch)

		require.NoError(t, s.Close())
		err = s.WriteFrame(frames[0])
		assert.True(t, errors.Is(err, media.ErrClosed))
	})
}

func TestInactivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		a, _ := newMemSession(t, n, Config{RTCPInterval: -1, InactivityTimeout: 3 * time.Second})
		b, err := New(n.listen(), Config{Codec: media.PCMU(), RemoteAddr: a.LocalAddr(), RTCPInterval: -1,
			Rand: fixedRand(2), OwnConns: true, InactivityTimeout: -1})
		require.NoError(t, err)

		// b streams to a for 5 s: no signal.
		time.Sleep(5 * time.Second)
		select {
		case <-a.Inactive():
			t.Fatal("inactive while receiving")
		default:
		}
		require.NoError(t, b.Close())
		stopped := time.Now()
		<-a.Inactive()
		waited := time.Since(stopped)
		assert.GreaterOrEqual(t, waited, 3*time.Second-20*time.Millisecond)
		assert.LessOrEqual(t, waited, 3*time.Second+40*time.Millisecond)
	})
}

func TestInactivityHoldAware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		a, _ := newMemSession(t, n, Config{RTCPInterval: -1, InactivityTimeout: 2 * time.Second})
		a.SetHold(true)
		time.Sleep(10 * time.Second)
		select {
		case <-a.Inactive():
			t.Fatal("inactive while on hold")
		default:
		}
		a.SetHold(false)
		resumed := time.Now()
		<-a.Inactive()
		assert.InDelta(t, float64(2*time.Second), float64(time.Since(resumed)), float64(30*time.Millisecond))
	})
}

func TestInactivityDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		a, _ := newMemSession(t, n, Config{RTCPInterval: -1, InactivityTimeout: -1})
		time.Sleep(time.Minute)
		select {
		case <-a.Inactive():
			t.Fatal("inactive with detection disabled")
		default:
		}
	})
}

func TestSetHoldFalseWithoutHoldDoesNotPostpone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		start := time.Now()
		a, _ := newMemSession(t, n, Config{RTCPInterval: -1, InactivityTimeout: 2 * time.Second})
		time.Sleep(1500 * time.Millisecond)
		a.SetHold(false) // e.g. a session-refresh re-INVITE that is not a resume
		<-a.Inactive()
		assert.InDelta(t, float64(2*time.Second), float64(time.Since(start)), float64(30*time.Millisecond))
	})
}
