package rtpsession

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

func rawRTP(t testing.TB, pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
	require.NoError(t, err)
	return b
}

func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, append([]any{msg}, args...)...)
}

func TestSymmetricRTPDropsOtherSourcesAndGarbage(t *testing.T) {
	p := newPair(t, Config{RTCPInterval: -1}, Config{RTCPInterval: -1}, nil, nil)
	eventually(t, func() bool { return p.b.Stats().PacketsReceived > 5 }, "b receives")
	require.Equal(t, p.a.SSRC(), p.b.Stats().RemoteSSRC)

	// A third party sends well-formed RTP of the right payload type.
	intruder := udpListen(t)
	payload := make([]byte, 160)
	for i := range 20 {
		_, err := intruder.WriteTo(rawRTP(t, 0, uint16(i), uint32(i*160), 0xBADBAD, payload), p.bRaw.LocalAddr())
		require.NoError(t, err)
	}
	// The latched address sends another SSRC while a's stream is live.
	for i := range 10 {
		_, err := p.aRaw.WriteTo(rawRTP(t, 0, uint16(i), uint32(i*160), 0xC0FFEE, payload), p.bRaw.LocalAddr())
		require.NoError(t, err)
	}
	// Garbage, from both: not RTP v2, too short, a payload type not negotiated, and a
	// header whose CSRC count runs past the end.
	garbage := [][]byte{
		[]byte("hello, this is not RTP at all"),
		{0x80, 0x00, 0x01},
		append([]byte{0x40, 0x00}, make([]byte, 20)...), // version 1
		{0x8f, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2},      // 15 CSRCs announced, none present
	}
	for _, g := range garbage {
		_, err := intruder.WriteTo(g, p.bRaw.LocalAddr())
		require.NoError(t, err)
		_, err = p.aRaw.WriteTo(g, p.bRaw.LocalAddr())
		require.NoError(t, err)
	}
	_, err := p.aRaw.WriteTo(rawRTP(t, 18, 1, 1, p.a.SSRC(), payload), p.bRaw.LocalAddr()) // G.729: not negotiated
	require.NoError(t, err)

	eventually(t, func() bool {
		st := p.b.Stats()
		return st.DroppedSource == 20 && st.DroppedSSRC == 10 && st.DroppedGarbage == 8 && st.DroppedPayloadType == 1
	}, "drops counted: %+v", p.b.Stats())
	st := p.b.Stats()
	assert.Equal(t, p.a.SSRC(), st.RemoteSSRC, "still latched to a")
	assert.Equal(t, p.aRaw.LocalAddr().String(), p.b.RemoteAddr().String())
	assert.Zero(t, st.Lost)
}

func TestLatchRedirectsSendingToMediaSource(t *testing.T) {
	// b is told (by "SDP") to send to an address nobody answers at; a's media comes
	// from its real address, and b must answer there (symmetric RTP through NAT).
	aConn, bConn, void := udpListen(t), udpListen(t), udpListen(t)
	a, err := New(aConn, Config{Codec: media.PCMU(), RemoteAddr: bConn.LocalAddr(), RTCPInterval: -1, Rand: fixedRand(1)})
	require.NoError(t, err)
	defer a.Close()
	b, err := New(bConn, Config{Codec: media.PCMU(), RemoteAddr: void.LocalAddr(), RTCPInterval: -1, Rand: fixedRand(2)})
	require.NoError(t, err)
	defer b.Close()
	eventually(t, func() bool { return a.Stats().PacketsReceived > 5 }, "a receives b's media after b latched")
	assert.Equal(t, aConn.LocalAddr().String(), b.RemoteAddr().String())
	assert.Equal(t, b.SSRC(), a.Stats().RemoteSSRC)
}

func TestLatchStrictAcceptsOnlySDPAddress(t *testing.T) {
	aConn, bConn, intruder := udpListen(t), udpListen(t), udpListen(t)
	b, err := New(bConn, Config{Codec: media.PCMU(), RemoteAddr: aConn.LocalAddr(), Latch: LatchStrict,
		RTCPInterval: -1, Rand: fixedRand(2)})
	require.NoError(t, err)
	defer b.Close()
	payload := make([]byte, 160)
	// The intruder speaks first: with LatchFirst it would have won the latch.
	for i := range 5 {
		_, err := intruder.WriteTo(rawRTP(t, 0, uint16(i), uint32(i*160), 7, payload), bConn.LocalAddr())
		require.NoError(t, err)
	}
	eventually(t, func() bool { return b.Stats().DroppedSource == 5 }, "intruder dropped")
	a, err := New(aConn, Config{Codec: media.PCMU(), RemoteAddr: bConn.LocalAddr(), RTCPInterval: -1, Rand: fixedRand(1)})
	require.NoError(t, err)
	defer a.Close()
	eventually(t, func() bool { return b.Stats().PacketsReceived > 5 }, "a accepted")
	assert.Equal(t, a.SSRC(), b.Stats().RemoteSSRC)
	assert.Equal(t, aConn.LocalAddr().String(), b.RemoteAddr().String())
}

func TestSSRCChangeAfterSilenceRelatches(t *testing.T) {
	bConn, src := udpListen(t), udpListen(t)
	b, err := New(bConn, Config{Codec: media.PCMU(), RemoteAddr: src.LocalAddr(), RTCPInterval: -1, Rand: fixedRand(2)})
	require.NoError(t, err)
	defer b.Close()
	payload := make([]byte, 160)
	send := func(ssrc uint32, n int) {
		for i := range n {
			_, err := src.WriteTo(rawRTP(t, 0, uint16(i), uint32(i*160), ssrc, payload), bConn.LocalAddr())
			require.NoError(t, err)
		}
	}
	send(1, 3)
	eventually(t, func() bool { return b.Stats().RemoteSSRC == 1 }, "latched SSRC 1")
	send(2, 3) // immediately: dropped
	eventually(t, func() bool { return b.Stats().DroppedSSRC == 3 }, "SSRC 2 dropped while 1 is live")
	time.Sleep(ssrcSwitchSilence + 50*time.Millisecond)
	send(2, 3) // after the old stream went quiet: accepted
	eventually(t, func() bool { return b.Stats().RemoteSSRC == 2 }, "relatched to SSRC 2")
}

func TestRTCPStatsAgreeWithLossAndJitter(t *testing.T) {
	// a → b through 5% seeded loss and 0-30 ms random delay (which reorders packets);
	// RTCP multiplexed on the RTP sockets, reports every 400 ms on average.
	var imp *impairConn
	rec := &recordConn{}
	p := newPair(t,
		Config{RTCPMux: true, RTCPInterval: 400 * time.Millisecond},
		Config{RTCPMux: true, RTCPInterval: 400 * time.Millisecond},
		func(c net.PacketConn) net.PacketConn {
			imp = newImpairConn(c, 42, 0.05, 0, 30*time.Millisecond)
			rec.PacketConn = imp
			return rec
		}, nil)
	time.Sleep(3 * time.Second)
	require.NoError(t, p.a.Close()) // stop sending (and say BYE)
	imp.flush()
	eventually(t, func() bool { return p.b.Stats().RemoteBye }, "BYE received")

	sent, dropped := imp.counts()
	require.Greater(t, dropped, 0)
	// Delayed packets may still be in b's socket when the BYE (sent last, but maybe
	// delayed less) has been read.
	eventually(t, func() bool { return p.b.Stats().PacketsReceived == uint64(sent) },
		"every packet the wrapper let through is received: %d of %d", p.b.Stats().PacketsReceived, sent)
	bs := p.b.Stats()
	as := p.a.Stats()
	// Every RTP packet a sent reached b or was dropped by the wrapper; b counts as lost
	// exactly the dropped ones below the highest sequence it saw.
	assert.EqualValues(t, sent, bs.PacketsReceived, "received = sent - dropped")
	assert.EqualValues(t, as.PacketsSent, uint64(sent+dropped))
	assert.LessOrEqual(t, bs.Lost, int64(dropped))
	assert.GreaterOrEqual(t, bs.Lost, int64(dropped)-3, "only a tail loss can go uncounted")
	assert.Equal(t, bs.Expected, bs.PacketsReceived+uint64(bs.Lost))
	assert.Zero(t, bs.Duplicates)
	t.Logf("a sent %d (wire %d, dropped %d); b: expected %d lost %d late %d concealed %d jitter %v",
		as.PacketsSent, sent, dropped, bs.Expected, bs.Lost, bs.Late, bs.Concealed, bs.JitterDuration)

	// Interarrival jitter of uniform 0-30 ms delays is about 10 ms (E|d1-d2| = 30/3);
	// a busy machine's scheduling adds to it, so only the floor is asserted (the
	// estimator itself is checked exactly in TestRxStatsJitter).
	assert.Greater(t, bs.JitterDuration, 3*time.Millisecond)
	assert.Greater(t, bs.Concealed, uint64(0), "losses were concealed")

	// What b reported back to a about a's stream.
	assert.Greater(t, as.RemoteLost, int64(0))
	assert.LessOrEqual(t, as.RemoteLost, bs.Lost)
	assert.Greater(t, as.RemoteJitter, uint32(0))
	assert.Greater(t, as.RTCPReceived, uint64(2))
	assert.Greater(t, bs.RTCPReceived, uint64(2))
	assert.Equal(t, as.SSRC, bs.RemoteSSRC)
}

func TestRTTWithDelayedPathAndSeparateRTCPSockets(t *testing.T) {
	const delay = 40 * time.Millisecond
	aRTP, aRTCP, err := Listen(netip.Addr{}, PortRange{Min: 30000, Max: 39999}, false)
	require.NoError(t, err)
	bRTP, bRTCP, err := Listen(netip.MustParseAddr("127.0.0.1"), PortRange{Min: 30000, Max: 39999}, false)
	require.NoError(t, err)
	require.NotNil(t, aRTCP)
	aPort := aRTP.LocalAddr().(*net.UDPAddr).Port
	require.Zero(t, aPort%2, "RTP port is even")
	require.Equal(t, aPort+1, aRTCP.LocalAddr().(*net.UDPAddr).Port, "RTCP on port+1")

	// Everything a sends (RTP and RTCP) takes 40 ms more.
	aOut := newImpairConn(aRTP, 1, 0, delay, 0)
	aOutRTCP := newImpairConn(aRTCP, 2, 0, delay, 0)
	a, err := New(aOut, Config{Codec: media.PCMU(), RemoteAddr: bRTP.LocalAddr(), RTCPConn: aOutRTCP,
		RTCPInterval: 300 * time.Millisecond, OwnConns: true, Rand: fixedRand(1)})
	require.NoError(t, err)
	b, err := New(bRTP, Config{Codec: media.PCMU(), RemoteAddr: aRTP.LocalAddr(), RTCPConn: bRTCP,
		RTCPInterval: 300 * time.Millisecond, OwnConns: true, Rand: fixedRand(2)})
	require.NoError(t, err)
	defer func() {
		_ = a.Close()
		_ = b.Close()
		aOut.flush()
		aOutRTCP.flush()
	}()
	eventually(t, func() bool { return a.Stats().RTT > 0 && b.Stats().RTT > 0 }, "RTT measured")
	ra, rb := a.Stats().RTT, b.Stats().RTT
	t.Logf("RTT seen by a %v, by b %v (one-way added delay %v)", ra, rb, delay)
	// The added delay is a floor (to the 1/65536 s resolution of RTCP times); the
	// ceiling is generous because a loaded machine adds scheduling delay.
	assert.GreaterOrEqual(t, ra, delay-time.Millisecond)
	assert.GreaterOrEqual(t, rb, delay-time.Millisecond)
	assert.Less(t, ra, time.Second)
	assert.Less(t, rb, time.Second)
}

func TestDTMFEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		loss   float64
		jitter time.Duration
	}{
		{"clean", 0, 0},
		{"lossy-reordering", 0.05, 40 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var imp *impairConn
			p := newPair(t,
				Config{TelephoneEventPT: 101, RTCPInterval: -1},
				Config{TelephoneEventPT: 101, RTCPInterval: -1},
				func(c net.PacketConn) net.PacketConn {
					imp = newImpairConn(c, 7, tc.loss, 0, tc.jitter)
					return imp
				}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, p.a.SendDTMF(ctx, "1234#", 80*time.Millisecond, 10))
			got := ""
			for len(got) < 5 {
				d, err := p.b.ReadDTMF(ctx)
				require.NoError(t, err, "after %q", got)
				got += string(d.Digit)
				assert.Equal(t, 10, d.Volume)
				assert.InDelta(t, float64(80*time.Millisecond), float64(d.Duration), float64(20*time.Millisecond))
			}
			assert.Equal(t, "1234#", got)
			// Nothing more arrives: each digit exactly once.
			time.Sleep(1200 * time.Millisecond) // past the receiver's end timeout
			_, more := p.b.PollDTMF()
			assert.False(t, more)
			p.close()
			imp.flush() // after Close: nothing is being written any more
			st := p.b.Stats()
			assert.EqualValues(t, 5, st.DTMFReceived)
			assert.Greater(t, p.a.Stats().DTMFSent, uint64(5*4))
		})
	}
}

func TestSendDTMFErrors(t *testing.T) {
	p := newPair(t, Config{RTCPInterval: -1}, Config{TelephoneEventPT: 96, RTCPInterval: -1}, nil, nil)
	assert.ErrorIs(t, p.a.SendDTMF(context.Background(), "1", 0, 0), ErrNoDTMF)
	assert.Error(t, p.b.SendDTMF(context.Background(), "1x", 0, 0))
	assert.Error(t, p.b.SendDTMF(context.Background(), "1", 0, 99))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.b.SendDTMF(ctx, "123456789", time.Second, 0) }()
	eventually(t, func() bool { return p.b.Stats().DTMFSent > 0 }, "sending")
	assert.ErrorIs(t, p.b.SendDTMF(context.Background(), "1", 0, 0), ErrDTMFBusy)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	// The cut-short event's end packets go out, then the session is free again.
	eventually(t, func() bool {
		return p.b.SendDTMF(context.Background(), "5", 40*time.Millisecond, 0) == nil
	}, "free after cancel")
}

func TestSetRemoteAddr(t *testing.T) {
	p := newPair(t, Config{RTCPMux: true}, Config{RTCPMux: true}, nil, nil)
	eventually(t, func() bool { return p.b.Stats().PacketsReceived > 10 }, "b receives")
	before := p.b.Stats()

	// A session refresh re-offers the same address: nothing is reset.
	p.b.SetRemoteAddr(p.aRaw.LocalAddr(), nil)
	p.b.SetHold(false)
	eventually(t, func() bool { return p.b.Stats().PacketsReceived > before.PacketsReceived+10 }, "still receiving")
	st := p.b.Stats()
	assert.Equal(t, p.a.SSRC(), st.RemoteSSRC)
	assert.Equal(t, st.Expected, st.PacketsReceived, "counters carried on: %+v", st)
	assert.GreaterOrEqual(t, st.Expected, before.Expected)

	// A real change of address (a's media moved elsewhere): b sends to the new one
	// and latches to whatever comes from there.
	require.NoError(t, p.a.Close())
	other := udpListen(t)
	p.b.SetRemoteAddr(other.LocalAddr(), nil)
	buf := make([]byte, 1500)
	require.NoError(t, other.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, _, err := other.ReadFrom(buf)
	require.NoError(t, err, "b sends to the new address")
	for i := range 3 {
		_, err := other.WriteTo(rawRTP(t, 0, uint16(i), uint32(160*i), 0xABCD, make([]byte, 160)), p.bRaw.LocalAddr())
		require.NoError(t, err)
	}
	eventually(t, func() bool { return p.b.Stats().RemoteSSRC == 0xABCD }, "latched the new source")
	assert.Equal(t, other.LocalAddr().String(), p.b.RemoteAddr().String())

	// Unusable addresses (what an absent SDP attribute converts to) count as none.
	assert.Nil(t, usableAddr(&net.UDPAddr{}))
	assert.Nil(t, usableAddr((*net.UDPAddr)(nil)))
	assert.NotNil(t, usableAddr(p.aRaw.LocalAddr()))
}
