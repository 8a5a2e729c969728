package call

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/media/rtpsession"
)

// Live audio: the caller's decoded audio reaches any number of consumers through
// Listen (frames, no copy per consumer) and AudioReader (frames, a copy into each
// reader's own buffer); PCMReader and PCMWriter are the byte-stream adapters. What we
// send is tapped on the pacing clock (rtpsession's Config.OnSent) for recordings: the
// tap copies each sent frame into a preallocated ring per subscriber, which the
// subscriber drains on its own goroutine, so no I/O ever runs on the shared clock.

// PCMReader returns the caller's audio as a byte stream: little-endian signed 16-bit
// mono PCM ("s16le") at rate Hz (0: the call's codec rate), resampled as needed. It is
// an AudioReader (its own half-second buffer; see AudioReader) behind
// media.NewPCMReader, so reads of any size work, and each Read returns at most one
// frame's worth instead of waiting for more. When the call's media ends, Read returns
// io.EOF once the buffered audio is read, so io.Copy ends cleanly; after Close it
// returns an error wrapping media.ErrClosed. Read must be called from one goroutine at
// a time; Close from any. Close it when done.
func (c *Call) PCMReader(rate int) (io.ReadCloser, error) {
	if _, err := c.liveMedia(); err != nil {
		return nil, err
	}
	ar, err := c.AudioReader(rate)
	if err != nil {
		return nil, err
	}
	src := &eofAtEnd{r: ar}
	return &pcmReadCloser{Reader: media.NewPCMReader(src), src: src}, nil
}

// liveMedia is Media for verbs that start something: ErrCallEnded once the call has
// ended, even though its (closed) session is still there.
func (c *Call) liveMedia() (*rtpsession.Session, error) {
	if c.State() == StateEnded {
		return nil, ErrCallEnded
	}
	return c.Media()
}

type pcmReadCloser struct {
	io.Reader
	src *eofAtEnd
}

func (p *pcmReadCloser) Close() error {
	p.src.closed.Store(true)
	return p.src.r.Close()
}

// eofAtEnd turns the end of the call's media into io.EOF for byte-stream users.
type eofAtEnd struct {
	r      *AudioReader
	closed atomic.Bool
}

func (e *eofAtEnd) SampleRate() int { return e.r.SampleRate() }

func (e *eofAtEnd) ReadFrame() (media.Frame, error) {
	f, err := e.r.ReadFrame()
	if err != nil && !e.closed.Load() && errors.Is(err, media.ErrClosed) {
		return media.Frame{}, io.EOF
	}
	return f, err
}

// PCMWriter returns a byte-stream writer into the call's playout queue: little-endian
// signed 16-bit mono PCM at rate Hz (0: the call's codec rate), resampled as needed
// and cut into frames of the call's ptime. Writes of any size are taken (odd bytes
// included); a Write blocks while the playout queue is full, so io.Copy from a file
// plays it at the real-time pace. It writes into the same queue as AudioWriter, Play
// and Speak: what it writes plays after what is already queued, and Media().Clear
// discards it. Close writes the last partial frame (and the resampler's tail); it does
// not wait for the audio to play out (Media().WaitPlayout does). After the call's
// media ends, Write fails with an error wrapping media.ErrClosed. Not safe for
// concurrent use.
func (c *Call) PCMWriter(rate int) (io.WriteCloser, error) {
	s, err := c.liveMedia()
	if err != nil {
		return nil, err
	}
	if rate == 0 {
		rate = s.SampleRate()
	}
	pw := &pcmWriteCloser{}
	var fw media.FrameWriter = s
	if rate != s.SampleRate() {
		rs, err := resample.NewWriter(s, rate)
		if err != nil {
			return nil, fmt.Errorf("call: PCM writer: %w", err)
		}
		fw, pw.rs = rs, rs
	}
	pw.WriteCloser = media.NewPCMWriter(fw, s.PTime())
	return pw, nil
}

type pcmWriteCloser struct {
	io.WriteCloser
	rs   *resample.Writer
	once sync.Once
	err  error
}

func (p *pcmWriteCloser) Close() error {
	p.once.Do(func() {
		p.err = p.WriteCloser.Close()
		if p.rs != nil && p.err == nil {
			p.err = p.rs.Flush()
		}
	})
	return p.err
}

// ---- our side: the sent-audio tap ----

// sentTap hands what the pacer sends to its subscribers. The subscriber list is copied
// on change and published atomically, so the clock's per-tick path takes no lock and,
// with nobody subscribed, costs one atomic load.
type sentTap struct {
	mu   sync.Mutex // serialises changes
	subs atomic.Pointer[[]*sentSub]
}

// sentSub is one subscriber: it arms on the first tick after it subscribed (so the
// subscriber knows from when the caller's frames line up with ours) and, if it has a
// ring, gets a copy of every sent frame from the tick after that on (the first tick
// may be one that was already under way when it subscribed).
type sentSub struct {
	ring  *frameRing // nil: only the start mark is wanted
	armed atomic.Bool
}

// onSent is the session's Config.OnSent: it runs on the pacing clock.
func (c *Call) onSent(f media.Frame) {
	p := c.sent.subs.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		if !s.armed.Load() {
			s.armed.Store(true)
			continue
		}
		if s.ring != nil {
			s.ring.push(f)
		}
	}
}

func (c *Call) addSentSub(s *sentSub) {
	t := &c.sent
	t.mu.Lock()
	defer t.mu.Unlock()
	var subs []*sentSub
	if p := t.subs.Load(); p != nil {
		subs = append(subs, *p...)
	}
	subs = append(subs, s)
	t.subs.Store(&subs)
}

func (c *Call) removeSentSub(s *sentSub) {
	t := &c.sent
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.subs.Load()
	if p == nil {
		return
	}
	subs := make([]*sentSub, 0, len(*p))
	for _, x := range *p {
		if x != s {
			subs = append(subs, x)
		}
	}
	if len(subs) == 0 {
		t.subs.Store(nil)
		return
	}
	t.subs.Store(&subs)
}

// ---- frameRing: a single-producer single-consumer hand-off ----

// frameRing passes frames from one producer goroutine (the pacing clock, or the call's
// audio pump) to one consumer goroutine without locks or allocation: fixed slots
// allocated once, a head and a tail counter. When the consumer falls a whole ring
// behind, the producer drops the frame instead of waiting, counts it, and marks the
// next frame it stores with the number dropped before it, so the consumer can put
// silence in their place and stay in step with another stream.
type frameRing struct {
	slots []ringSlot
	head  atomic.Uint64 // next slot to read; written by the consumer
	tail  atomic.Uint64 // next slot to write; written by the producer
	lost  atomic.Uint64 // frames dropped because the ring was full

	// Producer only.
	gap uint32

	// Consumer only.
	gapDone uint32 // silence frames already given for the head slot's gap
	zeros   []int16

	notify chan struct{} // the consumer's wake-up; may be shared
	batch  uint64        // wake the consumer once this many frames wait
}

type ringSlot struct {
	samples []int16
	gap     uint32 // frames lost just before this one
}

// newFrameRing makes a ring of n slots of frameLen samples each.
func newFrameRing(n, frameLen int, notify chan struct{}, batch int) *frameRing {
	r := &frameRing{
		slots:  make([]ringSlot, n),
		zeros:  make([]int16, frameLen),
		notify: notify,
		batch:  uint64(max(batch, 1)),
	}
	backing := make([]int16, n*frameLen)
	for i := range r.slots {
		r.slots[i].samples = backing[i*frameLen : i*frameLen : (i+1)*frameLen]
	}
	return r
}

// push copies f into the ring (truncated to the slot size), or drops it when full. It
// never blocks.
func (r *frameRing) push(f media.Frame) {
	t, h := r.tail.Load(), r.head.Load()
	if t-h >= uint64(len(r.slots)) {
		r.gap++
		r.lost.Add(1)
		r.wake()
		return
	}
	s := &r.slots[t%uint64(len(r.slots))]
	s.samples = s.samples[:copy(s.samples[:cap(s.samples)], f.Samples)]
	s.gap, r.gap = r.gap, 0
	r.tail.Store(t + 1)
	if t+1-h >= r.batch {
		r.wake()
	}
}

func (r *frameRing) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// peek returns the next frame for the consumer without taking it: silence standing in
// for a lost frame, or a stored frame. ok is false when nothing is waiting.
func (r *frameRing) peek() (samples []int16, ok bool) {
	h := r.head.Load()
	if h == r.tail.Load() {
		return nil, false
	}
	s := &r.slots[h%uint64(len(r.slots))]
	if r.gapDone < s.gap {
		return r.zeros, true
	}
	return s.samples, true
}

// advance takes the frame peek returned.
func (r *frameRing) advance() {
	h := r.head.Load()
	s := &r.slots[h%uint64(len(r.slots))]
	if r.gapDone < s.gap {
		r.gapDone++
		return
	}
	r.gapDone = 0
	r.head.Store(h + 1)
}

// ringWriter is the caller-side producer: a Listen consumer that pushes each frame into
// a ring once the recording's start mark (the first tick after it subscribed to our
// side) has passed, so frames the pump had buffered before are not taken.
type ringWriter struct {
	ring  *frameRing
	rate  int
	start *sentSub
}

func (w *ringWriter) SampleRate() int { return w.rate }

func (w *ringWriter) WriteFrame(f media.Frame) error {
	if w.start.armed.Load() {
		w.ring.push(f)
	}
	return nil
}
