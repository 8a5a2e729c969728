package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
)

// ErrTooLarge is returned by a [Writer] when more audio would push the data chunk past
// the 4 GiB limit of a RIFF size field. The file written so far stays valid.
var ErrTooLarge = errors.New("wav: file would exceed 4 GiB")

// Encoding is the sample encoding a [Writer] produces.
type Encoding uint8

const (
	// PCM16 is 16-bit signed little-endian linear PCM (format tag 1).
	PCM16 Encoding = iota
	// MuLaw is 8-bit G.711 μ-law (format tag 7), half the size of PCM16.
	MuLaw
)

// String names the encoding.
func (e Encoding) String() string {
	switch e {
	case PCM16:
		return "PCM16"
	case MuLaw:
		return "μ-law"
	default:
		return fmt.Sprintf("Encoding(%d)", uint8(e))
	}
}

// DefaultSyncInterval is how much audio a [Writer] writes between header rewrites
// unless [WriterOptions.SyncInterval] says otherwise.
const DefaultSyncInterval = time.Second

// bufSize is how many encoded bytes a Writer holds before writing them out.
const bufSize = 16 << 10

// WriterOptions configures a [Writer].
type WriterOptions struct {
	// SampleRate is the file's rate in Hz. Required.
	SampleRate int
	// Channels is 1 (mono, the default when zero) or 2 (stereo; see Writer.WriteStereo).
	Channels int
	// Encoding is the sample encoding; the zero value is PCM16.
	Encoding Encoding
	// SyncInterval is the amount of audio, in audio time, between rewrites of the
	// header's RIFF and data sizes. Each rewrite first writes out all buffered audio, so
	// a crash loses at most this much. Zero means DefaultSyncInterval (1 s); negative
	// means only on Flush and Close.
	SyncInterval time.Duration
	// Fsync, when the destination has a Sync() error method (as *os.File does), syncs
	// it to stable storage after each header rewrite. It costs a disk flush per
	// interval; without it a crash of the process (not the machine) still loses at most
	// SyncInterval, since the data is in the kernel.
	Fsync bool
}

// Writer writes a WAV file as a stream. The header is written first with an empty data
// chunk, and rewritten with the true sizes every [WriterOptions.SyncInterval] of audio,
// on Flush and on Close; audio is written out before each rewrite. So the file is a
// valid WAV file at every moment, describing all audio up to the last rewrite.
//
// Writer's methods are safe for concurrent use.
type Writer struct {
	mu        sync.Mutex
	dst       io.WriteSeeker
	at        io.WriterAt // dst as a WriterAt, when it is one
	closer    io.Closer
	base      int64 // offset of the RIFF header in dst
	opts      WriterOptions
	hdrLen    int64
	block     int64 // bytes per sample frame
	buf       []byte
	frames    int64 // sample frames accepted
	synced    int64 // sample frames the header describes
	syncEvery int64 // sample frames between rewrites; 0 = never
	written   int64 // data bytes written to dst
	scratch   [4]byte
	err       error // first write error; sticky
	closed    bool
}

var _ media.FrameWriteCloser = (*Writer)(nil)

// Create creates (or truncates) the file at path and returns a Writer for it. Close
// the Writer to finish the file and close it.
func Create(path string, opts WriterOptions) (*Writer, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, err
	}
	w.closer = f
	return w, nil
}

func (o *WriterOptions) validate() error {
	if o.Channels == 0 {
		o.Channels = 1
	}
	switch {
	case o.SampleRate <= 0 || o.SampleRate > MaxSampleRate:
		return fmt.Errorf("%w: writer sample rate %d Hz", ErrUnsupported, o.SampleRate)
	case o.Channels != 1 && o.Channels != 2:
		return fmt.Errorf("%w: writer with %d channels (1 or 2)", ErrUnsupported, o.Channels)
	case o.Encoding != PCM16 && o.Encoding != MuLaw:
		return fmt.Errorf("%w: writer encoding %v", ErrUnsupported, o.Encoding)
	}
	return nil
}

// NewWriter writes a WAV header at the current offset of w and returns a Writer that
// appends audio after it. The header is rewritten in place later, by WriteAt when w is
// an io.WriterAt and by seeking otherwise. Closing the Writer does not close w.
func NewWriter(w io.WriteSeeker, opts WriterOptions) (*Writer, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	base, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	wr := &Writer{dst: w, base: base, opts: opts}
	wr.at, _ = w.(io.WriterAt)
	bytesPer := int64(2)
	if opts.Encoding == MuLaw {
		bytesPer = 1
	}
	wr.block = bytesPer * int64(opts.Channels)
	switch si := opts.SyncInterval; {
	case si == 0:
		wr.syncEvery = int64(media.SamplesPer(opts.SampleRate, DefaultSyncInterval))
	case si > 0:
		wr.syncEvery = max(1, int64(media.SamplesPer(opts.SampleRate, si)))
	}
	hdr := wr.header()
	wr.hdrLen = int64(len(hdr))
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("wav: writing header: %w", err)
	}
	wr.buf = make([]byte, 0, bufSize+int(wr.block)*4096)
	return wr, nil
}

// header builds the initial header: RIFF, fmt (16 bytes for PCM; 18 plus a fact chunk
// for μ-law, as the format requires for non-PCM data), and an empty data chunk.
func (w *Writer) header() []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, 58)
	b = append(b, "RIFF\x00\x00\x00\x00WAVEfmt "...)
	bits, tag, fmtLen := uint16(16), FormatPCM, uint32(16)
	if w.opts.Encoding == MuLaw {
		bits, tag, fmtLen = 8, FormatMuLaw, 18
	}
	b = le.AppendUint32(b, fmtLen)
	b = le.AppendUint16(b, uint16(tag))
	b = le.AppendUint16(b, uint16(w.opts.Channels))
	b = le.AppendUint32(b, uint32(w.opts.SampleRate))
	b = le.AppendUint32(b, uint32(w.opts.SampleRate)*uint32(w.block))
	b = le.AppendUint16(b, uint16(w.block))
	b = le.AppendUint16(b, bits)
	if fmtLen == 18 {
		b = le.AppendUint16(b, 0) // cbSize
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		b = le.AppendUint32(b, 0) // sample frames, patched with the sizes
	}
	b = append(b, "data\x00\x00\x00\x00"...)
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// SampleRate is the file's sample rate; WriteFrame rejects frames at other rates.
func (w *Writer) SampleRate() int { return w.opts.SampleRate }

// Duration is the length of the audio accepted so far (including audio still
// buffered).
func (w *Writer) Duration() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Duration(w.frames * int64(time.Second) / int64(w.opts.SampleRate))
}

// String describes the file, e.g. "wav(8k μ-law stereo)".
func (w *Writer) String() string {
	f := FormatPCM
	if w.opts.Encoding == MuLaw {
		f = FormatMuLaw
	}
	return Header{Format: f, Channels: w.opts.Channels, SampleRate: w.opts.SampleRate, BitsPerSample: 16}.String()
}

// WriteFrame writes one mono frame. In a stereo file the frame goes to both channels.
// Frames at a rate other than the file's fail with media.ErrRateMismatch.
func (w *Writer) WriteFrame(f media.Frame) error {
	if f.SampleRate != w.opts.SampleRate {
		return fmt.Errorf("wav: frame at %d Hz into a %d Hz file: %w", f.SampleRate, w.opts.SampleRate, media.ErrRateMismatch)
	}
	if w.opts.Channels == 2 {
		return w.WriteStereo(f.Samples, f.Samples)
	}
	return w.Write(f.Samples)
}

// Write appends mono samples. In a stereo file they go to both channels.
func (w *Writer) Write(samples []int16) error {
	if w.opts.Channels == 2 {
		return w.WriteStereo(samples, samples)
	}
	return w.write(samples, nil, false)
}

// WriteStereo appends one sample frame per element of the longer of left and right,
// left channel first. The shorter slice is padded with silence, so a nil slice writes
// silence on that channel (e.g. the caller's audio with nothing played back). In a
// mono file the two channels are averaged.
func (w *Writer) WriteStereo(left, right []int16) error {
	return w.write(left, right, true)
}

func (w *Writer) write(left, right []int16, stereo bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("wav: write: %w", media.ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	n := max(len(left), len(right))
	if w.hdrLen+w.written+int64(len(w.buf))+int64(n)*w.block+1 > 0xFFFFFFFF {
		return fmt.Errorf("%w: writing %d more frames", ErrTooLarge, n)
	}
	for i := 0; i < n; {
		// Encode in pieces that fit the buffer, so it never grows.
		k := min(n-i, (cap(w.buf)-len(w.buf))/int(w.block))
		if k == 0 {
			if err := w.writeOut(); err != nil {
				return err
			}
			continue
		}
		for j := i; j < i+k; j++ {
			l, r := at(left, j), at(right, j)
			switch {
			case w.opts.Channels == 1 && stereo:
				w.put(int16((int32(l) + int32(r)) / 2))
			case w.opts.Channels == 1:
				w.put(l)
			default:
				w.put(l)
				w.put(r)
			}
		}
		i += k
		w.frames += int64(k)
		if len(w.buf) >= bufSize {
			if err := w.writeOut(); err != nil {
				return err
			}
		}
	}
	if w.syncEvery > 0 && w.frames-w.synced >= w.syncEvery {
		return w.sync()
	}
	return nil
}

func at(s []int16, i int) int16 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func (w *Writer) put(s int16) {
	if w.opts.Encoding == MuLaw {
		w.buf = append(w.buf, g711.EncodeUlawFrame(s))
	} else {
		w.buf = append(w.buf, byte(s), byte(uint16(s)>>8))
	}
}

// writeOut writes the buffered audio to dst.
func (w *Writer) writeOut() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.dst.Write(w.buf)
	w.written += int64(n)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = fmt.Errorf("wav: writing audio: %w", err)
		return w.err
	}
	return nil
}

// sync writes out buffered audio, then patches the header to describe all of it.
// Audio goes first so the header never claims bytes that are not in the file.
func (w *Writer) sync() error {
	if err := w.writeOut(); err != nil {
		return err
	}
	data := w.written
	riff := w.hdrLen - 8 + data
	if w.closed && data&1 == 1 {
		riff++ // the pad byte written by Close
	}
	if err := w.patch(4, uint32(riff)); err != nil {
		return err
	}
	if w.opts.Encoding == MuLaw {
		if err := w.patch(w.hdrLen-12, uint32(data/w.block)); err != nil {
			return err
		}
	}
	if err := w.patch(w.hdrLen-4, uint32(data)); err != nil {
		return err
	}
	w.synced = w.frames
	if s, ok := w.dst.(interface{ Sync() error }); ok && w.opts.Fsync {
		if err := s.Sync(); err != nil {
			w.err = fmt.Errorf("wav: sync: %w", err)
			return w.err
		}
	}
	return nil
}

// patch overwrites a 32-bit header field at offset off from the RIFF header.
func (w *Writer) patch(off int64, v uint32) error {
	binary.LittleEndian.PutUint32(w.scratch[:], v)
	var err error
	if w.at != nil {
		_, err = w.at.WriteAt(w.scratch[:], w.base+off)
	} else {
		end := w.base + w.hdrLen + w.written
		if _, err = w.dst.Seek(w.base+off, io.SeekStart); err == nil {
			if _, err = w.dst.Write(w.scratch[:]); err == nil {
				_, err = w.dst.Seek(end, io.SeekStart)
			}
		}
	}
	if err != nil {
		w.err = fmt.Errorf("wav: rewriting header: %w", err)
	}
	return err
}

// Flush writes out buffered audio and rewrites the header now.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("wav: flush: %w", media.ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	return w.sync()
}

// Close writes out buffered audio, pads an odd-sized data chunk as RIFF requires,
// rewrites the header, and closes the file if the Writer made it with [Create]. Close
// is idempotent: later calls return nil and do nothing. Writes after Close fail with
// media.ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.writeOut()
	}
	if err == nil && (w.written)&1 == 1 {
		if _, werr := w.dst.Write([]byte{0}); werr != nil {
			err = fmt.Errorf("wav: writing pad byte: %w", werr)
		}
	}
	if err == nil {
		err = w.sync()
	}
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("wav: close: %w", cerr)
		}
	}
	return err
}
