package rtpsession

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

var allProfiles = []SRTPProfile{SRTPAESCM128HMACSHA1_80, SRTPAESCM128HMACSHA1_32, SRTPAEADAES128GCM, SRTPAEADAES256GCM}

// testKey returns deterministic key material of n bytes, different for each seed.
func testKey(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)*7
	}
	return b
}

// srtpConfigs returns the two ends' configurations of one keying: a's local key is
// b's remote key and the other way round.
func srtpConfigs(p SRTPProfile) (a, b *SRTPConfig) {
	ka, sa := testKey(1, p.KeyLen()), testKey(101, p.SaltLen())
	kb, sb := testKey(2, p.KeyLen()), testKey(102, p.SaltLen())
	return &SRTPConfig{Profile: p, LocalKey: ka, LocalSalt: sa, RemoteKey: kb, RemoteSalt: sb},
		&SRTPConfig{Profile: p, LocalKey: kb, LocalSalt: sb, RemoteKey: ka, RemoteSalt: sa}
}

func TestSRTPProfileNames(t *testing.T) {
	for _, p := range allProfiles {
		got, err := ParseSRTPProfile(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, got)
		assert.Positive(t, p.KeyLen())
		assert.Positive(t, p.SaltLen())
	}
	p, err := ParseSRTPProfile("aes_cm_128_hmac_sha1_80")
	require.NoError(t, err)
	assert.Equal(t, SRTPAESCM128HMACSHA1_80, p)
	_, err = ParseSRTPProfile("F8_128_HMAC_SHA1_80")
	assert.ErrorIs(t, err, ErrSRTPProfile)
	assert.Equal(t, 16, SRTPAESCM128HMACSHA1_80.KeyLen())
	assert.Equal(t, 14, SRTPAESCM128HMACSHA1_80.SaltLen())
	assert.Equal(t, 12, SRTPAEADAES128GCM.SaltLen())
	assert.Equal(t, 32, SRTPAEADAES256GCM.KeyLen())
	assert.Empty(t, SRTPProfile(0).String())
}

func TestSRTPConfigValidation(t *testing.T) {
	good, _ := srtpConfigs(SRTPAESCM128HMACSHA1_80)
	for name, mod := range map[string]func(c *SRTPConfig){
		"no profile":    func(c *SRTPConfig) { c.Profile = 0 },
		"short key":     func(c *SRTPConfig) { c.LocalKey = c.LocalKey[:15] },
		"long salt":     func(c *SRTPConfig) { c.RemoteSalt = append(c.RemoteSalt, 0) },
		"missing key":   func(c *SRTPConfig) { c.RemoteKey = nil },
		"GCM salt":      func(c *SRTPConfig) { c.Profile = SRTPAEADAES128GCM },
		"long MKI":      func(c *SRTPConfig) { c.RemoteMKI = make([]byte, 5) },
		"unknown value": func(c *SRTPConfig) { c.Profile = 99 },
	} {
		c := *good
		mod(&c)
		_, err := New(newNullConn(), Config{Codec: media.PCMU(), SRTP: &c})
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

// A tone through two SRTP sessions, for every profile, in a synctest bubble: every
// tone frame comes out, and what went over the wire is ciphertext that decrypts (with
// an independent context under the sender's key) to the codec's bytes.
func TestSRTPTone(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ca, cb := srtpConfigs(p)
				rec := &recordConn{}
				pr := newMemPair(t, Config{SRTP: ca, RTCPMux: true, RTCPInterval: 200 * time.Millisecond},
					Config{SRTP: cb, RTCPMux: true, RTCPInterval: 200 * time.Millisecond},
					func(c net.PacketConn) net.PacketConn { rec.PacketConn = c; return rec }, nil)
				stop := make(chan struct{})
				got := collect(pr.b, stop)
				frames := toneFrames(8000, 20*time.Millisecond, time.Second, 1000)
				for _, f := range frames {
					require.NoError(t, pr.a.WriteFrame(f))
				}
				require.NoError(t, pr.a.WaitPlayout(context.Background()))
				time.Sleep(time.Second)
				close(stop)
				synctest.Wait()
				run := toneRun(t, <-got, 1000)
				assert.Len(t, run, len(frames), "every tone frame decrypted and decoded")
				for i, f := range run[1 : len(run)-1] {
					assert.Greater(t, goertzel(f.Samples, 1000, 8000), 0.9, "frame %d", i+1)
				}

				sa, sb := pr.a.Stats(), pr.b.Stats()
				assert.Equal(t, p, sa.SRTP)
				assert.Equal(t, p, sb.SRTP)
				assert.Zero(t, sb.SRTPAuthFailures+sb.SRTPReplays+sa.SRTPAuthFailures+sa.SRTPReplays)
				assert.Zero(t, sb.DroppedGarbage+sb.DroppedPayloadType)
				assert.Equal(t, pr.a.SSRC(), sb.RemoteSSRC)
				assert.Positive(t, sb.RTCPReceived, "SRTCP reports decrypted")
				assert.Positive(t, sa.RTCPReceived)
				assert.Zero(t, sa.RTCPDropped+sb.RTCPDropped)
				assert.Positive(t, sa.RTT, "round trip from SRTCP sender and receiver reports")
				assert.Equal(t, uint64(160), sa.BytesSent/sa.PacketsSent, "payload octets exclude the tag")

				// The wire: each payload is 160 bytes of ciphertext plus the tag, and
				// decrypting it gives G.711 of the tone, which differs from it.
				dec, err := srtp.CreateContext(ca.LocalKey, ca.LocalSalt, p.pion())
				require.NoError(t, err)
				tag := map[SRTPProfile]int{SRTPAESCM128HMACSHA1_80: 10, SRTPAESCM128HMACSHA1_32: 4, SRTPAEADAES128GCM: 16, SRTPAEADAES256GCM: 16}[p]
				sent := rec.packets()
				require.NotEmpty(t, sent)
				checkWire(t, sent, pr.a.SSRC(), 160)
				toneBytes := 0
				for _, sp := range sent {
					require.Len(t, sp.payload, 160+tag)
					raw, err := (&rtp.Packet{Header: sp.hdr, Payload: sp.payload}).Marshal()
					require.NoError(t, err)
					plain, err := dec.DecryptRTP(nil, raw, nil)
					require.NoError(t, err)
					payload := plain[len(plain)-160:]
					assert.NotEqual(t, payload, sp.payload[:160], "payload is encrypted")
					pcm := media.PCMU().NewDecoder().Decode(nil, payload)
					if goertzel(pcm, 1000, 8000) > 0.9 {
						toneBytes++
					}
				}
				assert.GreaterOrEqual(t, toneBytes, len(frames)-2, "the wire carries the tone once decrypted")
			})
		})
	}
}

// The receiver has the wrong key: nothing authenticates, so nothing latches, counts
// or plays, and every packet (RTP and SRTCP) is counted as an authentication failure.
// Plain RTP to an SRTP session fares the same.
func TestSRTPWrongKeyAndPlainRTP(t *testing.T) {
	for _, tc := range []string{"wrong key", "plain sender"} {
		t.Run(tc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ca, cb := srtpConfigs(SRTPAESCM128HMACSHA1_80)
				cfgA := Config{SRTP: ca, RTCPMux: true, RTCPInterval: 100 * time.Millisecond}
				if tc == "plain sender" {
					cfgA.SRTP = nil
				} else {
					cb.RemoteKey = testKey(9, 16)
				}
				pr := newMemPair(t, cfgA, Config{SRTP: cb, RTCPMux: true, RTCPInterval: -1}, nil, nil)
				stop := make(chan struct{})
				got := collect(pr.b, stop)
				for _, f := range toneFrames(8000, 20*time.Millisecond, 500*time.Millisecond, 1000) {
					require.NoError(t, pr.a.WriteFrame(f))
				}
				require.NoError(t, pr.a.WaitPlayout(context.Background()))
				time.Sleep(500 * time.Millisecond)
				close(stop)
				synctest.Wait()
				for _, f := range <-got {
					assert.NotEqual(t, media.FlagRTP, f.Flags&media.FlagRTP, "no frame decoded from a packet")
					assert.Less(t, goertzel(f.Samples, 1000, 8000), 0.1)
				}
				sa, sb := pr.a.Stats(), pr.b.Stats()
				assert.Zero(t, sb.PacketsReceived)
				assert.Zero(t, sb.RemoteSSRC, "an unauthenticated packet must not latch")
				assert.Zero(t, sb.RTCPReceived)
				assert.GreaterOrEqual(t, sb.SRTPAuthFailures, sa.PacketsSent, "every RTP packet failed")
				assert.Positive(t, sb.RTCPDropped, "SRTCP failed too")
				// One packet may still be between the sockets when the counters are read.
				assert.InDelta(t, sa.PacketsSent+sb.RTCPDropped, sb.SRTPAuthFailures, 1)
				assert.Zero(t, sb.SRTPReplays)
			})
		})
	}
}

// srtpSender makes SRTP and SRTCP packets as the remote of an SRTP session would.
type srtpSender struct {
	t   testing.TB
	ctx *srtp.Context
}

func newSRTPSender(t testing.TB, c *SRTPConfig) *srtpSender {
	ctx, err := srtp.CreateContext(c.RemoteKey, c.RemoteSalt, c.Profile.pion())
	require.NoError(t, err)
	return &srtpSender{t: t, ctx: ctx}
}

func (s *srtpSender) rtp(ssrc uint32, seq uint16, ts uint32) []byte {
	raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: seq, Timestamp: ts},
		Payload: bytes.Repeat([]byte{0xff}, 160)}).Marshal()
	require.NoError(s.t, err)
	out, err := s.ctx.EncryptRTP(nil, raw, nil)
	require.NoError(s.t, err)
	return out
}

// srtpSession is a session with SRTP on a nullConn with its clock detached, fed
// datagrams by the test.
func srtpSession(t testing.TB, p SRTPProfile) (*Session, *SRTPConfig) {
	_, cb := srtpConfigs(p)
	s := benchSession(t, Config{RTCPInterval: -1, SRTP: cb})
	return s, cb
}

// Replay protection: a packet received twice, or older than the window, is dropped
// and counted; reordering within the window is not replay.
func TestSRTPReplay(t *testing.T) {
	s, cfg := srtpSession(t, SRTPAESCM128HMACSHA1_80)
	snd := newSRTPSender(t, cfg)
	src := fuzzSources[0]
	var pkts [][]byte
	for i := range 300 {
		pkts = append(pkts, snd.rtp(7, uint16(1000+i), uint32(i*160)))
	}
	feed := func(b []byte) { s.handleDatagram(bytes.Clone(b), src, nil, time.Now()) }
	feed(pkts[0])
	feed(pkts[2])
	feed(pkts[1]) // reordered within the window: fine
	assert.EqualValues(t, 3, s.Stats().PacketsReceived)
	feed(pkts[1]) // a replay
	feed(pkts[0])
	st := s.Stats()
	assert.EqualValues(t, 3, st.PacketsReceived)
	assert.EqualValues(t, 2, st.SRTPReplays)
	for _, p := range pkts[3:200] {
		feed(p)
	}
	feed(pkts[50]) // 149 behind the latest: a replay whatever its history
	feed(pkts[60]) // too old to tell: dropped as a replay too
	st = s.Stats()
	assert.EqualValues(t, 200, st.PacketsReceived)
	assert.EqualValues(t, 4, st.SRTPReplays)
	assert.Zero(t, st.SRTPAuthFailures)

	// A tampered packet fails authentication; the genuine one still passes after it.
	bad := bytes.Clone(pkts[200])
	bad[20] ^= 1
	feed(bad)
	feed(pkts[200])
	st = s.Stats()
	assert.EqualValues(t, 1, st.SRTPAuthFailures)
	assert.EqualValues(t, 201, st.PacketsReceived)
}

// Forged SSRCs cannot grow the receiver's state: the table of sources stays bounded,
// and the genuine stream survives the rebuilds, across a sequence number wrap (its
// rollover counter is carried over).
func TestSRTPForgedSourcesBounded(t *testing.T) {
	s, cfg := srtpSession(t, SRTPAESCM128HMACSHA1_80)
	snd := newSRTPSender(t, cfg)
	forger := newSRTPSender(t, &SRTPConfig{Profile: cfg.Profile, RemoteKey: testKey(50, 16), RemoteSalt: testKey(51, 14)})
	src := fuzzSources[0]
	seq := uint16(65500)
	ts := uint32(0)
	genuine := func(n int) {
		for range n {
			s.handleDatagram(snd.rtp(42, seq, ts), src, nil, time.Now())
			seq++
			ts += 160
		}
	}
	genuine(20)
	for i := range 1000 {
		s.handleDatagram(forger.rtp(uint32(1000+i), uint16(i), 0), src, nil, time.Now())
		if i%100 == 0 {
			genuine(10) // across the wrap at 65536
		}
	}
	genuine(20)
	in := s.srtp.Load().in
	in.mu.Lock()
	n := in.nsrcs
	in.mu.Unlock()
	assert.LessOrEqual(t, n, maxSRTPSources)
	st := s.Stats()
	assert.EqualValues(t, 1000, st.SRTPAuthFailures)
	assert.EqualValues(t, 140, st.PacketsReceived, "every genuine packet authenticated, before and after the wrap")
	assert.Zero(t, st.SRTPReplays)
	assert.EqualValues(t, 42, st.RemoteSSRC)
}

func TestReplayWindow(t *testing.T) {
	var refused bool
	w := newReplayWindow(&refused)
	check := func(i uint64) bool {
		refused = false
		accept, ok := w.Check(i)
		if ok {
			accept()
		}
		assert.Equal(t, !ok, refused)
		return ok
	}
	assert.True(t, check(1000))
	assert.False(t, check(1000))
	assert.True(t, check(999), "older, within the window, unseen")
	assert.False(t, check(999))
	assert.True(t, check(1000+127))
	assert.False(t, check(999), "now 128 behind: out of the window")
	assert.True(t, check(1001))
	assert.False(t, check(1001))
	assert.True(t, check(5000), "a jump clears the window")
	assert.True(t, check(4999))
	assert.True(t, check(4900))
	assert.False(t, check(4872), "128 behind")
	assert.True(t, check(5064))
	assert.False(t, check(5000), "kept across a 64-packet shift")
	assert.False(t, check(4999))
	assert.True(t, check(4998))

	// A packet that passes Check but fails authentication is not recorded.
	_, ok := w.Check(6000)
	require.True(t, ok)
	assert.True(t, check(6000))
}

// SetSRTP rekeys one direction at a time: the unchanged direction keeps its context
// (and rollover counter), the changed one gets a new one.
func TestSetSRTP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, cb := srtpConfigs(SRTPAESCM128HMACSHA1_80)
		pr := newMemPair(t, Config{SRTP: ca, RTCPInterval: -1}, Config{SRTP: cb, RTCPInterval: -1}, nil, nil)
		stop := make(chan struct{})
		got := collect(pr.b, stop)
		frames := toneFrames(8000, 20*time.Millisecond, 2*time.Second, 1000)
		go func() {
			for _, f := range frames {
				_ = pr.a.WriteFrame(f)
			}
		}()
		time.Sleep(500 * time.Millisecond)

		before := pr.a.srtp.Load()
		require.NoError(t, pr.a.SetSRTP(ca)) // the same keys: nothing changes
		assert.Same(t, before.out, pr.a.srtp.Load().out)
		assert.Same(t, before.in, pr.a.srtp.Load().in)

		// a takes a new key (as in a re-INVITE's offer) and b learns it.
		na := *ca
		na.LocalKey = testKey(77, 16)
		nb := *cb
		nb.RemoteKey = na.LocalKey
		require.NoError(t, pr.a.SetSRTP(&na))
		assert.NotSame(t, before.out, pr.a.srtp.Load().out, "new local key: new context")
		assert.Same(t, before.in, pr.a.srtp.Load().in, "remote key unchanged: context kept")
		require.NoError(t, pr.b.SetSRTP(&nb))
		require.NoError(t, pr.a.WaitPlayout(context.Background()))
		time.Sleep(500 * time.Millisecond)
		close(stop)
		run := toneRun(t, <-got, 1000)
		decoded := 0
		for _, f := range run {
			if f.Flags&media.FlagRTP != 0 {
				decoded++
			}
		}
		// At most the packet in flight during the switch is lost.
		assert.GreaterOrEqual(t, decoded, len(frames)-2)
		assert.LessOrEqual(t, pr.b.Stats().SRTPAuthFailures, uint64(1))

		require.NoError(t, pr.a.SetSRTP(nil))
		assert.Zero(t, pr.a.SRTPProfile())
		bad := na
		bad.LocalSalt = nil
		assert.ErrorIs(t, pr.a.SetSRTP(&bad), ErrInvalidConfig)
	})
}

// A peer that sends with an MKI (RFC 3711 3.1, signalled as "|1:4" in a=crypto).
func TestSRTPRemoteMKI(t *testing.T) {
	_, cb := srtpConfigs(SRTPAESCM128HMACSHA1_80)
	cb.RemoteMKI = []byte{0, 0, 0, 1}
	s := benchSession(t, Config{RTCPInterval: -1, SRTP: cb})
	ctx, err := srtp.CreateContext(cb.RemoteKey, cb.RemoteSalt, cb.Profile.pion(), srtp.MasterKeyIndicator(cb.RemoteMKI))
	require.NoError(t, err)
	snd := &srtpSender{t: t, ctx: ctx}
	for i := range 5 {
		s.handleDatagram(snd.rtp(3, uint16(i), uint32(i*160)), fuzzSources[0], nil, time.Now())
	}
	assert.EqualValues(t, 5, s.Stats().PacketsReceived)
	assert.Zero(t, s.Stats().SRTPAuthFailures)
}

// captureConn keeps a copy of the last datagram written, without allocating.
type captureConn struct {
	*nullConn
	mu  sync.Mutex
	buf [maxDatagram]byte
	n   int
}

func (c *captureConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	c.n = copy(c.buf[:], b)
	c.mu.Unlock()
	return len(b), nil
}

// srtpLink is a sender session whose packets the test hands to a receiver session:
// the whole per-frame path of both ends, without sockets or goroutines in between.
type srtpLink struct {
	a, b *Session
	out  *captureConn
	in   []byte
	f    media.Frame
	now  time.Time
}

func newSRTPLink(tb testing.TB, p SRTPProfile) *srtpLink {
	var ca, cb *SRTPConfig
	if p != 0 {
		ca, cb = srtpConfigs(p)
	}
	l := &srtpLink{out: &captureConn{nullConn: newNullConn()}, in: make([]byte, maxDatagram), now: time.Now()}
	var err error
	l.a, err = New(l.out, Config{Codec: media.PCMU(), RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9},
		Rand: fixedRand(3), InactivityTimeout: -1, RTCPInterval: -1, OwnConns: true, SRTP: ca})
	require.NoError(tb, err)
	l.a.clock.unregister(l.a.entry)
	tb.Cleanup(func() { _ = l.a.Close() })
	l.b = benchSession(tb, Config{RTCPInterval: -1, SRTP: cb})
	l.f = toneFrames(8000, 20*time.Millisecond, 20*time.Millisecond, 1000)[0]
	return l
}

// step sends one frame from a and receives, decodes and reads it at b.
func (l *srtpLink) step(tb testing.TB) {
	if err := l.a.WriteFrame(l.f); err != nil {
		tb.Fatal(err)
	}
	l.now = l.now.Add(20 * time.Millisecond)
	l.a.sendTick(l.now, 0)
	n := copy(l.in, l.out.buf[:l.out.n])
	l.b.handleDatagram(l.in[:n], fuzzSources[0], nil, l.now)
	l.b.playout.tick(l.now, 0)
	if _, ok := l.b.playout.take(l.b.readBuf); !ok {
		tb.Fatal("no frame")
	}
}

// BenchmarkSRTPLink: one frame through both ends' whole per-frame paths (queue,
// encode, protect, send; receive, unprotect, jitter buffer, decode, read), without
// SRTP and with each profile. The difference to "none" is SRTP's cost per packet,
// protect and unprotect together.
func BenchmarkSRTPLink(b *testing.B) {
	for _, p := range append([]SRTPProfile{0}, allProfiles...) {
		name := p.String()
		if p == 0 {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			l := newSRTPLink(b, p)
			for range 100 {
				l.step(b)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.step(b)
			}
		})
	}
}

// pionAllocs measures what pion/srtp itself allocates to protect and unprotect one
// 172-byte RTP packet under p, with buffers reused: the floor for the session's
// per-frame path with SRTP.
func pionAllocs(t *testing.T, p SRTPProfile) float64 {
	k, s := testKey(1, p.KeyLen()), testKey(2, p.SaltLen())
	enc, err := srtp.CreateContext(k, s, p.pion())
	require.NoError(t, err)
	dec, err := srtp.CreateContext(k, s, p.pion())
	require.NoError(t, err)
	pkt := make([]byte, 172, 300)
	var hdr rtp.Header
	h := &rtp.Header{Version: 2, SSRC: 1}
	return testing.AllocsPerRun(200, func() {
		h.SequenceNumber++
		_, _ = h.MarshalTo(pkt)
		out, err := enc.EncryptRTP(pkt[:0], pkt[:172], &hdr)
		if err == nil {
			_, err = dec.DecryptRTP(out[:0], out, &hdr)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestSRTPPerFrameAllocs pins the per-frame budget with SRTP: our side of the path
// (buffers, replay detection, state) allocates nothing, so a frame through both ends
// costs no more than what pion/srtp allocates by itself, and nothing at all without
// SRTP.
func TestSRTPPerFrameAllocs(t *testing.T) {
	for _, p := range append([]SRTPProfile{0}, allProfiles...) {
		l := newSRTPLink(t, p)
		for range 100 {
			l.step(t)
		}
		got := testing.AllocsPerRun(200, func() { l.step(t) })
		floor := 0.0
		if p != 0 {
			floor = pionAllocs(t, p)
		}
		slack := 0.0
		if raceEnabled && p != 0 {
			slack = 1 // the race detector's sync.Pool drops: see raceEnabled
		}
		assert.LessOrEqual(t, got, floor+slack, "%v: allocations per frame (pion/srtp alone: %v)", p, floor)
		t.Logf("profile %q: %v allocations per frame, all of them inside pion/srtp", p, got)
		assert.Zero(t, l.b.Stats().SRTPAuthFailures)
	}
}

// FuzzReceiveSRTP feeds an SRTP session datagrams: raw (mostly failing
// authentication), or, when protect is set, first encrypted under the remote key so
// that arbitrary plaintext reaches the parsers behind authentication. Every datagram
// must be counted.
func FuzzReceiveSRTP(f *testing.F) {
	seedPackets(f)
	_, cb := srtpConfigs(SRTPAESCM128HMACSHA1_80)
	s := benchSession(f, Config{RTCPInterval: -1, SRTP: cb, RTCPMux: true, TelephoneEventPT: 101})
	snd := newSRTPSender(f, cb)
	f.Add(snd.rtp(1, 1, 160), uint8(0))
	f.Add(snd.rtp(1, 2, 320), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		before := accounted(s) + s.stats.srtpAuthFailures.Load() + s.stats.srtpReplays.Load()
		if mode%2 == 1 {
			var out []byte
			var err error
			if isRTCP(b) {
				out, err = snd.ctx.EncryptRTCP(nil, b, nil)
			} else {
				out, err = snd.ctx.EncryptRTP(nil, b, nil)
			}
			if err == nil {
				b = out
			}
		}
		s.handleDatagram(b, fuzzSources[0], nil, time.Now())
		if accounted(s)+s.stats.srtpAuthFailures.Load()+s.stats.srtpReplays.Load() == before {
			t.Fatalf("datagram %x not counted", b)
		}
	})
}
