package rtpsession

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
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

func TestDTMFOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := newMemSession(t, n, Config{RTCPInterval: -1, TelephoneEventPT: 101})
		// 400 ms of tone queued, then two digits sent while it plays.
		for _, f := range toneFrames(8000, 20*time.Millisecond, 400*time.Millisecond, 1000) {
			require.NoError(t, s.WriteFrame(f))
		}
		var pkts []rtp.Packet
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 60 {
				p, _ := readRTP(t, peer)
				pkts = append(pkts, p)
			}
		}()
		time.Sleep(100 * time.Millisecond) // 5 tone packets out
		require.NoError(t, s.SendDTMF(context.Background(), "7#", 100*time.Millisecond, 12))
		<-done

		type event struct {
			ts            uint32
			packets, ends int
			marker        bool
			code          byte
		}
		var events []*event
		audio := 0
		for i, p := range pkts {
			assert.Equal(t, s.SSRC(), p.SSRC)
			if i > 0 {
				assert.Equal(t, pkts[i-1].SequenceNumber+1, p.SequenceNumber, "one sequence for audio and events")
			}
			// One packet per 20 ms tick: the media clock at packet i is base + 160 i.
			clock := pkts[0].Timestamp + uint32(160*i)
			if p.PayloadType == 0 {
				assert.Equal(t, clock, p.Timestamp, "audio timestamps follow the media clock")
				if !allSilence(p.Payload) {
					audio++
				}
				continue
			}
			require.EqualValues(t, 101, p.PayloadType)
			require.Len(t, p.Payload, 4)
			if len(events) == 0 || events[len(events)-1].ts != p.Timestamp {
				// An event's timestamp is the media clock when it started.
				assert.Equal(t, clock, p.Timestamp, "event start timestamp")
				events = append(events, &event{ts: p.Timestamp, marker: p.Marker, code: p.Payload[0]})
			} else {
				assert.False(t, p.Marker, "marker on the first packet of an event only")
			}
			e := events[len(events)-1]
			e.packets++
			assert.EqualValues(t, 12, p.Payload[1]&0x3f, "volume")
			if p.Payload[1]&0x80 != 0 {
				e.ends++
				assert.EqualValues(t, 800, uint16(p.Payload[2])<<8|uint16(p.Payload[3]), "final duration: 100 ms at 8 kHz")
			}
		}
		require.Len(t, events, 2)
		assert.EqualValues(t, 7, events[0].code)
		assert.EqualValues(t, 11, events[1].code) // '#'
		for _, e := range events {
			assert.True(t, e.marker)
			assert.Equal(t, 3, e.ends, "end packet sent three times")
			assert.Equal(t, 5+2, e.packets, "5 packets of 20 ms, then 2 more end copies")
		}
		// All 20 tone packets were sent: held back during the events, not dropped.
		assert.Equal(t, 20, audio)
	})
}

// With sending off, nothing reaches the wire, queued audio still drains in real time
// (WaitPlayout returns), and sending resumes with continuous timestamps and a marker.
func TestSetSendingPausesTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := newMemSession(t, n, Config{RTCPInterval: -1})
		first, _ := readRTP(t, peer)
		s.SetSending(false)
		for _, f := range toneFrames(8000, 20*time.Millisecond, 200*time.Millisecond, 440) {
			require.NoError(t, s.WriteFrame(f))
		}
		start := time.Now()
		require.NoError(t, s.WaitPlayout(context.Background()))
		assert.GreaterOrEqual(t, time.Since(start), 180*time.Millisecond, "drained at the real-time pace")
		assert.GreaterOrEqual(t, s.Stats().Suppressed, uint64(10))
		sent := s.Stats().PacketsSent
		time.Sleep(100 * time.Millisecond)
		assert.Equal(t, sent, s.Stats().PacketsSent, "nothing sent while off")

		s.SetSending(true)
		p, _ := readRTP(t, peer)
		for i := 0; !p.Marker && i < 3; i++ { // a packet sent just before the pause
			p, _ = readRTP(t, peer)
		}
		assert.True(t, p.Marker, "resumption is marked")
		gap := p.Timestamp - first.Timestamp
		assert.GreaterOrEqual(t, gap, uint32(8000*300/1000), "timestamps advanced through the pause")
	})
}

// OnDTMF and OnInactive deliver without a goroutine of the caller's.
func TestHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var digits []rune
		inactive := make(chan struct{})
		p := newMemPair(t,
			Config{RTCPInterval: -1, TelephoneEventPT: 101, InactivityTimeout: time.Second,
				OnDTMF:     func(d Digit) { mu.Lock(); digits = append(digits, d.Digit); mu.Unlock() },
				OnInactive: func() { close(inactive) }},
			Config{RTCPInterval: -1, TelephoneEventPT: 101}, nil, nil)
		require.NoError(t, p.b.SendDTMF(context.Background(), "7#", 60*time.Millisecond, 10))
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		assert.Equal(t, "7#", string(digits))
		mu.Unlock()
		_, ok := p.a.PollDTMF()
		assert.False(t, ok, "the hook replaces the queue")
		require.NoError(t, p.b.Close())
		<-inactive
	})
}
