package switchboard_test

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// The figures below are taken on the wire: a raw IPv4 socket sees every UDP datagram
// to 127.0.0.1 (a copy; the call's own sockets get theirs as usual) and timestamps
// the RTP packets of the call, so they include pacing, encoding and the socket. It
// needs CAP_NET_RAW (root).

// wirePacket is one RTP packet seen on loopback.
type wirePacket struct {
	at      time.Time
	dst     int // UDP destination port
	pt      uint8
	silent  bool // G.711 payload of digital silence
	eventOn bool // telephone-event without the end bit
	end     bool // telephone-event end packet
}

type wireTap struct {
	conn net.PacketConn
	keep func(dst int) bool
	evPT uint8
	mu   sync.Mutex
	pkts []wirePacket
	done chan struct{}
}

// sniff records the RTP packets sent to the ports keep accepts (telephone-event as
// payload type evPT) until the benchmark ends.
func sniff(b *testing.B, evPT uint8, keep func(dst int) bool) *wireTap {
	b.Helper()
	conn, err := net.ListenPacket("ip4:udp", "127.0.0.1")
	if err != nil {
		b.Fatalf("a raw socket is needed to time packets on the wire (run as root): %v", err)
	}
	w := &wireTap{conn: conn, keep: keep, evPT: evPT, done: make(chan struct{})}
	go w.run()
	b.Cleanup(func() { conn.Close(); <-w.done })
	return w
}

func (w *wireTap) run() {
	defer close(w.done)
	buf := make([]byte, 2048)
	for {
		n, _, err := w.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		at := time.Now()
		// Go strips the IPv4 header from raw reads: the UDP header comes first.
		if n < 8+12 {
			continue
		}
		dst := int(binary.BigEndian.Uint16(buf[2:4]))
		if !w.keep(dst) {
			continue
		}
		rtp := buf[8:n]
		p := wirePacket{at: at, dst: dst, pt: rtp[1] & 0x7f}
		payload := rtp[12:]
		switch {
		case p.pt == w.evPT && len(payload) >= 4:
			p.end = payload[1]&0x80 != 0
			p.eventOn = !p.end
		default:
			zero, negZero := byte(0xff), byte(0x7f) // μ-law (payload type 0)
			if p.pt == 8 {
				zero, negZero = 0xd5, 0x55 // A-law
			}
			p.silent = true
			for _, x := range payload {
				if x != zero && x != negZero {
					p.silent = false
					break
				}
			}
		}
		w.mu.Lock()
		w.pkts = append(w.pkts, p)
		w.mu.Unlock()
	}
}

// first returns the first packet after t that matches, waiting up to 5 s.
func (w *wireTap) first(t time.Time, match func(wirePacket) bool) (wirePacket, error) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, p := range w.pkts {
			if p.at.After(t) && match(p) {
				w.mu.Unlock()
				return p, nil
			}
		}
		w.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	return wirePacket{}, errors.New("no such packet on the wire")
}

func (w *wireTap) reset() {
	w.mu.Lock()
	w.pkts = w.pkts[:0]
	w.mu.Unlock()
}

func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func percentile(xs []time.Duration, p float64) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func reportLatency(b *testing.B, name string, xs []time.Duration) {
	b.ReportMetric(float64(median(xs).Microseconds())/1000, name+"-median-ms")
	b.ReportMetric(float64(percentile(xs, 0.9).Microseconds())/1000, name+"-p90-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s over %d runs: median %v, p90 %v, min %v, max %v", name, len(xs),
		median(xs).Round(10*time.Microsecond), percentile(xs, 0.9).Round(10*time.Microsecond),
		slices.Min(xs).Round(10*time.Microsecond), slices.Max(xs).Round(10*time.Microsecond))
}

// Time from the Speak call to the first packet of speech on the wire, with espeak-ng
// (the default engine: process start, first 20 ms of synthesis, resampling to 8 kHz)
// and with the in-process tone engine (what the call adds: the wait for the pacer's
// next 20 ms tick, encoding, sending).
//
//	go test -run '^$' -bench BenchmarkSpeakFirstPacket -benchtime 50x .
func BenchmarkSpeakFirstPacket(b *testing.B) {
	for _, engine := range []struct {
		name  string
		synth tts.Synthesizer
	}{{"espeak-ng", nil}, {"tone", &ttstest.Tone{}}} {
		b.Run(engine.name, func(b *testing.B) {
			vc := verbsDialB(b, switchboard.Config{TTS: engine.synth})
			dst := vc.callee.Negotiated().Remote.Port()
			wire := sniff(b, 255, func(p int) bool { return p == int(dst) })
			var lat []time.Duration
			for b.Loop() {
				wire.reset()
				// The line is idle (silence); the call comes at a random point of the
				// pacer's 20 ms cycle.
				time.Sleep(40*time.Millisecond + rand.N(20*time.Millisecond))
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				began := time.Now()
				go func() { done <- vc.callee.Speak(ctx, "Hello, you are speaking with Switchboard.", call.SpeakOptions{}) }()
				p, err := wire.first(began, func(p wirePacket) bool { return !p.silent })
				cancel() // the rest of the sentence is not needed
				<-done
				require.NoError(b, err)
				lat = append(lat, p.at.Sub(began))
			}
			reportLatency(b, "speak-first-packet", lat)
		})
	}
}

// Time from a DTMF digit's arrival (the first RFC 4733 end packet on the wire, which
// is when the receiver delivers the digit) to the playback stopping (the first packet
// of silence after it on the wire), for a Play with DTMF barge-in, and to Play
// returning.
//
// Between two Switchboards of one process the two sides' pacers tick in the same
// phase (each session's phase is set when its media starts, a fraction of a
// millisecond apart), so the packet due just as the digit arrives has already taken
// its audio: this is the worst case, one ptime. BenchmarkBargeInSIPp has a peer with
// its own phase.
//
//	go test -run '^$' -bench BenchmarkBargeIn -benchtime 50x .
func BenchmarkBargeIn(b *testing.B) {
	vc := verbsDialB(b, switchboard.Config{})
	toCaller := int(vc.callee.Negotiated().Remote.Port())
	toCallee := int(vc.caller.Negotiated().Remote.Port())
	evPT := uint8(vc.callee.Negotiated().DTMFPayloadType)
	wire := sniff(b, evPT, func(p int) bool { return p == toCaller || p == toCallee })
	tone := media.Beep(1000, time.Minute)
	var stopLat, returnLat []time.Duration
	for b.Loop() {
		wire.reset()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		done := make(chan error, 1)
		var returned time.Time
		began := time.Now()
		go func() {
			err := vc.callee.Play(ctx, call.PlayOptions{Tone: &tone, BargeIn: call.BargeIn{DTMF: true}})
			returned = time.Now()
			done <- err
		}()
		_, err := wire.first(began, func(p wirePacket) bool { return p.dst == toCaller && !p.silent })
		require.NoError(b, err)
		time.Sleep(100 * time.Millisecond) // the tone plays
		require.NoError(b, vc.caller.SendDTMF(ctx, "5", 60*time.Millisecond))
		require.ErrorIs(b, <-done, call.ErrInterrupted)
		end, err := wire.first(began, func(p wirePacket) bool { return p.dst == toCallee && p.end })
		require.NoError(b, err)
		quiet, err := wire.first(end.at, func(p wirePacket) bool { return p.dst == toCaller && p.silent })
		require.NoError(b, err)
		stopLat = append(stopLat, quiet.at.Sub(end.at))
		returnLat = append(returnLat, returned.Sub(end.at))
		cancel()
	}
	reportLatency(b, "digit-to-silence", stopLat)
	reportLatency(b, "digit-to-return", returnLat)
}

// verbsDialB is verbsDial for benchmarks: A runs cfgA, B the defaults, PCMU.
func verbsDialB(b *testing.B, cfgA switchboard.Config) *verbsCall {
	b.Helper()
	calls := make(chan *call.Call, 1)
	cfgA.Handler = call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		calls <- c
		<-ctx.Done()
		return nil
	})
	quiet := slog.New(slog.DiscardHandler)
	cfgA.MediaTimeout, cfgA.Codecs, cfgA.Logger = -1, media.CodecSet{media.PCMU()}, quiet
	cfgB := switchboard.Config{MediaTimeout: -1, Codecs: media.CodecSet{media.PCMU()}, Logger: quiet}
	var sbs []*switchboard.Switchboard
	for _, cfg := range []switchboard.Config{cfgA, cfgB} {
		sb, err := switchboard.New(cfg)
		require.NoError(b, err)
		require.NoError(b, sb.Start(listen(b)))
		b.Cleanup(func() { require.NoError(b, sb.Close()) })
		sbs = append(sbs, sb)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller, err := sbs[1].Dial(ctx, sbs[0].URI("bench"), call.DialOptions{})
	require.NoError(b, err)
	return &verbsCall{callee: <-calls, caller: caller, a: sbs[0], b: sbs[1]}
}

// BenchmarkBargeInSIPp times barge-in against SIPp, which sends its digit (a captured
// RFC 4733 key press) on its own clock, after a pause drawn uniformly from 500-540 ms,
// so that the digit lands at a random point of our pacer's 20 ms cycle. One call per
// iteration: we answer and play a tone with DTMF barge-in, SIPp sends the key, we hang
// up once the Play returned. digit-to-return is within the sniffer's own timestamping
// error (it reads its copy of a packet after the call's socket may have).
//
//	go test -run '^$' -bench BenchmarkBargeInSIPp -benchtime 30x .
func BenchmarkBargeInSIPp(b *testing.B) {
	type run struct {
		returned time.Time
		port     int // our RTP port
	}
	runs := make(chan run, 1)
	tone := media.Beep(1000, time.Minute)
	sb, err := switchboard.New(switchboard.Config{MediaTimeout: -1, Logger: slog.New(slog.DiscardHandler), Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		m, err := c.Media()
		if err != nil {
			return err
		}
		port := m.LocalAddr().(*net.UDPAddr).Port
		err = c.Play(ctx, call.PlayOptions{Tone: &tone, BargeIn: call.BargeIn{DTMF: true}})
		returned := time.Now()
		if !errors.Is(err, call.ErrInterrupted) {
			return err
		}
		time.Sleep(100 * time.Millisecond) // the silence after the stop goes out
		runs <- run{returned, port}
		return c.Hangup(ctx, 0)
	})})
	require.NoError(b, err)
	require.NoError(b, sb.Start(listen(b)))
	b.Cleanup(func() { require.NoError(b, sb.Close()) })
	var uasMedia atomic.Int32
	wire := sniff(b, 101, func(p int) bool { return p == int(uasMedia.Load()) || (p >= 10000 && p <= 20000) })
	var stopLat, returnLat []time.Duration
	xml := strings.Replace(verbsPcapScenario("1"), `<pause milliseconds="300"/>`, `<pause distribution="uniform" min="500" max="540"/>`, 1)
	for b.Loop() {
		wire.reset()
		began := time.Now()
		in := sipp.Start(b, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Calls: 1, Timeout: 20 * time.Second})
		uasMedia.Store(int32(in.MediaPort))
		r := <-runs
		st, err := in.Wait(context.Background())
		require.NoError(b, err)
		require.Equal(b, 1, st.Successful)
		end, err := wire.first(began, func(p wirePacket) bool { return p.dst == r.port && p.end })
		require.NoError(b, err)
		quiet, err := wire.first(end.at, func(p wirePacket) bool { return p.dst == in.MediaPort && p.silent })
		require.NoError(b, err)
		stopLat = append(stopLat, quiet.at.Sub(end.at))
		returnLat = append(returnLat, r.returned.Sub(end.at))
	}
	reportLatency(b, "digit-to-silence", stopLat)
	reportLatency(b, "digit-to-return", returnLat)
}
