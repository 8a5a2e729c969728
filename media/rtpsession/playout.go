package rtpsession

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/jitter"
)

// JitterConfig configures the receive jitter buffer (see package jitter). Zero
// ClockRate and FrameDuration are taken from the codec and ptime.
type JitterConfig = jitter.Config

// outFrame is one decoded frame waiting for ReadFrame.
type outFrame struct {
	samples []int16
	ts      uint32
	seq     uint16
	flags   media.FrameFlags
}

// playout turns received packets into a steady stream of decoded frames, one per
// ptime, paced by the session's clock: the reader goroutine pushes packets into a
// jitter.Receiver (jitter buffer, decoder and concealer); each tick pops what is due
// and queues one frame for ReadFrame.
//
// The receiver is popped at the packet duration its buffer learnt from the stream,
// not at our ptime: the remote may packetise differently from what it asked us to
// send (a=ptime is a receive preference). Popped audio goes through a small FIFO and
// leaves as frames of exactly our ptime.
type playout struct {
	cfg *settings
	rcv *jitter.Receiver

	// Tick-only state.
	fifo      []int16 // popped samples not yet framed
	fifoMeta  outFrame
	metaValid bool // fifoMeta describes the packet at the head of fifo
	acc       time.Duration
	concealed *atomic.Uint64 // Stats.Concealed
	overruns  *atomic.Uint64 // Stats.ReadOverruns

	// Output ring, guarded by mu; ReadFrame and the tick meet here.
	mu     sync.Mutex
	ring   []outFrame
	head   int
	n      int
	notify chan struct{}
}

func newPlayout(cfg *settings, concealed, overruns *atomic.Uint64) (*playout, error) {
	jc := cfg.Jitter
	if jc.ClockRate == 0 {
		jc.ClockRate = cfg.Codec.ClockRate()
	}
	if jc.FrameDuration == 0 {
		jc.FrameDuration = cfg.PTime
	}
	rcv, err := jitter.NewReceiver(jitter.ReceiverConfig{Codec: cfg.Codec, Buffer: jc})
	if err != nil {
		return nil, err
	}
	p := &playout{
		cfg:       cfg,
		rcv:       rcv,
		fifo:      make([]int16, 0, 4*cfg.samplesPerFrame+media.SamplesPer(cfg.Codec.SampleRate(), MaxPTime)),
		ring:      make([]outFrame, cfg.readBuffer),
		notify:    make(chan struct{}, 1),
		concealed: concealed,
		overruns:  overruns,
	}
	for i := range p.ring {
		p.ring[i].samples = make([]int16, cfg.samplesPerFrame)
	}
	return p, nil
}

// push hands one audio packet to the jitter buffer and reports whether it came too
// late to be played. Called on the reader goroutine.
func (p *playout) push(pkt *rtp.Packet, now time.Time) (late bool) {
	err := p.rcv.Push(pkt.SequenceNumber, pkt.Timestamp, pkt.Marker, pkt.Payload, now)
	return err == jitter.ErrLate //nolint:errorlint // returned unwrapped by design
}

// reset forgets the stream (new SSRC): buffer, decoder and concealer.
func (p *playout) reset() { p.rcv.Reset() }

func (p *playout) depth() time.Duration { return p.rcv.Buffer().Stats().Depth }

// tick produces the frame due at now. Runs on the clock goroutine.
func (p *playout) tick(now time.Time, skipped int) {
	spf := p.cfg.samplesPerFrame
	p.acc += time.Duration(1+skipped) * p.cfg.PTime
	var flags media.FrameFlags
	for len(p.fifo) < spf {
		fd := p.rcv.Buffer().FrameDuration()
		if p.acc < fd {
			break
		}
		p.acc -= fd
		f, _ := p.rcv.Pop(now)
		if len(p.fifo) == 0 && f.Has(media.FlagRTP) {
			p.fifoMeta = outFrame{ts: f.Timestamp, seq: f.Sequence}
			p.metaValid = true
		}
		if f.Has(media.FlagConcealed) {
			p.concealed.Add(1)
		}
		flags |= f.Flags &^ media.FlagRTP
		p.fifo = append(p.fifo, f.Samples...)
	}
	if len(p.fifo) < spf {
		// Still short (the packet duration does not divide ptime, or the stream
		// stalls): pad with silence rather than hold up the stream.
		p.fifo = appendZeros(p.fifo, spf-len(p.fifo))
		flags |= media.FlagSilence
	}
	out := p.slot()
	copy(out.samples, p.fifo[:spf])
	out.flags = flags
	if p.metaValid && flags == 0 {
		out.flags = media.FlagRTP
		out.ts, out.seq = p.fifoMeta.ts, p.fifoMeta.seq
	}
	p.metaValid = false
	n := copy(p.fifo, p.fifo[spf:])
	p.fifo = p.fifo[:n]
	p.commit()
}

func appendZeros(dst []int16, n int) []int16 {
	l := len(dst)
	if cap(dst)-l < n {
		dst = append(dst, make([]int16, n)...)
		return dst
	}
	dst = dst[:l+n]
	clear(dst[l:])
	return dst
}

// slot returns the ring slot to fill next, overwriting the oldest frame when full.
func (p *playout) slot() *outFrame {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == len(p.ring) {
		p.head = (p.head + 1) % len(p.ring)
		p.n--
		p.overruns.Add(1)
	}
	return &p.ring[(p.head+p.n)%len(p.ring)]
}

func (p *playout) commit() {
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// take copies the oldest decoded frame into dst.
func (p *playout) take(dst []int16) (media.Frame, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return media.Frame{}, false
	}
	f := &p.ring[p.head]
	p.head = (p.head + 1) % len(p.ring)
	p.n--
	n := copy(dst, f.samples)
	return media.Frame{
		Samples:    dst[:n],
		SampleRate: p.cfg.Codec.SampleRate(),
		Timestamp:  f.ts,
		Sequence:   f.seq,
		Flags:      f.flags,
	}, true
}
