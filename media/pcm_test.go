package media

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collector is a FrameWriter that keeps copies of what it receives.
type collector struct {
	rate    int
	frames  []Frame
	failAt  int // fail the failAt-th frame (1-based); 0 never
	failErr error
}

func (c *collector) SampleRate() int { return c.rate }

func (c *collector) WriteFrame(f Frame) error {
	if f.SampleRate != c.rate {
		return ErrRateMismatch
	}
	if c.failAt > 0 && len(c.frames)+1 == c.failAt {
		return c.failErr
	}
	c.frames = append(c.frames, f.Clone())
	return nil
}

func (c *collector) samples() []int16 {
	var s []int16
	for _, f := range c.frames {
		s = append(s, f.Samples...)
	}
	return s
}

func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i*257 - 20000)
	}
	return s
}

func s16le(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestSliceReader(t *testing.T) {
	src := ramp(350)
	r := NewSliceReader(src, 8000, 20*time.Millisecond)
	assert.Equal(t, 8000, r.SampleRate())
	var got []int16
	var sizes []int
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			assert.Empty(t, f.Samples)
			break
		}
		require.NoError(t, err)
		assert.Equal(t, 8000, f.SampleRate)
		sizes = append(sizes, len(f.Samples))
		got = append(got, f.Samples...)
	}
	assert.Equal(t, []int{160, 160, 30}, sizes)
	assert.Equal(t, src, got)
	_, err := r.ReadFrame()
	assert.ErrorIs(t, err, io.EOF, "EOF is sticky")

	// Default frame duration and an empty slice.
	f, err := NewSliceReader(ramp(1000), 16000, 0).ReadFrame()
	require.NoError(t, err)
	assert.Len(t, f.Samples, 320)
	_, err = NewSliceReader(nil, 8000, 0).ReadFrame()
	assert.ErrorIs(t, err, io.EOF)
	assert.Panics(t, func() { NewSliceReader(nil, 0, 0) })
}

func TestPCMReaderBufferSizes(t *testing.T) {
	src := ramp(1000)
	want := s16le(src)
	// Every buffer size from 1 byte (half a sample) to more than a frame.
	for _, size := range []int{1, 2, 3, 7, 159, 160, 319, 320, 321, 4096} {
		r := NewPCMReader(NewSliceReader(src, 8000, 20*time.Millisecond))
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.NotZero(t, n, "no empty reads")
		}
		assert.Equal(t, want, got, "buffer size %d", size)
	}

	// io.ReadAll and a zero-length read.
	r := NewPCMReader(NewSliceReader(src, 8000, 0))
	n, err := r.Read(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)
	all, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, want, all)
}

// scriptedReader returns the given frames, then err.
type scriptedReader struct {
	rate   int
	frames []Frame
	err    error
}

func (r *scriptedReader) SampleRate() int { return r.rate }

func (r *scriptedReader) ReadFrame() (Frame, error) {
	if len(r.frames) == 0 {
		return Frame{}, r.err
	}
	f := r.frames[0]
	r.frames = r.frames[1:]
	return f, nil
}

func TestPCMReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := NewPCMReader(&scriptedReader{rate: 8000, frames: []Frame{
		{Samples: []int16{1, 2}, SampleRate: 8000},
		{SampleRate: 8000}, // empty frames are skipped
		{Samples: []int16{3}, SampleRate: 8000},
	}, err: boom})
	got, err := io.ReadAll(r)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, s16le([]int16{1, 2, 3}), got)

	// A rate change cannot be expressed in a byte stream.
	r = NewPCMReader(&scriptedReader{rate: 8000, frames: []Frame{{Samples: []int16{1}, SampleRate: 16000}}, err: io.EOF})
	_, err = io.ReadAll(r)
	assert.ErrorIs(t, err, ErrRateMismatch)

	// A reader that only ever returns empty frames is reported, not spun on.
	r = NewPCMReader(emptyForever{})
	_, err = r.Read(make([]byte, 10))
	assert.ErrorIs(t, err, io.ErrNoProgress)
}

type emptyForever struct{}

func (emptyForever) SampleRate() int           { return 8000 }
func (emptyForever) ReadFrame() (Frame, error) { return Frame{SampleRate: 8000}, nil }

func TestPCMWriterChunking(t *testing.T) {
	src := ramp(1234)
	data := s16le(src)
	g := uint32(5)
	for _, maxChunk := range []int{1, 2, 3, 5, 64, 321, 10000} {
		c := &collector{rate: 8000}
		w := NewPCMWriter(c, 20*time.Millisecond)
		for rest := data; len(rest) > 0; {
			g = g*1664525 + 1013904223
			k := min(int(g>>8)%maxChunk+1, len(rest))
			n, err := w.Write(rest[:k])
			require.NoError(t, err)
			require.Equal(t, k, n)
			rest = rest[k:]
		}
		require.NoError(t, w.Close())
		assert.Equal(t, src, c.samples(), "max chunk %d", maxChunk)
		require.Len(t, c.frames, 8, "seven full frames and the partial one flushed on Close")
		for _, f := range c.frames[:7] {
			assert.Len(t, f.Samples, 160)
		}
		assert.Len(t, c.frames[7].Samples, 1234-7*160)
	}
}

func TestPCMWriterClose(t *testing.T) {
	c := &collector{rate: 16000}
	w := NewPCMWriter(c, 0) // default 20 ms = 320 samples
	_, err := w.Write([]byte{1, 0, 2, 0, 3})
	require.NoError(t, err)
	assert.Empty(t, c.frames, "nothing written before a frame is full")
	err = w.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "half a sample was pending")
	assert.Equal(t, []int16{1, 2}, c.samples())
	assert.NoError(t, w.Close(), "Close is idempotent")
	_, err = w.Write([]byte{1, 2})
	assert.ErrorIs(t, err, ErrClosed)

	// Close with nothing pending writes nothing.
	c = &collector{rate: 8000}
	require.NoError(t, NewPCMWriter(c, 0).Close())
	assert.Empty(t, c.frames)
}

func TestPCMWriterErrorIsSticky(t *testing.T) {
	boom := errors.New("boom")
	c := &collector{rate: 8000, failAt: 2, failErr: boom}
	w := NewPCMWriter(c, 10*time.Millisecond) // 80 samples = 160 bytes
	n, err := w.Write(make([]byte, 400))
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 320, n, "consumed up to and including the failed frame")
	_, err = w.Write([]byte{1, 2})
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, w.Close(), boom)
	assert.Len(t, c.frames, 1)
}

func TestPCMRoundTrip(t *testing.T) {
	src := ramp(5000)
	c := &collector{rate: 8000}
	w := NewPCMWriter(c, 0)
	n, err := io.Copy(w, NewPCMReader(NewSliceReader(src, 8000, 30*time.Millisecond)))
	require.NoError(t, err)
	assert.Equal(t, int64(10000), n)
	require.NoError(t, w.Close())
	assert.Equal(t, src, c.samples())
}

func TestPCMAdaptersZeroAllocs(t *testing.T) {
	src := ramp(160)
	data := s16le(src)
	w := NewPCMWriter(Discard(8000), 0)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = w.Write(data[:101])
		_, _ = w.Write(data[101:])
	})
	assert.Zero(t, allocs, "writer")

	r := NewPCMReader(&loopReader{f: Frame{Samples: src, SampleRate: 8000}})
	buf := make([]byte, 100)
	_, _ = r.Read(buf) // first Read sizes the leftover buffer
	allocs = testing.AllocsPerRun(100, func() {
		for range 4 {
			_, _ = r.Read(buf)
		}
	})
	assert.Zero(t, allocs, "reader")
}

// loopReader returns the same frame forever.
type loopReader struct{ f Frame }

func (r *loopReader) SampleRate() int           { return r.f.SampleRate }
func (r *loopReader) ReadFrame() (Frame, error) { return r.f, nil }
