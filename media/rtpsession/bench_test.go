package rtpsession

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

// benchSession is a session on a nullConn whose clock has been detached, so the
// caller drives ticks itself.
func benchSession(tb testing.TB, cfg Config) *Session {
	tb.Helper()
	cfg.Codec = media.PCMU()
	if cfg.RemoteAddr == nil {
		cfg.RemoteAddr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	}
	cfg.Rand = fixedRand(3)
	cfg.InactivityTimeout = -1
	cfg.OwnConns = true
	s, err := New(newNullConn(), cfg)
	require.NoError(tb, err)
	s.clock.unregister(s.entry)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Budget for every per-frame path below: 0 allocations per frame in steady state.

// BenchmarkPacketize: one 20 ms frame queued with WriteFrame, then the pacer's send
// tick encodes it (G.711) into an RTP packet and writes it.
func BenchmarkPacketize(b *testing.B) {
	s := benchSession(b, Config{RTCPInterval: -1})
	f := toneFrames(8000, 20*time.Millisecond, 20*time.Millisecond, 1000)[0]
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.WriteFrame(f); err != nil {
			b.Fatal(err)
		}
		now = now.Add(20 * time.Millisecond)
		s.sendTick(now, 0)
	}
}

// depacketizer feeds a session RTP datagrams as the reader goroutine would, and runs
// the playout tick and ReadFrame for each.
type depacketizer struct {
	s   *Session
	pkt []byte
	src *net.UDPAddr
	now time.Time
	seq uint16
	ts  uint32
}

func newDepacketizer(tb testing.TB) *depacketizer {
	s := benchSession(tb, Config{RTCPInterval: -1})
	d := &depacketizer{s: s, src: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, now: time.Now()}
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i)
	}
	d.pkt = rawRTP(tb, 0, 0, 0, 0x1234, payload)
	return d
}

func (d *depacketizer) step(tb testing.TB) media.Frame {
	d.seq++
	d.ts += 160
	d.now = d.now.Add(20 * time.Millisecond)
	d.pkt[2], d.pkt[3] = byte(d.seq>>8), byte(d.seq)
	d.pkt[4], d.pkt[5], d.pkt[6], d.pkt[7] = byte(d.ts>>24), byte(d.ts>>16), byte(d.ts>>8), byte(d.ts)
	d.s.handleDatagram(d.pkt, d.src.AddrPort(), d.src, d.now)
	d.s.playout.tick(d.now, 0)
	f, ok := d.s.playout.take(d.s.readBuf)
	if !ok {
		tb.Fatal("no frame")
	}
	return f
}

// BenchmarkDepacketize: one RTP datagram parsed, latched, counted, pushed into the
// jitter buffer, popped and decoded at its playout time, and read as a frame.
func BenchmarkDepacketize(b *testing.B) {
	d := newDepacketizer(b)
	for range 100 { // past the jitter buffer's start-up
		d.step(b)
	}
	b.ReportAllocs()
	for b.Loop() {
		d.step(b)
	}
}

// BenchmarkPacerTick: one whole session tick with an idle queue: playout pop
// (silence), encoded silence sent, inactivity and RTCP checks.
func BenchmarkPacerTick(b *testing.B) {
	s := benchSession(b, Config{RTCPInterval: -1})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(20 * time.Millisecond)
		s.tick(now, 0)
	}
}

// TestPerFrameZeroAllocs pins the budget: the per-frame paths do not allocate.
func TestPerFrameZeroAllocs(t *testing.T) {
	s := benchSession(t, Config{RTCPInterval: -1})
	f := toneFrames(8000, 20*time.Millisecond, 20*time.Millisecond, 1000)[0]
	now := time.Now()
	send := func() {
		_ = s.WriteFrame(f)
		now = now.Add(20 * time.Millisecond)
		s.tick(now, 0)
	}
	send()
	if n := testing.AllocsPerRun(200, send); n != 0 {
		t.Errorf("packetize + tick: %v allocs per frame", n)
	}
	d := newDepacketizer(t)
	for range 100 {
		d.step(t)
	}
	if n := testing.AllocsPerRun(200, func() { d.step(t) }); n != 0 {
		t.Errorf("depacketize: %v allocs per frame", n)
	}
}
