package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Errors returned when a file cannot be read.
var (
	// ErrFormat means the input is not a well-formed WAV file: wrong magic, a missing or
	// short fmt chunk, a data chunk before fmt, inconsistent fields, a chunk running past
	// the end of the input. The wrapping error says which.
	ErrFormat = errors.New("wav: malformed file")
	// ErrUnsupported means the file is well formed but uses an encoding, sample size,
	// channel count or rate this package does not decode (ADPCM, big-endian RIFX, more
	// than MaxChannels channels …).
	ErrUnsupported = errors.New("wav: unsupported encoding")
)

// Limits on what the reader accepts. They bound the buffers a hostile header can make
// the reader allocate.
const (
	// MaxChannels is the largest channel count read (all channels are mixed to mono).
	MaxChannels = 8
	// MaxSampleRate is the highest sample rate read, in Hz.
	MaxSampleRate = 768000
	// maxFmtSize bounds the fmt chunk; real ones are 16 to 40 bytes.
	maxFmtSize = 1 << 10
)

// Format is a WAVE format tag.
type Format uint16

// The format tags this package reads. [FormatExtensible] appears only in
// [Header.Tag]; Header.Format holds the sub-format it wraps.
const (
	FormatPCM        Format = 0x0001 // integer PCM, 8-bit unsigned or 16/24/32-bit signed
	FormatFloat      Format = 0x0003 // IEEE float, 32 or 64 bits
	FormatALaw       Format = 0x0006 // G.711 A-law, 8 bits
	FormatMuLaw      Format = 0x0007 // G.711 μ-law, 8 bits
	FormatExtensible Format = 0xFFFE // WAVE_FORMAT_EXTENSIBLE: the real format is in a GUID
)

// String names the format, e.g. "PCM", "μ-law", or "0x0002" for one this package does
// not know.
func (f Format) String() string {
	switch f {
	case FormatPCM:
		return "PCM"
	case FormatFloat:
		return "float"
	case FormatALaw:
		return "A-law"
	case FormatMuLaw:
		return "μ-law"
	case FormatExtensible:
		return "extensible"
	default:
		return fmt.Sprintf("0x%04X", uint16(f))
	}
}

// Header describes a WAV file's audio, as parsed from its fmt and data chunks.
type Header struct {
	// Format is the sample encoding: FormatPCM, FormatFloat, FormatALaw or FormatMuLaw.
	// For WAVE_FORMAT_EXTENSIBLE files it is the sub-format named by the GUID.
	Format Format
	// Tag is the format tag as written in the file (FormatExtensible for extensible files).
	Tag Format
	// Channels is the number of interleaved channels; the reader mixes them to mono.
	Channels int
	// SampleRate is the file's rate in Hz.
	SampleRate int
	// BitsPerSample is the container size of one sample of one channel (8, 16, 24, 32, 64).
	BitsPerSample int
	// ValidBits is the number of significant bits in each container (WAVE_FORMAT_EXTENSIBLE
	// files may say fewer than BitsPerSample); equal to BitsPerSample otherwise.
	ValidBits int
	// BlockAlign is the size in bytes of one sample frame: Channels·BitsPerSample/8.
	BlockAlign int
	// DataOffset is the byte offset of the first audio byte from the start of the file.
	DataOffset int64
	// DataSize is the size of the audio data in bytes, or -1 when the header leaves it
	// open (0 or 0xFFFFFFFF, as streaming writers do): the data runs to the end of the
	// file.
	DataSize int64
}

// Frames is the number of sample frames the header announces, or -1 when DataSize is
// open-ended.
func (h Header) Frames() int64 {
	if h.DataSize < 0 || h.BlockAlign == 0 {
		return -1
	}
	return h.DataSize / int64(h.BlockAlign)
}

// Duration is the length of the audio the header announces, or -1 when DataSize is
// open-ended.
func (h Header) Duration() time.Duration {
	n := h.Frames()
	if n < 0 || h.SampleRate == 0 {
		return -1
	}
	return time.Duration(n * int64(time.Second) / int64(h.SampleRate))
}

// String summarises the header, e.g. "wav(8k μ-law mono)".
func (h Header) String() string {
	ch := strconv.Itoa(h.Channels) + "ch"
	switch h.Channels {
	case 1:
		ch = "mono"
	case 2:
		ch = "stereo"
	}
	enc := h.Format.String()
	if h.Format == FormatPCM || h.Format == FormatFloat {
		enc += strconv.Itoa(h.BitsPerSample)
	}
	return "wav(" + strconv.FormatFloat(float64(h.SampleRate)/1000, 'f', -1, 64) + "k " + enc + " " + ch + ")"
}

// ksDataFormatSuffix is bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID used by
// WAVE_FORMAT_EXTENSIBLE (00000000-0000-0010-8000-00aa00389b71 with the format tag in
// the first two bytes).
var ksDataFormatSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// parseHeader reads the RIFF header and chunks up to the start of the audio data.
func parseHeader(r io.Reader) (Header, error) {
	var h Header
	var b [12]byte
	if _, err := io.ReadFull(r, b[:12]); err != nil {
		return h, fmt.Errorf("%w: reading RIFF header: %w", ErrFormat, eofAsUnexpected(err))
	}
	var ds64 *[3]uint64 // RF64: riff size, data size, sample count
	switch string(b[0:4]) {
	case "RIFF":
	case "RF64":
		ds64 = new([3]uint64)
	case "RIFX":
		return h, fmt.Errorf("%w: big-endian RIFX files", ErrUnsupported)
	default:
		return h, fmt.Errorf("%w: no RIFF magic (got %q)", ErrFormat, b[0:4])
	}
	if string(b[8:12]) != "WAVE" {
		return h, fmt.Errorf("%w: RIFF form type %q, want \"WAVE\"", ErrFormat, b[8:12])
	}
	if size := binary.LittleEndian.Uint32(b[4:8]); size != 0 && size != 0xFFFFFFFF && size < 4+8 {
		return h, fmt.Errorf("%w: RIFF size %d too small for any chunk", ErrFormat, size)
	}
	off := int64(12)
	haveFmt := false
	for {
		if _, err := io.ReadFull(r, b[:8]); err != nil {
			if !haveFmt {
				return h, fmt.Errorf("%w: no fmt chunk: %w", ErrFormat, eofAsUnexpected(err))
			}
			return h, fmt.Errorf("%w: no data chunk: %w", ErrFormat, eofAsUnexpected(err))
		}
		id := string(b[0:4])
		size := int64(binary.LittleEndian.Uint32(b[4:8]))
		off += 8
		switch id {
		case "ds64":
			if ds64 == nil || off != 20 {
				break // a stray ds64 in a plain RIFF file is just an unknown chunk
			}
			if size < 24 || size > maxFmtSize {
				return h, fmt.Errorf("%w: ds64 chunk size %d", ErrFormat, size)
			}
			var d [maxFmtSize]byte
			if _, err := io.ReadFull(r, d[:size]); err != nil {
				return h, fmt.Errorf("%w: ds64 chunk: %w", ErrFormat, eofAsUnexpected(err))
			}
			for i := range ds64 {
				ds64[i] = binary.LittleEndian.Uint64(d[8*i:])
			}
			off += size + size&1
			if err := skip(r, size&1); err != nil {
				return h, fmt.Errorf("%w: ds64 chunk padding: %w", ErrFormat, err)
			}
			continue
		case "fmt ":
			if haveFmt {
				return h, fmt.Errorf("%w: second fmt chunk", ErrFormat)
			}
			if size < 16 || size > maxFmtSize {
				return h, fmt.Errorf("%w: fmt chunk size %d, want 16 to %d", ErrFormat, size, maxFmtSize)
			}
			var d [maxFmtSize]byte
			if _, err := io.ReadFull(r, d[:size]); err != nil {
				return h, fmt.Errorf("%w: fmt chunk: %w", ErrFormat, eofAsUnexpected(err))
			}
			if err := parseFmt(&h, d[:size]); err != nil {
				return h, err
			}
			haveFmt = true
			off += size + size&1
			if err := skip(r, size&1); err != nil {
				return h, fmt.Errorf("%w: fmt chunk padding: %w", ErrFormat, err)
			}
			continue
		case "data":
			if !haveFmt {
				return h, fmt.Errorf("%w: data chunk before fmt chunk", ErrFormat)
			}
			h.DataOffset = off
			h.DataSize = size
			switch {
			case ds64 != nil && size == 0xFFFFFFFF:
				h.DataSize = int64(min(ds64[1], 1<<62))
			case size == 0 || size == 0xFFFFFFFF:
				h.DataSize = -1
			}
			return h, nil
		}
		// Any other chunk (LIST, fact, cue, bext, JUNK …) is skipped with its pad byte.
		if err := skip(r, size+size&1); err != nil {
			return h, fmt.Errorf("%w: %q chunk of %d bytes: %w", ErrFormat, id, size, err)
		}
		off += size + size&1
	}
}

// parseFmt decodes and validates a fmt chunk body.
func parseFmt(h *Header, d []byte) error {
	le := binary.LittleEndian
	h.Tag = Format(le.Uint16(d[0:]))
	h.Format = h.Tag
	h.Channels = int(le.Uint16(d[2:]))
	rate := le.Uint32(d[4:])
	h.BlockAlign = int(le.Uint16(d[12:]))
	h.BitsPerSample = int(le.Uint16(d[14:]))
	h.ValidBits = h.BitsPerSample
	if h.Tag == FormatExtensible {
		if len(d) < 40 {
			return fmt.Errorf("%w: extensible fmt chunk of %d bytes, want 40", ErrFormat, len(d))
		}
		if cb := le.Uint16(d[16:]); cb < 22 {
			return fmt.Errorf("%w: extensible fmt extension of %d bytes, want 22", ErrFormat, cb)
		}
		h.ValidBits = int(le.Uint16(d[18:]))
		if h.ValidBits == 0 { // "0 means unspecified" in some writers' hands
			h.ValidBits = h.BitsPerSample
		}
		if !bytes.Equal(d[26:40], ksDataFormatSuffix[:]) {
			return fmt.Errorf("%w: extensible sub-format GUID % x", ErrUnsupported, d[24:40])
		}
		h.Format = Format(le.Uint16(d[24:]))
	}
	if h.Channels == 0 {
		return fmt.Errorf("%w: zero channels", ErrFormat)
	}
	if rate == 0 {
		return fmt.Errorf("%w: zero sample rate", ErrFormat)
	}
	if h.Channels > MaxChannels {
		return fmt.Errorf("%w: %d channels (max %d)", ErrUnsupported, h.Channels, MaxChannels)
	}
	if rate > MaxSampleRate {
		return fmt.Errorf("%w: sample rate %d Hz (max %d)", ErrUnsupported, rate, MaxSampleRate)
	}
	h.SampleRate = int(rate)
	switch h.Format {
	case FormatPCM:
		if h.BitsPerSample != 8 && h.BitsPerSample != 16 && h.BitsPerSample != 24 && h.BitsPerSample != 32 {
			return fmt.Errorf("%w: %d-bit PCM", ErrUnsupported, h.BitsPerSample)
		}
	case FormatFloat:
		if h.BitsPerSample != 32 && h.BitsPerSample != 64 {
			return fmt.Errorf("%w: %d-bit float", ErrUnsupported, h.BitsPerSample)
		}
	case FormatALaw, FormatMuLaw:
		if h.BitsPerSample != 8 {
			return fmt.Errorf("%w: %d-bit %v", ErrFormat, h.BitsPerSample, h.Format)
		}
	default:
		return fmt.Errorf("%w: format tag %v", ErrUnsupported, h.Format)
	}
	if h.ValidBits > h.BitsPerSample {
		return fmt.Errorf("%w: %d valid bits in a %d-bit container", ErrFormat, h.ValidBits, h.BitsPerSample)
	}
	// The byte rate field is redundant and often wrong in the wild; block align is not,
	// since samples are located by it.
	if want := h.Channels * h.BitsPerSample / 8; h.BlockAlign != want {
		return fmt.Errorf("%w: block align %d, want %d for %d×%d bits",
			ErrFormat, h.BlockAlign, want, h.Channels, h.BitsPerSample)
	}
	return nil
}

// skip discards n bytes, seeking when it can.
func skip(r io.Reader, n int64) error {
	if n == 0 {
		return nil
	}
	if s, ok := r.(io.Seeker); ok {
		cur, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			end, err := s.Seek(0, io.SeekEnd)
			if err != nil {
				return err
			}
			if cur+n > end {
				_, _ = s.Seek(end, io.SeekStart)
				return io.ErrUnexpectedEOF
			}
			_, err = s.Seek(cur+n, io.SeekStart)
			return err
		}
	}
	m, err := io.CopyN(io.Discard, r, n)
	if m < n {
		return eofAsUnexpected(err)
	}
	return nil
}

func eofAsUnexpected(err error) error {
	if err == io.EOF || err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}
