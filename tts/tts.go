package tts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/switchboard-go/switchboard/media"
)

// Errors a Synthesizer returns for requests it cannot serve. Providers wrap them with
// %w and a message saying what was wrong, so callers test with errors.Is.
var (
	// ErrInvalidOptions means a field of Options is out of range (see Options.Validate).
	ErrInvalidOptions = errors.New("tts: invalid options")
	// ErrUnknownVoice means the engine has no voice of that name, or none for the
	// requested language.
	ErrUnknownVoice = errors.New("tts: unknown voice")
	// ErrUnsupported means the engine cannot do what the options ask (SSML on an engine
	// without it, an output sample rate it cannot reach, streamed text input).
	ErrUnsupported = errors.New("tts: unsupported")
	// ErrUnavailable means the engine itself is missing: a program not installed, a
	// package built without the C library it needs. Providers wrap it with the name of
	// what to install.
	ErrUnavailable = errors.New("tts: engine unavailable")
)

// Limits of the Options fields that every engine accepts. An engine may honour a
// narrower range (clamping, and saying so in its documentation), but only values
// outside these fail with ErrInvalidOptions.
const (
	// MinRate and MaxRate bound Options.Rate (0 aside, which means 1).
	MinRate, MaxRate = 0.25, 4.0
	// MaxPitch bounds Options.Pitch in semitones, either way.
	MaxPitch = 12.0
	// MaxSampleRate bounds Options.SampleRate in Hz.
	MaxSampleRate = 192000
)

// Options select how text is spoken. The zero value means the engine's default voice,
// language, speed and pitch, at the engine's own sample rate.
type Options struct {
	// Voice is an engine-specific voice name (e.g. "en-us+f3" for espeak-ng, "slt" for
	// flite). Empty means the engine's default, or the default voice for Language. When
	// both are set, Voice wins.
	Voice string
	// Language is a BCP 47 tag such as "en-US". Engines pick a voice for it when Voice
	// is empty, and fail with ErrUnknownVoice when they have none.
	Language string
	// Rate scales the speaking rate: 1 is normal, 2 twice as fast (half the duration),
	// 0 means 1. It must lie within [MinRate, MaxRate].
	Rate float64
	// Pitch shifts the voice up or down, in semitones: 0 is the voice's own pitch, +12
	// an octave up. It must lie within ±MaxPitch.
	Pitch float64
	// SampleRate is the rate, in Hz, of the frames the reader returns. Zero means the
	// engine's native rate (reported by the reader's SampleRate). A provider that
	// synthesizes at another rate resamples; the call layer sets this to the call's rate
	// to save a conversion.
	SampleRate int
	// SSML says the text is SSML markup; engines without SSML support fail with
	// ErrUnsupported.
	SSML bool
}

// Validate checks the fields whose range does not depend on the engine, returning an
// error wrapping ErrInvalidOptions. Providers call it first in Synthesize.
func (o Options) Validate() error {
	switch {
	case math.IsNaN(o.Rate) || (o.Rate != 0 && (o.Rate < MinRate || o.Rate > MaxRate)):
		return fmt.Errorf("%w: rate %v outside [%v, %v]", ErrInvalidOptions, o.Rate, MinRate, MaxRate)
	case math.IsNaN(o.Pitch) || math.Abs(o.Pitch) > MaxPitch:
		return fmt.Errorf("%w: pitch %v semitones outside ±%v", ErrInvalidOptions, o.Pitch, MaxPitch)
	case o.SampleRate < 0 || o.SampleRate > MaxSampleRate:
		return fmt.Errorf("%w: sample rate %d Hz outside [0, %d]", ErrInvalidOptions, o.SampleRate, MaxSampleRate)
	case strings.ContainsFunc(o.Voice, isControl) || strings.ContainsFunc(o.Language, isControl):
		return fmt.Errorf("%w: control character in voice %q or language %q", ErrInvalidOptions, o.Voice, o.Language)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// SpeakingRate returns Rate, with 0 read as 1.
func (o Options) SpeakingRate() float64 {
	if o.Rate == 0 {
		return 1
	}
	return o.Rate
}

// Synthesizer turns text into a stream of audio frames.
//
// # Contract
//
// Synthesize may be called concurrently from multiple goroutines. It validates opts
// (errors wrap ErrInvalidOptions, ErrUnknownVoice, ErrUnsupported or ErrUnavailable)
// and returns as soon as audio can be read, typically before the engine has finished:
// the first frame of a long text is available long before its last.
//
// The reader declares its SampleRate (opts.SampleRate when set, else the engine's
// native rate), and every frame has that rate. Frames are media.DefaultFrameDuration
// (20 ms) long, except the last, which may be shorter. ReadFrame returns io.EOF after
// the last frame. Providers produce faster than real time when they can; pacing is the
// caller's job.
//
// Text that is empty or only white space is not an error: the reader returns io.EOF at
// once.
//
// # Cancellation and Close
//
// Cancelling ctx stops synthesis: from then on ReadFrame returns an error wrapping
// ctx.Err(), promptly also when it was blocked waiting for the engine. The caller must
// Close the reader, also when it was read to the end or ctx was cancelled; Close
// releases everything the synthesis holds (processes, goroutines, buffers) and waits
// for it to be released. Close may be called from another goroutine while ReadFrame is
// blocked, which makes ReadFrame return. Close is idempotent; ReadFrame after Close
// returns an error wrapping media.ErrClosed.
//
// Apart from Close, a reader is used by one goroutine at a time, and its frames follow
// media's buffer rules: Samples are valid until the next ReadFrame.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string, opts Options) (media.FrameReadCloser, error)
}

// Blank reports whether text has nothing to speak: it is empty or only white space.
// Synthesizers return an empty stream for such text (see Synthesizer).
func Blank(text string) bool { return strings.TrimSpace(text) == "" }

// Empty returns a reader at rate Hz that has no frames: ReadFrame returns io.EOF, or
// media.ErrClosed after Close. Providers return it for blank text.
func Empty(rate int) media.FrameReadCloser { return &emptyReader{rate: rate} }

type emptyReader struct {
	rate   int
	closed bool
}

func (r *emptyReader) SampleRate() int { return r.rate }

func (r *emptyReader) ReadFrame() (media.Frame, error) {
	if r.closed {
		return media.Frame{}, fmt.Errorf("tts: read: %w", media.ErrClosed)
	}
	return media.Frame{}, io.EOF
}

func (r *emptyReader) Close() error { r.closed = true; return nil }

func (r *emptyReader) String() string { return "tts(empty)" }

// Voice describes one voice of an engine.
type Voice struct {
	// Name is what to put in Options.Voice to select it.
	Name string
	// Languages are BCP 47 tags of the languages it speaks, best first.
	Languages []string
	// Gender is "female", "male", or empty when unknown.
	Gender string
	// SampleRate is the voice's native rate in Hz, or 0 when unknown.
	SampleRate int
}

// VoiceLister is implemented by Synthesizers that can list their voices. Voices may be
// called concurrently with itself and with Synthesize.
type VoiceLister interface {
	Voices(ctx context.Context) ([]Voice, error)
}

// TextStreamer is implemented by Synthesizers that accept text incrementally, as it
// is produced (say, token by token from a language model), and speak it as one
// continuous audio stream: each sentence is synthesized as soon as it is complete,
// while the rest is still being written.
//
// StreamText may be called concurrently from multiple goroutines; each TextStream is
// independent. opts are validated as by Synthesize, except that SSML is not supported
// by streams (ErrUnsupported). Use StreamText (the function) to get a stream from any
// Synthesizer.
type TextStreamer interface {
	StreamText(ctx context.Context, opts Options) (TextStream, error)
}

// TextStream is the audio of text that is still being written.
//
// Write appends text (UTF-8; a multi-byte character may be split across calls) and
// CloseWrite says that no more follows; ReadFrame returns io.EOF once the audio of all
// written text has been read. A sentence is spoken once its end is certain (its closing
// punctuation and the space after it, or a line break) or at CloseWrite, so ReadFrame
// blocks while the engine waits for more text. Write may block while the engine catches
// up, and never waits for the audio to be read beyond that.
//
// The writing side (Write, CloseWrite) and the reading side (ReadFrame) may be used
// from two different goroutines at once; each side by one goroutine at a time. Close
// may be called from any goroutine: it stops synthesis, makes blocked Write and
// ReadFrame calls return, releases everything and is idempotent. Write after
// CloseWrite or Close fails with an error wrapping media.ErrClosed. ctx cancellation
// and the reader's frames behave as for Synthesizer.
type TextStream interface {
	media.FrameReadCloser
	io.Writer
	CloseWrite() error
}
