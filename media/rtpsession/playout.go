package rtpsession

import (
	"errors"
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
// ptime, paced by the session's clock: the reader goroutine pushes packets into the
// jitter buffer; each tick pops what is due, decodes it (or conceals a loss), and
// queues one frame for ReadFrame.
//
// The jitter buffer is popped at the packet duration it learnt from the stream, not at
// our ptime: the remote may packetise differently from what it asked us to send
// (a=ptime is a receive preference). Decoded audio goes through a small FIFO and
// leaves as frames of exactly our ptime.
type playout struct {
	cfg *settings
	jb  *jitter.Buffer

	// Tick-only state.
	dec       media.Decoder
	fifo      []int16 // decoded samples not yet framed
	fifoMeta  outFrame
	metaValid bool // fifoMeta describes the packet at the head of fifo
	acc       time.Duration
	lastGood  []int16 // last decoded packet, the concealment source
	fade      int     // consecutive concealed packets
	needReset atomic.Bool
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
	jb, err := jitter.New(jc)
	if err != nil {
		return nil, err
	}
	p := &playout{
		cfg:      cfg,
		jb:       jb,
		dec:      cfg.Codec.NewDecoder(),
		fifo:     make([]int16, 0, 4*cfg.samplesPerFrame+media.SamplesPer(cfg.Codec.SampleRate(), MaxPTime)),
		lastGood: make([]int16, 0, media.SamplesPer(cfg.Codec.SampleRate(), MaxPTime)),
		ring:     make([]outFrame, cfg.readBuffer),
		notify:   make(chan struct{}, 1),

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
	err := p.jb.Push(pkt.SequenceNumber, pkt.Timestamp, pkt.Marker, pkt.Payload, now)
	return errors.Is(err, jitter.ErrLate)
}

// reset forgets the stream (new SSRC). The decoder is replaced on the next tick.
func (p *playout) reset() {
	p.jb.Reset()
	p.needReset.Store(true)
}

func (p *playout) depth() time.Duration { return p.jb.Stats().Depth }

// tick produces the frame due at now. Runs on the clock goroutine.
func (p *playout) tick(now time.Time, skipped int) {
	if p.needReset.Swap(false) {
		p.dec = p.cfg.Codec.NewDecoder()
		p.fifo = p.fifo[:0]
		p.metaValid = false
		p.lastGood = p.lastGood[:0]
		p.acc = 0
	}
	spf := p.cfg.samplesPerFrame
	rate := p.cfg.Codec.SampleRate()
	p.acc += time.Duration(1+skipped) * p.cfg.PTime
	var flags media.FrameFlags
	for len(p.fifo) < spf {
		fd := p.jb.FrameDuration()
		if p.acc < fd {
			break
		}
		p.acc -= fd
		want := media.SamplesPer(rate, fd)
		pkt, st := p.jb.Pop(now)
		start := len(p.fifo)
		switch st {
		case jitter.Ready:
			p.fifo = p.dec.Decode(p.fifo, pkt.Payload)
			p.lastGood = append(p.lastGood[:0], p.fifo[start:]...)
			p.fade = 0
			if start == 0 {
				p.fifoMeta = outFrame{ts: pkt.Timestamp, seq: pkt.Sequence, flags: media.FlagRTP}
				p.metaValid = true
			}
		case jitter.Missing:
			p.fifo = p.conceal(p.fifo, want)
			flags |= media.FlagConcealed
			p.concealed.Add(1)
		default: // Buffering: nothing due, play silence
			p.fifo = appendZeros(p.fifo, want)
			flags |= media.FlagSilence
		}
	}
	if len(p.fifo) < spf {
		// Still short (the packet duration is not a divisor of ptime, or the buffer
		// wants to pop later): pad with silence now rather than stall the stream.
		p.fifo = appendZeros(p.fifo, spf-len(p.fifo))
		flags |= media.FlagSilence
	}
	if flags&(media.FlagConcealed|media.FlagSilence) != 0 {
		p.metaValid = false
	}
	out := p.slot()
	copy(out.samples, p.fifo[:spf])
	out.flags = flags
	if p.metaValid {
		out.flags |= media.FlagRTP
		out.ts, out.seq = p.fifoMeta.ts, p.fifoMeta.seq
	}
	p.metaValid = false
	n := copy(p.fifo, p.fifo[spf:])
	p.fifo = p.fifo[:n]
	p.commit()
}

// conceal appends n samples standing in for a lost packet: the last good packet
// repeated with a fade of 6 dB per concealed packet, reaching silence after a few.
// Simple, but it bridges isolated losses without a click or a hole.
func (p *playout) conceal(dst []int16, n int) []int16 {
	p.fade++
	src := p.lastGood
	if len(src) == 0 || p.fade > 4 {
		return appendZeros(dst, n)
	}
	shift := uint(p.fade)
	for i := range n {
		dst = append(dst, src[i%len(src)]>>shift)
	}
	return dst
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
