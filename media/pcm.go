package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// maxEmptyFrames bounds how many empty frames in a row NewPCMReader's Read accepts
// before reporting io.ErrNoProgress instead of spinning.
const maxEmptyFrames = 100

// NewPCMReader returns an io.Reader that yields the frames of fr as little-endian
// signed 16-bit samples (raw "s16le" PCM at fr.SampleRate()).
//
// Read may be called with a buffer of any size, including an odd number of bytes: what
// does not fit is kept for the next call. Each Read returns data from at most one frame
// rather than waiting for more, so live sources are not delayed. At the end of fr it
// returns io.EOF; other errors of fr are returned as they are. A frame whose rate
// differs from fr.SampleRate() is an error wrapping ErrRateMismatch, because a byte
// stream has no way to signal the change.
func NewPCMReader(fr FrameReader) io.Reader { return &pcmReader{fr: fr} }

type pcmReader struct {
	fr  FrameReader
	buf []byte // bytes of the current frame
	off int    // bytes of buf already returned
	err error  // sticky error from fr
}

func (r *pcmReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.off < len(r.buf) {
		n := copy(p, r.buf[r.off:])
		r.off += n
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	for range maxEmptyFrames {
		f, err := r.fr.ReadFrame()
		if len(f.Samples) > 0 {
			if f.SampleRate != 0 && f.SampleRate != r.fr.SampleRate() {
				r.err = fmt.Errorf("media: PCM reader: frame at %d Hz from a %d Hz reader: %w",
					f.SampleRate, r.fr.SampleRate(), ErrRateMismatch)
				return 0, r.err
			}
			r.err = err // delivered after the samples, if a reader returns both
			return r.deliver(p, f.Samples), nil
		}
		if err != nil {
			r.err = err
			return 0, err
		}
	}
	return 0, io.ErrNoProgress
}

// deliver converts samples into p directly when they fit, and otherwise through the
// leftover buffer.
func (r *pcmReader) deliver(p []byte, samples []int16) int {
	if len(p) >= 2*len(samples) {
		putS16LE(p, samples)
		return 2 * len(samples)
	}
	if cap(r.buf) < 2*len(samples) {
		r.buf = make([]byte, 2*len(samples))
	}
	r.buf = r.buf[:2*len(samples)]
	putS16LE(r.buf, samples)
	r.off = copy(p, r.buf)
	return r.off
}

func putS16LE(dst []byte, samples []int16) {
	dst = dst[:2*len(samples)]
	for i, s := range samples {
		binary.LittleEndian.PutUint16(dst[2*i:], uint16(s))
	}
}

// NewPCMWriter returns an io.WriteCloser that takes little-endian signed 16-bit samples
// (raw "s16le" PCM at fw.SampleRate()) and writes them to fw as frames of frameDur
// (DefaultFrameDuration if frameDur is not positive).
//
// Writes of any size are accepted, including odd byte counts: bytes that do not yet
// make a whole frame, or a whole sample, are kept until more arrive. Close writes the
// final partial frame, if any, but does not close fw, which stays the caller's. If
// Close finds a dangling half sample it drops it and returns an error wrapping
// io.ErrUnexpectedEOF. After an error from fw, the writer returns that error from
// every later call. Write after Close returns ErrClosed; Close is idempotent.
//
// Frames are written without RTP timestamps (Flags zero).
func NewPCMWriter(fw FrameWriter, frameDur time.Duration) io.WriteCloser {
	if frameDur <= 0 {
		frameDur = DefaultFrameDuration
	}
	n := max(SamplesPer(fw.SampleRate(), frameDur), 1)
	return &pcmWriter{fw: fw, buf: make([]int16, 0, n)}
}

type pcmWriter struct {
	fw      FrameWriter
	buf     []int16 // samples of the frame being filled; cap is the frame size
	half    byte    // low byte of a sample whose high byte has not arrived
	hasHalf bool
	err     error
	closed  bool
}

func (w *pcmWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	if w.hasHalf && len(p) > 0 {
		w.buf = append(w.buf, int16(uint16(w.half)|uint16(p[0])<<8))
		w.hasHalf = false
		p = p[1:]
		n++
		if err := w.flushIfFull(); err != nil {
			return n, err
		}
	}
	for len(p) >= 2 {
		k := min(cap(w.buf)-len(w.buf), len(p)/2)
		for i := range k {
			w.buf = append(w.buf, int16(binary.LittleEndian.Uint16(p[2*i:])))
		}
		p = p[2*k:]
		n += 2 * k
		if err := w.flushIfFull(); err != nil {
			return n, err
		}
	}
	if len(p) == 1 {
		w.half, w.hasHalf = p[0], true
		n++
	}
	return n, nil
}

func (w *pcmWriter) flushIfFull() error {
	if len(w.buf) < cap(w.buf) {
		return nil
	}
	return w.flush()
}

func (w *pcmWriter) flush() error {
	err := w.fw.WriteFrame(Frame{Samples: w.buf, SampleRate: w.fw.SampleRate()})
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}

func (w *pcmWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.hasHalf {
		w.hasHalf = false
		return fmt.Errorf("media: PCM writer closed with half a sample pending: %w", io.ErrUnexpectedEOF)
	}
	return nil
}

// NewSliceReader returns a FrameReader over samples at rate Hz, in frames of frameDur
// (DefaultFrameDuration if not positive). The last frame is shorter when the samples do
// not fill it; then ReadFrame returns io.EOF. Frames alias samples rather than copying
// them, so samples must not change while the reader is in use.
//
// NewSliceReader panics if rate is not positive, as a programming error.
func NewSliceReader(samples []int16, rate int, frameDur time.Duration) FrameReader {
	if rate <= 0 {
		panic(fmt.Sprintf("media: NewSliceReader with non-positive rate %d", rate))
	}
	if frameDur <= 0 {
		frameDur = DefaultFrameDuration
	}
	return &sliceReader{rest: samples, rate: rate, n: max(SamplesPer(rate, frameDur), 1)}
}

type sliceReader struct {
	rest []int16
	rate int
	n    int
}

func (r *sliceReader) SampleRate() int { return r.rate }

func (r *sliceReader) ReadFrame() (Frame, error) {
	if len(r.rest) == 0 {
		return Frame{}, io.EOF
	}
	k := min(r.n, len(r.rest))
	f := Frame{Samples: r.rest[:k:k], SampleRate: r.rate}
	r.rest = r.rest[k:]
	return f, nil
}

func (r *sliceReader) String() string { return fmt.Sprintf("slice(%d Hz)", r.rate) }
