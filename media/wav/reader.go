package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
)

// Options says how a [Reader] delivers frames.
type Options struct {
	// SampleRate is the rate of the frames returned, in Hz. Zero means the file's own
	// rate; any other rate is reached through media/resample, with the filter delay
	// compensated so the audio keeps its timing and length.
	SampleRate int
	// FrameDuration is the length of each frame. Zero means media.DefaultFrameDuration
	// (20 ms). It must come to at least one sample and at most one second.
	FrameDuration time.Duration
}

// Reader decodes a WAV file into mono [media.Frame]s: any channel count up to
// [MaxChannels] is averaged to mono, every supported encoding becomes 16-bit PCM, and
// the audio is resampled when [Options.SampleRate] asks for another rate.
//
// Every frame has FrameDuration of audio except the last, which holds what is left.
// Samples are valid until the next ReadFrame. A Reader is not safe for concurrent use.
type Reader struct {
	hdr      Header
	src      io.Reader
	closer   io.Closer
	rs       *resample.Resampler
	rate     int
	frameLen int
	inChunk  int // sample frames decoded per read
	raw      []byte
	mono     []int16
	pending  []int16 // decoded (and resampled) samples not yet returned
	head     int     // start of unreturned samples in pending
	out      []int16 // the returned frame's samples
	drop     int     // resampler delay still to discard
	eof      bool
	closed   bool
}

var _ media.FrameReadCloser = (*Reader)(nil)

// Open opens a WAV file for reading. Close the Reader to close the file.
func Open(path string, opts Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	r, err := NewReader(f, opts)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	r.closer = f
	return r, nil
}

// NewReader parses the WAV header from r, leaving r at the first audio byte. Errors
// wrap [ErrFormat] for malformed input and [ErrUnsupported] for encodings or options
// this package does not handle. Reading stops at the end of the data chunk, or at the
// end of r when the header leaves the data size open; a data chunk cut short (a
// recording whose writer died) ends at the last whole sample frame, without error.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	h, err := parseHeader(r)
	if err != nil {
		return nil, err
	}
	rd := &Reader{hdr: h, src: r, rate: h.SampleRate}
	if h.DataSize >= 0 {
		rd.src = io.LimitReader(r, h.DataSize)
	}
	if opts.SampleRate < 0 {
		return nil, fmt.Errorf("%w: negative sample rate %d", ErrUnsupported, opts.SampleRate)
	}
	if opts.SampleRate != 0 && opts.SampleRate != h.SampleRate {
		rd.rs, err = resample.New(h.SampleRate, opts.SampleRate)
		if err != nil {
			return nil, fmt.Errorf("%w: %v to %d Hz: %w", ErrUnsupported, h, opts.SampleRate, err)
		}
		rd.rate = opts.SampleRate
		rd.drop = int(math.Round(rd.rs.Delay()))
	}
	d := opts.FrameDuration
	if d == 0 {
		d = media.DefaultFrameDuration
	}
	rd.frameLen = media.SamplesPer(rd.rate, d)
	if rd.frameLen < 1 || d > time.Second {
		return nil, fmt.Errorf("%w: frame duration %v at %d Hz", ErrUnsupported, d, rd.rate)
	}
	rd.inChunk = max(1, media.SamplesPer(h.SampleRate, d))
	rd.raw = make([]byte, rd.inChunk*h.BlockAlign)
	rd.mono = make([]int16, rd.inChunk)
	rd.out = make([]int16, rd.frameLen)
	// Room for a frame's worth of leftovers plus one chunk and the resampler's tail, so
	// ReadFrame never grows it.
	tail := 0
	if rd.rs != nil {
		tail = rd.rs.OutputLen(rd.inChunk) + int(math.Ceil(rd.rs.Delay())) + 2
	}
	rd.pending = make([]int16, 0, rd.frameLen+rd.inChunk+tail)
	return rd, nil
}

// Header returns the parsed header.
func (r *Reader) Header() Header { return r.hdr }

// SampleRate is the rate of the frames ReadFrame returns.
func (r *Reader) SampleRate() int { return r.rate }

// String describes the source, e.g. "wav(8k μ-law mono)".
func (r *Reader) String() string { return r.hdr.String() }

// ReadFrame returns the next frame, or io.EOF after the last. Read errors from the
// underlying reader are returned wrapped.
func (r *Reader) ReadFrame() (media.Frame, error) {
	if r.closed {
		return media.Frame{}, fmt.Errorf("wav: read: %w", media.ErrClosed)
	}
	for len(r.pending)-r.head < r.frameLen && !r.eof {
		if err := r.fill(); err != nil {
			return media.Frame{}, err
		}
	}
	n := min(r.frameLen, len(r.pending)-r.head)
	if n == 0 {
		return media.Frame{}, io.EOF
	}
	copy(r.out, r.pending[r.head:r.head+n])
	r.head += n
	return media.Frame{Samples: r.out[:n], SampleRate: r.rate}, nil
}

// fill decodes one chunk of input into pending (through the resampler if any).
func (r *Reader) fill() error {
	if r.head > 0 { // compact, so pending never grows past a frame and a chunk
		r.pending = r.pending[:copy(r.pending, r.pending[r.head:])]
		r.head = 0
	}
	n, err := io.ReadFull(r.src, r.raw)
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		r.eof = true
	case err != nil:
		return fmt.Errorf("wav: reading data: %w", err)
	}
	frames := n / r.hdr.BlockAlign // a trailing partial frame is dropped
	mono := r.decode(r.mono[:frames], r.raw[:frames*r.hdr.BlockAlign])
	if r.rs == nil {
		r.pending = append(r.pending, mono...)
		return nil
	}
	start := len(r.pending)
	r.pending = r.rs.Process(r.pending, mono)
	if r.eof {
		r.pending = r.rs.Flush(r.pending)
	}
	if r.drop > 0 {
		k := min(r.drop, len(r.pending)-start)
		r.pending = append(r.pending[:start], r.pending[start+k:]...)
		r.drop -= k
	}
	return nil
}

// decode converts raw sample frames into mono 16-bit PCM in dst.
func (r *Reader) decode(dst []int16, raw []byte) []int16 {
	h := r.hdr
	ch := h.Channels
	bps := h.BitsPerSample / 8
	le := binary.LittleEndian
	for i := range dst {
		frame := raw[i*h.BlockAlign : (i+1)*h.BlockAlign]
		var sum int32
		for c := range ch {
			b := frame[c*bps : (c+1)*bps]
			var v int32
			switch h.Format {
			case FormatPCM:
				switch bps {
				case 1:
					v = (int32(b[0]) - 128) << 8
				case 2:
					v = int32(int16(le.Uint16(b)))
				case 3:
					s := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8 // sign-extended 24-bit
					v = clamp16((s + 128) >> 8)
				case 4:
					v = clamp16(int32((int64(int32(le.Uint32(b))) + 1<<15) >> 16))
				}
			case FormatFloat:
				var f float64
				if bps == 4 {
					f = float64(math.Float32frombits(le.Uint32(b)))
				} else {
					f = math.Float64frombits(le.Uint64(b))
				}
				v = floatTo16(f)
			case FormatMuLaw:
				v = int32(g711.DecodeUlawFrame(b[0]))
			case FormatALaw:
				v = int32(g711.DecodeAlawFrame(b[0]))
			}
			sum += v
		}
		if ch == 1 {
			dst[i] = int16(sum)
		} else {
			dst[i] = int16(sum / int32(ch))
		}
	}
	return dst
}

func clamp16(v int32) int32 {
	return min(max(v, -32768), 32767)
}

// floatTo16 maps [-1, 1) to the int16 range, clipping beyond and silencing NaN.
func floatTo16(f float64) int32 {
	if f != f { // NaN
		return 0
	}
	v := math.Round(f * 32768)
	return int32(min(max(v, -32768), 32767))
}

// Close releases the file opened by [Open]. For a Reader made by [NewReader] it only
// marks the Reader closed; the caller owns the io.Reader. Close is idempotent.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.closer != nil {
		if err := r.closer.Close(); err != nil {
			return fmt.Errorf("wav: close: %w", err)
		}
	}
	return nil
}
