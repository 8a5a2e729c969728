// Package tts defines how Switchboard turns text into speech: the Synthesizer interface
// that every speech engine implements, and its options.
//
// Providers live in sub-packages, one per engine. A Synthesizer streams: the call starts
// playing the first frames while the engine is still producing the rest, and the library
// resamples whatever rate the engine declares to the call's rate.
package tts

import (
	"context"

	"github.com/switchboard-go/switchboard/media"
)

// Options select how text is spoken. The zero value means the engine's default voice,
// language and rate.
type Options struct {
	// Voice is an engine-specific voice name (e.g. "en-us+f3" for espeak-ng, "slt" for flite).
	Voice string
	// Language is a BCP 47 tag such as "en-US".
	Language string
	// Rate scales the speaking rate: 1 is normal, 0 means 1.
	Rate float64
	// SSML says the text is SSML markup; engines without SSML support return an error.
	SSML bool
}

// Synthesizer turns text into a stream of audio frames.
//
// Synthesize may be called concurrently from multiple goroutines. It returns as soon as
// audio can be read; the returned reader declares its SampleRate and yields frames until
// io.EOF. Cancelling ctx stops synthesis: the reader then returns ctx's error. The caller
// must Close the reader, which releases everything the synthesis holds (processes,
// goroutines, buffers), also when it was not read to the end.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string, opts Options) (media.FrameReadCloser, error)
}
