package media

import (
	"errors"
	"time"
)

// DefaultFrameDuration is the frame length used when nothing else is negotiated.
const DefaultFrameDuration = 20 * time.Millisecond

// Errors shared by every stage of the media engine.
var (
	// ErrClosed is returned by operations on a closed reader, writer or session.
	ErrClosed = errors.New("media: closed")
	// ErrRateMismatch is returned when a frame's sample rate differs from the rate a
	// stage was built for. Put a resampler in front of the stage.
	ErrRateMismatch = errors.New("media: sample rate mismatch")
)

// FrameFlags carry per-frame facts that travel with the audio through a chain of stages.
type FrameFlags uint8

const (
	// FlagRTP means Timestamp and Sequence hold the values of the RTP packet the frame
	// came from (or will go out in).
	FlagRTP FrameFlags = 1 << iota
	// FlagConcealed means the frame was synthesised by loss concealment, not received.
	FlagConcealed
	// FlagSilence means the frame was inserted as filler (no audio was available).
	FlagSilence
	// FlagSpeech is set by a voice activity detector on frames it judged to be speech.
	FlagSpeech
)

// Frame is the unit of audio in Switchboard: mono, signed 16-bit linear PCM at SampleRate,
// normally 20 ms long.
//
// # Buffer reuse
//
// A Frame does not own Samples. A FrameReader may reuse the backing array on its next
// ReadFrame call, and a FrameWriter must not keep Samples after WriteFrame returns. Call
// Clone to keep a frame beyond that point. Receivers treat Samples as read-only: a stage
// that changes the audio writes the result into its own buffer and passes that on, so
// one frame can be handed to several consumers (see Tee) without copying. These rules
// are what let the per-frame path run without allocating.
type Frame struct {
	// Samples holds the PCM samples, one per sample period.
	Samples []int16
	// SampleRate is in Hz (8000, 16000, 48000, ...).
	SampleRate int
	// Timestamp is the RTP timestamp of the first sample, in the RTP clock of the codec,
	// valid when Flags has FlagRTP.
	Timestamp uint32
	// Sequence is the RTP sequence number, valid when Flags has FlagRTP.
	Sequence uint16
	// Flags carry facts about the frame; see FrameFlags.
	Flags FrameFlags
}

// Duration is the length of the audio in the frame.
func (f Frame) Duration() time.Duration {
	if f.SampleRate <= 0 {
		return 0
	}
	return time.Duration(len(f.Samples)) * time.Second / time.Duration(f.SampleRate)
}

// Clone returns a copy of f whose Samples do not alias f's.
func (f Frame) Clone() Frame {
	c := f
	if f.Samples != nil {
		c.Samples = append(make([]int16, 0, len(f.Samples)), f.Samples...)
	}
	return c
}

// Has reports whether all flags in fl are set on f.
func (f Frame) Has(fl FrameFlags) bool { return f.Flags&fl == fl }

// SamplesPer returns the number of samples in d of audio at rate Hz.
func SamplesPer(rate int, d time.Duration) int {
	return int(int64(rate) * int64(d) / int64(time.Second))
}

// FrameReader is a source of frames.
//
// ReadFrame returns the next frame with a nil error, or a zero Frame with an error:
// io.EOF at the end of the stream. (Unlike io.Reader, a reader does not return data and
// an error together.) The returned Samples are valid until the next call to ReadFrame
// (see Frame). SampleRate reports the rate of the frames it returns; it does not change
// during the life of the reader. Unless documented otherwise, a FrameReader is used by
// one goroutine at a time.
type FrameReader interface {
	ReadFrame() (Frame, error)
	SampleRate() int
}

// FrameWriter is a sink of frames.
//
// WriteFrame consumes one frame. It must not retain or modify f.Samples (see Frame).
// Frames whose SampleRate differs from SampleRate() are rejected with an error wrapping
// ErrRateMismatch.
type FrameWriter interface {
	WriteFrame(f Frame) error
	SampleRate() int
}

// FrameReadCloser is a FrameReader that must be closed to release its resources.
type FrameReadCloser interface {
	FrameReader
	Close() error
}

// FrameWriteCloser is a FrameWriter that must be closed to flush and release resources.
type FrameWriteCloser interface {
	FrameWriter
	Close() error
}
