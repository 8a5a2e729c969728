package call

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/media/rtpsession"
)

// The caller's audio has one source (the RTP session's playout, one decoded frame per
// ptime) and any number of consumers: the application, a recorder, in-band DTMF
// detection, VAD for barge-in, speech recognition. A pump goroutine, which runs only
// while someone listens, reads each frame once and hands it to every consumer in turn,
// without copying (consumers follow media.Frame's rule: do not keep Samples). The pump is
// the call's own goroutine, never the shared pacing clock, so a slow consumer delays only
// this call's consumers.

var errReaderClosed = errors.New("call: audio reader closed")

type fanout struct {
	mu      sync.Mutex
	subs    []*subscriber
	running bool
	done    chan struct{} // closed when the current pump exits
}

type subscriber struct {
	w       media.FrameWriter
	removed atomic.Bool
}

// Listen adds w to the consumers of the caller's decoded audio and returns the function
// that removes it. w receives every frame from now on, in order, on the call's audio
// goroutine: it must not keep f.Samples after WriteFrame returns and should not block
// for long (a recorder writing to a file is fine; a network round trip is not). If
// w.SampleRate() differs from the call's rate, a resampler is put in front of it. A
// WriteFrame error removes w. Listen fails with ErrNotAnswered before media is up.
func (c *Call) Listen(w media.FrameWriter) (stop func(), err error) {
	s, err := c.Media()
	if err != nil {
		return nil, err
	}
	if w.SampleRate() != s.SampleRate() {
		rw, err := resample.NewWriter(w, s.SampleRate())
		if err != nil {
			return nil, fmt.Errorf("call: listen: %w", err)
		}
		w = rw
	}
	sub := &subscriber{w: w}
	f := &c.audio
	f.mu.Lock()
	f.subs = append(f.subs, sub)
	if !f.running {
		f.running = true
		f.done = make(chan struct{})
		go c.pump(s, f.done)
	}
	f.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { c.unlisten(sub) }) }, nil
}

func (c *Call) unlisten(sub *subscriber) {
	sub.removed.Store(true)
	f := &c.audio
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.subs {
		if s == sub {
			f.subs = append(f.subs[:i:i], f.subs[i+1:]...)
			break
		}
	}
}

// pump reads the caller's frames and gives each to every listener. It exits when the
// last listener has gone (within a frame) or the media session closes.
func (c *Call) pump(s *rtpsession.Session, done chan struct{}) {
	defer close(done)
	f := &c.audio
	var subs []*subscriber
	for {
		f.mu.Lock()
		if len(f.subs) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		subs = append(subs[:0], f.subs...)
		f.mu.Unlock()
		fr, err := s.ReadFrame()
		if err != nil {
			f.mu.Lock()
			f.running = false
			f.subs = nil
			f.mu.Unlock()
			return
		}
		for _, sub := range subs {
			if sub.removed.Load() {
				continue
			}
			if err := sub.w.WriteFrame(fr); err != nil {
				c.unlisten(sub)
			}
		}
	}
}

// waitPump waits for the audio pump, if one runs; it ends within a frame of the media
// session closing.
func (c *Call) waitPump() {
	f := &c.audio
	f.mu.Lock()
	done, running := f.done, f.running
	f.mu.Unlock()
	if running {
		<-done
	}
}

// AudioReader returns the caller's decoded audio as a frame reader at the call's codec
// rate (rate 0) or at rate (resampled). Each reader gets every frame from now on; frames
// are copied into the reader's own buffer of about half a second, so a reader that falls
// further behind loses the oldest audio (counted by Overruns) instead of holding up the
// call. Close the reader when done.
func (c *Call) AudioReader(rate int) (*AudioReader, error) {
	s, err := c.Media()
	if err != nil {
		return nil, err
	}
	if rate == 0 {
		rate = s.SampleRate()
	}
	r := &AudioReader{rate: rate, notify: make(chan struct{}, 1), ring: make([]media.Frame, 25)}
	stop, err := c.Listen(r)
	if err != nil {
		return nil, err
	}
	r.stop = stop
	r.ended = s.Done()
	return r, nil
}

// AudioReader is a consumer of the caller's audio with its own buffer; see
// Call.AudioReader. ReadFrame may be called from one goroutine; Close from any.
type AudioReader struct {
	rate   int
	stop   func()
	ended  <-chan struct{}
	notify chan struct{}

	mu       sync.Mutex
	ring     []media.Frame
	head, n  int
	closed   bool
	overruns uint64
	cur      media.Frame // the frame returned last, kept until the next read
}

// SampleRate is the rate of the frames ReadFrame returns.
func (r *AudioReader) SampleRate() int { return r.rate }

// WriteFrame takes a frame from the call's audio goroutine (copying it).
func (r *AudioReader) WriteFrame(f media.Frame) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errReaderClosed
	}
	if r.n == len(r.ring) { // full: drop the oldest
		r.head = (r.head + 1) % len(r.ring)
		r.n--
		r.overruns++
	}
	slot := &r.ring[(r.head+r.n)%len(r.ring)]
	samples := append(slot.Samples[:0], f.Samples...)
	*slot = f
	slot.Samples = samples
	r.n++
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

// ReadFrame returns the next frame, waiting for it. The returned Samples stay valid
// until the next ReadFrame. After the call's media ends (or Close), it returns an error
// wrapping media.ErrClosed once the buffer is drained.
func (r *AudioReader) ReadFrame() (media.Frame, error) {
	for {
		r.mu.Lock()
		if r.n > 0 {
			// Swap the slot's buffer with the one handed out last, so neither allocates.
			slot := &r.ring[r.head]
			f := *slot
			slot.Samples = r.cur.Samples[:0]
			r.cur = f
			r.head = (r.head + 1) % len(r.ring)
			r.n--
			r.mu.Unlock()
			return f, nil
		}
		closed := r.closed
		r.mu.Unlock()
		if closed {
			return media.Frame{}, fmt.Errorf("call: audio reader: %w", media.ErrClosed)
		}
		select {
		case <-r.notify:
		case <-r.ended:
			r.mu.Lock()
			empty := r.n == 0
			r.mu.Unlock()
			if empty {
				return media.Frame{}, fmt.Errorf("call: audio reader: call media ended: %w", media.ErrClosed)
			}
		}
	}
}

// Overruns counts frames dropped because the reader fell more than its buffer behind.
func (r *AudioReader) Overruns() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overruns
}

// Close stops the reader; it is idempotent.
func (r *AudioReader) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.stop()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}
