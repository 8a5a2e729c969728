// Package ttstest helps test speech synthesis: a conformance kit for
// tts.Synthesizer implementations and a fake Synthesizer for tests of code that speaks.
//
// # Conformance
//
// Run checks the whole tts.Synthesizer contract against a provider: declared sample
// rate, 20 ms frames, audible non-empty audio, Options.SampleRate, determinism, blank
// text, invalid options and their sentinel errors, SSML, cancellation mid-stream, Close
// before the end (with a goroutine leak check), Close from another goroutine, concurrent
// syntheses, allocation per frame, and the tts.TextStream contract when the provider
// implements tts.TextStreamer. Every provider in this module passes it, and a provider
// in another module shows it keeps the contract the same way:
//
//	func TestConformance(t *testing.T) {
//		ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return myengine.New(...) })
//	}
//
// # Fake
//
// Tone speaks each word as a sine burst whose frequency depends on the word
// (WordFrequency), so tests can check what was said with a tone detector, and how long
// it lasts (Tone.Duration). It counts its calls (Tone.Calls) and can delay its first
// frame (Tone.FirstFrameDelay) like a slow engine.
//
// # Inspection
//
// ReadAll collects a stream into an Audio, which measures its duration, level, the time
// it is sounding and its pitch, for tests that check the sound rather than the bytes.
package ttstest
