package rtpsession

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/jitter"
)

// pair is two sessions talking over real UDP on 127.0.0.1. aOut, when set, wraps a's
// socket for writing (recording or impairing what a sends).
type pair struct {
	a, b   *Session
	aConn  net.PacketConn
	bConn  net.PacketConn
	aRaw   net.PacketConn
	bRaw   net.PacketConn
	closed sync.Once
}

// newPair connects two sessions over real UDP on 127.0.0.1.
func newPair(t *testing.T, cfgA, cfgB Config, wrapA, wrapB func(net.PacketConn) net.PacketConn) *pair {
	t.Helper()
	return newPairOn(t, udpListen(t), udpListen(t), cfgA, cfgB, wrapA, wrapB)
}

// newMemPair connects two sessions over an in-memory network, for synctest bubbles.
func newMemPair(t *testing.T, cfgA, cfgB Config, wrapA, wrapB func(net.PacketConn) net.PacketConn) *pair {
	t.Helper()
	n := newMemNet()
	a, b := n.listen(), n.listen()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return newPairOn(t, a, b, cfgA, cfgB, wrapA, wrapB)
}

func newPairOn(t *testing.T, aRaw, bRaw net.PacketConn, cfgA, cfgB Config, wrapA, wrapB func(net.PacketConn) net.PacketConn) *pair {
	t.Helper()
	p := &pair{aRaw: aRaw, bRaw: bRaw}
	p.aConn, p.bConn = p.aRaw, p.bRaw
	if wrapA != nil {
		p.aConn = wrapA(p.aRaw)
	}
	if wrapB != nil {
		p.bConn = wrapB(p.bRaw)
	}
	for _, c := range []*Config{&cfgA, &cfgB} {
		if c.Codec == nil {
			c.Codec = media.PCMU()
		}
	}
	cfgA.RemoteAddr, cfgB.RemoteAddr = p.bRaw.LocalAddr(), p.aRaw.LocalAddr()
	if cfgA.Rand == nil {
		cfgA.Rand = fixedRand(11)
	}
	if cfgB.Rand == nil {
		cfgB.Rand = fixedRand(22)
	}
	var err error
	p.a, err = New(p.aConn, cfgA)
	require.NoError(t, err)
	p.b, err = New(p.bConn, cfgB)
	require.NoError(t, err)
	t.Cleanup(p.close)
	return p
}

func (p *pair) close() {
	p.closed.Do(func() {
		_ = p.a.Close()
		_ = p.b.Close()
	})
}

// collect reads frames from s until stop is closed.
func collect(s *Session, stop <-chan struct{}) <-chan []media.Frame {
	out := make(chan []media.Frame, 1)
	go func() {
		var frames []media.Frame
		for {
			f, err := s.ReadFrame()
			if err != nil {
				out <- frames
				return
			}
			frames = append(frames, f.Clone())
			select {
			case <-stop:
				out <- frames
				return
			default:
			}
		}
	}()
	return out
}

// toneRun finds the frames carrying the tone and checks they form one unbroken run.
func toneRun(t *testing.T, frames []media.Frame, hz float64) (run []media.Frame) {
	t.Helper()
	first, last := -1, -1
	for i, f := range frames {
		if goertzel(f.Samples, hz, f.SampleRate) > 0.5 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	require.GreaterOrEqual(t, first, 0, "tone never received")
	return frames[first : last+1]
}

// tonePair sends one second of 1 kHz tone from a to b and returns what b decoded and
// what a put on the wire.
func tonePair(t *testing.T, newP func(*testing.T, Config, Config, func(net.PacketConn) net.PacketConn, func(net.PacketConn) net.PacketConn) *pair,
	codec media.Codec, pt uint8, ptime time.Duration) (recv []media.Frame, sent []sentPacket, p *pair, nFrames int) {
	t.Helper()
	rec := &recordConn{}
	// A fixed, generous depth: this checks the session's continuity, not the jitter
	// buffer's adaptation.
	jc := jitter.Config{Mode: jitter.Fixed, Depth: 240 * time.Millisecond}
	p = newP(t, Config{Codec: codec, PayloadType: pt, PTime: ptime},
		Config{Codec: codec, PayloadType: pt, PTime: ptime, Jitter: jc},
		func(c net.PacketConn) net.PacketConn { rec.PacketConn = c; return rec }, nil)
	stop := make(chan struct{})
	got := collect(p.b, stop)

	frames := toneFrames(codec.SampleRate(), ptime, time.Second, 1000)
	for _, f := range frames {
		require.NoError(t, p.a.WriteFrame(f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, p.a.WaitPlayout(ctx))
	time.Sleep(400 * time.Millisecond) // let it through the jitter buffer
	close(stop)
	recv = <-got
	return recv, rec.packets(), p, len(frames)
}

// checkWire checks what a session sent: one SSRC, sequence numbers and timestamps
// continuous throughout (tsStep clock ticks per packet), silence included.
func checkWire(t *testing.T, sent []sentPacket, ssrc uint32, tsStep int) {
	t.Helper()
	require.NotEmpty(t, sent)
	for i, sp := range sent {
		assert.Equal(t, ssrc, sp.hdr.SSRC)
		if i > 0 {
			assert.Equal(t, sent[i-1].hdr.SequenceNumber+1, sp.hdr.SequenceNumber, "packet %d", i)
			assert.Equal(t, sent[i-1].hdr.Timestamp+uint32(tsStep), sp.hdr.Timestamp, "packet %d", i)
		}
	}
}

// TestToneContinuity runs the tone through two sessions in a synctest bubble, where
// time is exact: every tone frame must come out decoded, in order, with continuous
// timestamps and sequence numbers, at the right frequency.
func TestToneContinuity(t *testing.T) {
	for _, tc := range []struct {
		codec media.Codec
		pt    uint8
		ptime time.Duration
	}{
		{media.PCMU(), 0, 10 * time.Millisecond},
		{media.PCMU(), 0, 20 * time.Millisecond},
		{media.PCMU(), 0, 30 * time.Millisecond},
		{media.PCMU(), 0, 60 * time.Millisecond},
		// RTP clock 8000 Hz, audio 16 kHz: timestamps advance by 160 per 320 samples.
		{media.G722(), 0, 20 * time.Millisecond},
		{media.L16(16000), 96, 20 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%s-%d-%v", tc.codec.Name(), tc.codec.SampleRate(), tc.ptime), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				recv, sent, p, n := tonePair(t, newMemPair, tc.codec, tc.pt, tc.ptime)
				rate := tc.codec.SampleRate()
				spf := media.SamplesPer(rate, tc.ptime)
				tsStep := media.SamplesPer(tc.codec.ClockRate(), tc.ptime)
				run := toneRun(t, recv, 1000)
				assert.Equal(t, n, len(run), "tone frames received")
				for i, f := range run {
					assert.Equal(t, media.FlagRTP, f.Flags, "frame %d flags", i)
					assert.Equal(t, spf, len(f.Samples))
					assert.Equal(t, rate, f.SampleRate)
					if i > 0 && i < len(run)-1 { // the codec's delay smears the edges
						assert.Greater(t, goertzel(f.Samples, 1000, rate), 0.9, "frame %d", i)
						assert.Less(t, goertzel(f.Samples, 1500, rate), 0.05, "frame %d", i)
					}
					if i > 0 {
						assert.Equal(t, run[i-1].Timestamp+uint32(tsStep), f.Timestamp, "frame %d ts", i)
						assert.Equal(t, run[i-1].Sequence+1, f.Sequence, "frame %d seq", i)
					}
				}
				checkWire(t, sent, p.a.SSRC(), tsStep)
				st := p.b.Stats()
				assert.Equal(t, p.a.SSRC(), st.RemoteSSRC)
				assert.Zero(t, st.Lost)
				assert.Zero(t, st.Concealed)
				assert.Zero(t, st.DroppedSource+st.DroppedSSRC+st.DroppedGarbage+st.DroppedPayloadType)
			})
		})
	}
}

// TestLoopbackUDPTone is the same over real UDP sockets in real time. Exact timing
// is TestToneContinuity's job: here a scheduler stall of the shared test machine can
// delay a packet past its playout time (the frame is concealed) or, beyond the
// Clock's 300 ms catch-up limit, make the sender skip packets (the timestamps jump
// by whole packets, counted in SkippedTicks). What must hold whatever the load: the
// tone comes through sockets at the right frequency, every decoded frame carries it,
// sequence numbers never jump and timestamps only by the skipped packets.
func TestLoopbackUDPTone(t *testing.T) {
	const ptime = 20 * time.Millisecond
	recv, sent, p, _ := tonePair(t, newPair, media.PCMU(), 0, ptime)
	p.close() // final counters
	spf := media.SamplesPer(8000, ptime)
	run := toneRun(t, recv, 1000)
	decoded := 0
	for i, f := range run {
		if f.Flags != media.FlagRTP {
			continue
		}
		decoded++
		assert.Greater(t, goertzel(f.Samples, 1000, 8000), 0.9, "frame %d", i)
		if i > 0 && run[i-1].Flags == media.FlagRTP && run[i-1].Sequence+1 == f.Sequence {
			assert.Equal(t, run[i-1].Timestamp+uint32(spf), f.Timestamp, "frame %d ts", i)
		}
	}
	assert.Positive(t, decoded)
	require.NotEmpty(t, sent)
	skipped := 0
	for i, sp := range sent {
		assert.Equal(t, p.a.SSRC(), sp.hdr.SSRC)
		if i == 0 {
			continue
		}
		assert.Equal(t, sent[i-1].hdr.SequenceNumber+1, sp.hdr.SequenceNumber, "packet %d", i)
		step := sp.hdr.Timestamp - sent[i-1].hdr.Timestamp
		assert.Zero(t, step%uint32(spf), "packet %d: timestamp step %d", i, step)
		skipped += int(step/uint32(spf)) - 1
	}
	assert.EqualValues(t, p.a.Stats().SkippedTicks, skipped, "timestamp jumps are the skipped packets")
	st := p.b.Stats()
	assert.Equal(t, p.a.SSRC(), st.RemoteSSRC)
	assert.Zero(t, st.Lost)
	assert.Zero(t, st.DroppedSource+st.DroppedSSRC+st.DroppedGarbage+st.DroppedPayloadType)
	t.Logf("%d tone frames decoded of %d, %d concealed, %d packets skipped by the sender",
		decoded, len(run), st.Concealed, skipped)
}
