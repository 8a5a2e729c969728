// Package stttest helps test speech recognition: Run is the conformance test that every
// stt.Recognizer passes, Script is a scripted fake Recognizer for tests of code that
// uses one, and Validate and WordErrors check and score results.
//
// # Conformance
//
//	func TestConformance(t *testing.T) {
//		stttest.Run(t, func(t *testing.T) stt.Recognizer { return myEngine }, stttest.Options{
//			SampleRate: 16000,
//			Audio:      speech, // real speech for a real engine
//		})
//	}
//
// Run checks the stt.Session contract: ordering of partial and final results,
// io.EOF after Close, cancellation, Close racing with WriteFrame and Recv, concurrent
// sessions, Finalize, and that no goroutine is left behind.
//
// # Fakes
//
// A Script releases scripted transcripts either at fixed positions in the audio
// (ByPosition: after End of audio has been written) or for each stretch of sound it
// detects (BySpeech: the n-th stretch gets the n-th utterance, timed from the audio),
// optionally preceded by word-by-word partial results. It records the configurations
// it was started with, so a test can check what the code under test asked for.
// Synthetic makes speech-like audio that a BySpeech script reacts to.
//
// # Scoring
//
// WordErrors counts substituted, deleted and inserted words between a reference
// transcript and a hypothesis, the numerator of the word error rate.
package stttest
