package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/switchboard/media"
)

// reader reads an entry in flight. Any reader that needs a frame not yet synthesized
// takes the entry's drive token and pulls it from the provider, so the synthesis goes
// on as long as someone reads, without a goroutine of its own.
type reader struct {
	c        *Cache
	e        *entry
	ctx      context.Context
	stopHook func() bool // unregisters the ctx hook that makes the reader leave
	pos      int         // next sample to return
	closing  chan struct{}
	once     sync.Once

	left     bool // guarded by the Cache's mu: no longer counted in e.live
	isClosed bool // guarded by the Cache's mu
}

func (r *reader) SampleRate() int { return r.e.rate }

func (r *reader) String() string { return fmt.Sprintf("cache(%d Hz, shared)", r.e.rate) }

func (r *reader) ReadFrame() (media.Frame, error) {
	c, e := r.c, r.e
	for {
		c.mu.Lock()
		if r.isClosed {
			c.mu.Unlock()
			return media.Frame{}, fmt.Errorf("tts/cache: read: %w", media.ErrClosed)
		}
		if err := r.ctx.Err(); err != nil {
			c.mu.Unlock()
			return media.Frame{}, fmt.Errorf("tts/cache: %w", err)
		}
		avail := len(e.samples) - r.pos
		if avail >= e.frameLen || (e.done && avail > 0) {
			n := min(e.frameLen, avail)
			// Written samples never change (appends go past them), so the frame can
			// alias the shared buffer.
			f := media.Frame{Samples: e.samples[r.pos : r.pos+n : r.pos+n], SampleRate: e.rate}
			r.pos += n
			c.mu.Unlock()
			return f, nil
		}
		if e.done {
			err := e.err
			c.mu.Unlock()
			if err != nil {
				return media.Frame{}, err
			}
			return media.Frame{}, io.EOF
		}
		update := e.update
		e.waiters++
		c.mu.Unlock()
		pull := false
		select {
		case e.drive <- struct{}{}:
			pull = true
		case <-update:
		case <-r.ctx.Done():
		case <-r.closing:
		}
		c.mu.Lock()
		e.waiters--
		c.mu.Unlock()
		if pull {
			r.pull()
		}
	}
}

// pull reads the next frame from the provider into the entry. The caller holds the
// drive token, which pull releases.
func (r *reader) pull() {
	c, e := r.c, r.e
	defer func() { <-e.drive }()
	c.mu.Lock()
	if e.done || len(e.samples)-r.pos >= e.frameLen { // another reader pulled meanwhile
		c.mu.Unlock()
		return
	}
	inner := e.inner
	c.mu.Unlock()

	f, err := inner.ReadFrame()

	c.mu.Lock()
	if e.done { // abandoned meanwhile; whoever ended it closed inner
		c.mu.Unlock()
		return
	}
	if err == nil && f.SampleRate != e.rate {
		err = fmt.Errorf("%w: provider frame at %d Hz from a reader declaring %d Hz", media.ErrRateMismatch, f.SampleRate, e.rate)
	}
	if err == nil {
		e.samples = append(e.samples, f.Samples...)
		e.broadcastLocked()
		c.mu.Unlock()
		return
	}
	if errors.Is(err, io.EOF) {
		c.completeLocked(e)
		c.mu.Unlock()
		_ = inner.Close()
		c.store(e)
		return
	}
	c.finishLocked(e, err)
	c.mu.Unlock()
	_ = inner.Close()
}

// leave stops counting the reader as interested in the synthesis; the last one to
// leave an unfinished synthesis stops it. It runs on Close and when ctx ends.
func (r *reader) leave() {
	c, e := r.c, r.e
	c.mu.Lock()
	if r.left {
		c.mu.Unlock()
		return
	}
	r.left = true
	e.live--
	var inner media.FrameReadCloser
	if e.live == 0 && !e.done {
		c.finishLocked(e, errAborted)
		inner = e.inner // nil while the provider's Synthesize is still running
	}
	c.mu.Unlock()
	if inner != nil {
		_ = inner.Close() // also ends a concurrent pull
	}
}

// Close leaves the synthesis (stopping it if no one else reads it) and is idempotent.
func (r *reader) Close() error {
	r.once.Do(func() {
		r.stopHook()
		r.c.mu.Lock()
		r.isClosed = true
		r.c.mu.Unlock()
		close(r.closing)
		r.leave()
	})
	return nil
}

// replay reads a completed entry, without locks.
type replay struct {
	ctx     context.Context
	samples []int16
	rate    int
	n       int // samples per frame
	pos     int
	closed  atomic.Bool
}

func newReplay(ctx context.Context, samples []int16, rate int) *replay {
	return &replay{ctx: ctx, samples: samples, rate: rate, n: media.SamplesPer(rate, media.DefaultFrameDuration)}
}

func (r *replay) SampleRate() int { return r.rate }

func (r *replay) String() string { return fmt.Sprintf("cache(%d Hz, replay)", r.rate) }

func (r *replay) ReadFrame() (media.Frame, error) {
	if r.closed.Load() {
		return media.Frame{}, fmt.Errorf("tts/cache: read: %w", media.ErrClosed)
	}
	if err := r.ctx.Err(); err != nil {
		return media.Frame{}, fmt.Errorf("tts/cache: %w", err)
	}
	if r.pos >= len(r.samples) {
		return media.Frame{}, io.EOF
	}
	k := min(r.n, len(r.samples)-r.pos)
	f := media.Frame{Samples: r.samples[r.pos : r.pos+k : r.pos+k], SampleRate: r.rate}
	r.pos += k
	return f, nil
}

func (r *replay) Close() error {
	r.closed.Store(true)
	return nil
}

// awaitStart waits, for a reader that joined a synthesis, until the provider's
// Synthesize has returned.
func (r *reader) awaitStart() (media.FrameReadCloser, error) {
	select {
	case <-r.e.started:
	case <-r.ctx.Done():
		_ = r.Close()
		return nil, fmt.Errorf("tts/cache: %w", r.ctx.Err())
	}
	if err := r.e.startErr; err != nil {
		_ = r.Close()
		return nil, r.startError(err)
	}
	return r, nil
}

func (r *reader) startError(err error) error {
	if cerr := r.ctx.Err(); cerr != nil {
		return fmt.Errorf("tts/cache: %w", cerr)
	}
	return err
}
