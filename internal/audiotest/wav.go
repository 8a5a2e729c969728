package audiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// ErrFormat is wrapped by the errors DecodeWAV returns for input that is not an
// uncompressed 16-bit PCM WAV file.
var ErrFormat = errors.New("audiotest: not a 16-bit PCM WAV file")

// Format describes the PCM stream of a WAV file as stored, before mixing to mono.
type Format struct {
	Rate     int // samples per second per channel
	Channels int // interleaved channels
	Bits     int // bits per sample; DecodeWAV accepts only 16
}

// EncodeWAV returns a mono 16-bit PCM WAV file holding samples at rate Hz.
func EncodeWAV(samples []int16, rate int) []byte {
	dataLen := 2 * len(samples)
	b := make([]byte, 44+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2)) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)              // block align
	binary.LittleEndian.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// WriteWAV writes samples as a mono 16-bit PCM WAV file at rate Hz.
func WriteWAV(path string, samples []int16, rate int) error {
	if err := os.WriteFile(path, EncodeWAV(samples, rate), 0o644); err != nil {
		return fmt.Errorf("audiotest: %w", err)
	}
	return nil
}

// ReadWAV reads a 16-bit PCM WAV file and returns its samples mixed to mono and its
// sample rate.
func ReadWAV(path string) (samples []int16, rate int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("audiotest: %w", err)
	}
	samples, f, err := DecodeWAV(b)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return samples, f.Rate, nil
}

// extensiblePCM is the start of KSDATAFORMAT_SUBTYPE_PCM, the sub-format GUID of a
// WAVE_FORMAT_EXTENSIBLE header that holds plain PCM.
var extensiblePCM = [4]byte{1, 0, 0, 0}

// DecodeWAV parses a 16-bit PCM WAV file. Multi-channel audio is averaged to mono. The
// returned Format is that of the file.
func DecodeWAV(b []byte) ([]int16, Format, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, Format{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	var (
		f       Format
		haveFmt bool
	)
	p := b[12:]
	for len(p) >= 8 {
		id := string(p[0:4])
		size := int64(binary.LittleEndian.Uint32(p[4:8]))
		p = p[8:]
		switch id {
		case "fmt ":
			if size < 16 || int64(len(p)) < size {
				return nil, Format{}, fmt.Errorf("%w: short fmt chunk", ErrFormat)
			}
			tag := binary.LittleEndian.Uint16(p[0:2])
			f.Channels = int(binary.LittleEndian.Uint16(p[2:4]))
			f.Rate = int(binary.LittleEndian.Uint32(p[4:8]))
			f.Bits = int(binary.LittleEndian.Uint16(p[14:16]))
			if tag == 0xFFFE && size >= 40 && [4]byte(p[24:28]) == extensiblePCM {
				tag = 1
			}
			if tag != 1 {
				return nil, f, fmt.Errorf("%w: format tag %#x is not PCM", ErrFormat, tag)
			}
			if f.Bits != 16 {
				return nil, f, fmt.Errorf("%w: %d bits per sample", ErrFormat, f.Bits)
			}
			if f.Channels < 1 || f.Rate < 1 {
				return nil, f, fmt.Errorf("%w: %d channels at %d Hz", ErrFormat, f.Channels, f.Rate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, Format{}, fmt.Errorf("%w: data chunk before fmt chunk", ErrFormat)
			}
			// A recorder that died before fixing its header leaves a size that is
			// too large (or 0xFFFFFFFF): read what is there.
			size = min(size, int64(len(p)))
			return mixdown(p[:size], f.Channels), f, nil
		}
		// Chunks are padded to an even size.
		skip := size + size&1
		if skip > int64(len(p)) {
			break
		}
		p = p[skip:]
	}
	if !haveFmt {
		return nil, Format{}, fmt.Errorf("%w: no fmt chunk", ErrFormat)
	}
	return nil, f, fmt.Errorf("%w: no data chunk", ErrFormat)
}

// mixdown converts interleaved little-endian 16-bit frames to mono by averaging the
// channels; a trailing partial frame is dropped.
func mixdown(data []byte, channels int) []int16 {
	n := len(data) / (2 * channels)
	out := make([]int16, n)
	for i := range out {
		sum := 0
		for c := range channels {
			sum += int(int16(binary.LittleEndian.Uint16(data[2*(i*channels+c):])))
		}
		out[i] = int16(sum / channels)
	}
	return out
}
