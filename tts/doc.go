// Package tts defines how Switchboard turns text into speech: the Synthesizer interface
// that every speech engine implements, its Options, and optional capabilities.
//
// # Overview
//
// A Synthesizer streams: Synthesize returns a media.FrameReadCloser as soon as audio
// can be read, and the call starts playing the first frames while the engine is still
// producing the rest. Frames are 20 ms of mono 16-bit PCM at the rate the reader
// declares: Options.SampleRate when set (the call's rate, so no conversion is left to
// do), else the engine's native rate, which the library resamples. Providers produce as
// fast as they can; the call's playout buffer paces the audio.
//
// Providers live in sub-packages, one per engine:
//
//   - tts/espeak runs the espeak-ng program (many languages, 22.05 kHz, robotic but
//     fast and light; the default).
//   - tts/flite links the flite library through cgo (US English, 8 and 16 kHz voices,
//     more natural).
//   - tts/cache wraps any Synthesizer so that repeated prompts are synthesized once.
//   - tts/ttstest holds the conformance kit every provider passes (Run), and Tone, a
//     fake Synthesizer for tests of code that speaks.
//
// Cloud engines belong in modules of their own, so that the core does not depend on
// vendor SDKs; ttstest.Run is how they show they keep the contract.
//
// # Capabilities
//
// The Synthesizer interface stays one method. What only some engines can do is a
// separate interface, found by type assertion as with http.Flusher:
//
//   - TextStreamer takes text incrementally (as a language model produces it) and
//     speaks it as one stream; StreamText gives that to every Synthesizer, through
//     NewSentenceStream for those without it.
//   - VoiceLister lists voices.
//
// # Cancellation
//
// Every call takes a ctx. Cancelling it stops the synthesis it started: the engine is
// stopped (a process killed, a library call not started), and the reader returns an
// error wrapping ctx.Err() from its next ReadFrame. Closing the reader does the same
// and also releases everything; a reader must always be closed.
//
// # Errors
//
// Providers fail with errors wrapping ErrInvalidOptions (a value out of range),
// ErrUnknownVoice (no such voice, no voice for the language), ErrUnsupported (a
// feature the engine lacks) and ErrUnavailable (the engine is not installed; the
// message names the package to install). Errors from the engine itself carry what it
// said (its standard error, say).
package tts
