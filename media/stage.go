package media

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Stage is one step of a media pipeline. It wraps the writer that follows it once, at
// setup, and returns the writer that feeds it: frames then flow through plain method
// calls, with no channel or lookup per frame.
//
// The writer a Stage returns should implement fmt.Stringer with a short name of what
// it does ("gain(-6.0dB)", "resample(8k→16k)") and Link, so that Describe can print the
// whole pipeline. If it holds resources or buffered audio it should implement
// io.Closer; Chain's Close calls it.
type Stage func(next FrameWriter) FrameWriter

// Link is implemented by writers that pass frames on to another writer. Describe
// follows it to print a pipeline.
type Link interface {
	Next() FrameWriter
}

// Chain builds the pipeline stages[0] → stages[1] → … → dst and returns its head.
// The stages are applied last to first, so the first stage sees frames first (as with
// HTTP middleware). Each call builds fresh stage writers, so a pipeline with state
// (a resampler, a detector) is built once per call, not shared.
//
// The returned writer prints as the whole pipeline (see Describe). Its Close closes
// every stage writer that implements io.Closer, first stage first, so buffered audio
// flushes downstream in order; it does not close dst, which stays the caller's.
func Chain(dst FrameWriter, stages ...Stage) FrameWriteCloser {
	c := &chain{links: make([]FrameWriter, len(stages))}
	w := dst
	for i := len(stages) - 1; i >= 0; i-- {
		w = stages[i](w)
		c.links[i] = w
	}
	c.head = w
	return c
}

type chain struct {
	head  FrameWriter
	links []FrameWriter // the writers the stages returned, first stage first
}

func (c *chain) WriteFrame(f Frame) error { return c.head.WriteFrame(f) }
func (c *chain) SampleRate() int          { return c.head.SampleRate() }
func (c *chain) String() string           { return Describe(c.head) }

func (c *chain) Close() error {
	var errs []error
	for _, w := range c.links {
		if cl, ok := w.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}

// Describe prints a pipeline starting at w, following Link, e.g.
// "gain(-6.0dB) → tee[recorder, stt]". Writers that do not implement fmt.Stringer
// print as their type.
func Describe(w FrameWriter) string {
	var b strings.Builder
	for i := 0; w != nil && i < 64; i++ { // the bound guards against a cyclic Link
		if i > 0 {
			b.WriteString(" → ")
		}
		if s, ok := w.(fmt.Stringer); ok {
			b.WriteString(s.String())
		} else {
			fmt.Fprintf(&b, "%T", w)
		}
		l, ok := w.(Link)
		if !ok {
			break
		}
		w = l.Next()
	}
	return b.String()
}

// StageFunc makes a Stage from a per-frame function: fn receives each frame and the
// next writer and decides what to pass on. name is what the stage prints as. The
// stage's writer reports next's sample rate.
func StageFunc(name string, fn func(f Frame, next FrameWriter) error) Stage {
	return func(next FrameWriter) FrameWriter { return &funcStage{name: name, fn: fn, next: next} }
}

type funcStage struct {
	name string
	fn   func(Frame, FrameWriter) error
	next FrameWriter
}

func (s *funcStage) WriteFrame(f Frame) error { return s.fn(f, s.next) }
func (s *funcStage) SampleRate() int          { return s.next.SampleRate() }
func (s *funcStage) Next() FrameWriter        { return s.next }
func (s *funcStage) String() string           { return s.name }

// Gain returns a Stage that scales the audio by db decibels, saturating at full scale
// instead of wrapping. It writes into its own buffer, leaving the input frame intact.
func Gain(db float64) Stage {
	g := math.Pow(10, db/20)
	q := int64(math.Round(g * 4096)) // Q12 fixed point: exact for the usual gains
	return func(next FrameWriter) FrameWriter { return &gainStage{db: db, q: q, next: next} }
}

type gainStage struct {
	db   float64
	q    int64
	next FrameWriter
	buf  []int16
}

func (s *gainStage) WriteFrame(f Frame) error {
	if f.SampleRate != s.next.SampleRate() {
		return fmt.Errorf("media: gain: %d Hz frame into %d Hz stage: %w", f.SampleRate, s.next.SampleRate(), ErrRateMismatch)
	}
	if cap(s.buf) < len(f.Samples) {
		s.buf = make([]int16, len(f.Samples))
	}
	out := s.buf[:len(f.Samples)]
	for i, x := range f.Samples {
		out[i] = int16(min(max((int64(x)*s.q+2048)>>12, math.MinInt16), math.MaxInt16))
	}
	f.Samples = out
	return s.next.WriteFrame(f)
}

func (s *gainStage) SampleRate() int   { return s.next.SampleRate() }
func (s *gainStage) Next() FrameWriter { return s.next }
func (s *gainStage) String() string    { return fmt.Sprintf("gain(%+.1fdB)", s.db) }

// Tee returns a writer that writes every frame to each of writers in turn: a fan-out
// for feeding the same audio to, say, a recorder and a recogniser.
//
// Tee does not copy: every consumer sees the same Samples. Consumers must therefore
// treat them as read-only and must not retain them after WriteFrame returns (copy with
// Frame.Clone to keep audio), which is the FrameWriter contract anyway.
//
// A failing consumer does not stop the others: every writer gets every frame, and the
// errors are joined. Tee reports the sample rate of its first writer; consumers at a
// different rate reject frames with ErrRateMismatch. It prints as "tee[a, b]", each
// branch described with Describe.
func Tee(writers ...FrameWriter) FrameWriter {
	return &tee{ws: append([]FrameWriter(nil), writers...)}
}

type tee struct{ ws []FrameWriter }

func (t *tee) WriteFrame(f Frame) error {
	var first error
	var more []error
	for _, w := range t.ws {
		if err := w.WriteFrame(f); err != nil {
			if first == nil {
				first = err
			} else {
				more = append(more, err)
			}
		}
	}
	if more != nil {
		return errors.Join(append([]error{first}, more...)...)
	}
	return first
}

func (t *tee) SampleRate() int {
	if len(t.ws) == 0 {
		return 0
	}
	return t.ws[0].SampleRate()
}

func (t *tee) String() string {
	parts := make([]string, len(t.ws))
	for i, w := range t.ws {
		parts[i] = Describe(w)
	}
	return "tee[" + strings.Join(parts, ", ") + "]"
}

// Discard returns a FrameWriter at rate Hz that accepts and drops every frame of that
// rate: the end of a pipeline whose stages matter only for their side effects (a
// detector, a meter).
func Discard(rate int) FrameWriter { return discard(rate) }

type discard int

func (d discard) SampleRate() int { return int(d) }
func (d discard) String() string  { return "discard" }

func (d discard) WriteFrame(f Frame) error {
	if f.SampleRate != int(d) {
		return fmt.Errorf("media: discard: %d Hz frame into %d Hz writer: %w", f.SampleRate, int(d), ErrRateMismatch)
	}
	return nil
}
