package resample

import (
	"fmt"
	"io"

	"github.com/switchboard-go/switchboard/media"
)

// Writer is a [media.FrameWriter] stage that resamples each frame to the rate of the
// writer it wraps. Frames keep their Timestamp, Sequence and Flags: they describe the
// input frame the output was computed from (delayed by [Resampler.Delay]).
//
// A Writer is not safe for concurrent use.
type Writer struct {
	r    *Resampler
	next media.FrameWriter
	buf  []int16
	last media.Frame // metadata of the latest input, for the Flush frame
}

var _ media.FrameWriter = (*Writer)(nil)

// NewWriter returns a stage that takes frames at fromRate and writes them to next at
// next.SampleRate().
func NewWriter(next media.FrameWriter, fromRate int, opts ...Option) (*Writer, error) {
	r, err := New(fromRate, next.SampleRate(), opts...)
	if err != nil {
		return nil, err
	}
	return &Writer{r: r, next: next}, nil
}

// WriteFrame resamples f and writes the result to the next stage. Frames whose rate is
// not the Writer's input rate are rejected with [media.ErrRateMismatch]. When a frame
// is too short to complete any output sample (possible only for frames of a few
// samples when decimating), nothing is written.
func (w *Writer) WriteFrame(f media.Frame) error {
	if f.SampleRate != w.r.from {
		return fmt.Errorf("%s: frame at %d Hz: %w", w.r.name, f.SampleRate, media.ErrRateMismatch)
	}
	w.buf = w.r.Process(w.buf[:0], f.Samples)
	w.last = f
	if len(w.buf) == 0 {
		return nil
	}
	out := f
	out.Samples, out.SampleRate = w.buf, w.r.to
	return w.next.WriteFrame(out)
}

// Flush writes the tail held in the filter (about [Resampler.Delay] samples) as one
// frame and resets the filter. Call it at the end of a stream, before the next stage is
// closed, if the last few milliseconds matter.
func (w *Writer) Flush() error {
	w.buf = w.r.Flush(w.buf[:0])
	if len(w.buf) == 0 {
		return nil
	}
	out := w.last
	out.Samples, out.SampleRate = w.buf, w.r.to
	out.Flags &^= media.FlagRTP
	return w.next.WriteFrame(out)
}

// SampleRate is the rate of the frames the Writer accepts.
func (w *Writer) SampleRate() int { return w.r.from }

// Resampler exposes the converter, e.g. for its Delay.
func (w *Writer) Resampler() *Resampler { return w.r }

// String describes the stage, e.g. "resample(8k→16k)".
func (w *Writer) String() string { return w.r.name }

// Reader is a [media.FrameReader] stage that resamples the frames of a source reader
// to another rate. At the end of the source it returns the filter's tail as one last
// frame, then io.EOF, so the whole input comes out (delayed by [Resampler.Delay]).
// Frames keep their Timestamp, Sequence and Flags, as with [Writer].
//
// A Reader is not safe for concurrent use.
type Reader struct {
	r       *Resampler
	src     media.FrameReader
	buf     []int16
	last    media.Frame
	flushed bool
}

var _ media.FrameReader = (*Reader)(nil)

// NewReader returns a stage that reads frames from src (at src.SampleRate()) and
// returns them at toRate.
func NewReader(src media.FrameReader, toRate int, opts ...Option) (*Reader, error) {
	r, err := New(src.SampleRate(), toRate, opts...)
	if err != nil {
		return nil, err
	}
	return &Reader{r: r, src: src}, nil
}

// ReadFrame returns the next resampled frame. Its Samples are valid until the next
// call. A source frame at a rate other than src.SampleRate() fails with
// [media.ErrRateMismatch].
func (rd *Reader) ReadFrame() (media.Frame, error) {
	for {
		f, err := rd.src.ReadFrame()
		if err == io.EOF {
			if rd.flushed {
				return media.Frame{}, io.EOF
			}
			rd.flushed = true
			rd.buf = rd.r.Flush(rd.buf[:0])
			if len(rd.buf) == 0 {
				return media.Frame{}, io.EOF
			}
			out := rd.last
			out.Samples, out.SampleRate = rd.buf, rd.r.to
			out.Flags &^= media.FlagRTP
			return out, nil
		}
		if err != nil {
			return media.Frame{}, err
		}
		if f.SampleRate != rd.r.from {
			return media.Frame{}, fmt.Errorf("%s: frame at %d Hz: %w", rd.r.name, f.SampleRate, media.ErrRateMismatch)
		}
		rd.buf = rd.r.Process(rd.buf[:0], f.Samples)
		rd.last = f
		if len(rd.buf) > 0 {
			out := f
			out.Samples, out.SampleRate = rd.buf, rd.r.to
			return out, nil
		}
	}
}

// SampleRate is the rate of the frames the Reader returns.
func (rd *Reader) SampleRate() int { return rd.r.to }

// Resampler exposes the converter, e.g. for its Delay.
func (rd *Reader) Resampler() *Resampler { return rd.r }

// String describes the stage, e.g. "resample(16k→8k)".
func (rd *Reader) String() string { return rd.r.name }
