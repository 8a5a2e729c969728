// Package stt defines how Switchboard turns a caller's speech into text: the streaming
// Recognizer interface that every speech engine implements, its configuration and
// results, optional capabilities, and grammar helpers.
//
// # Overview
//
// A Recognizer opens a Session per stream of audio. The session is a
// media.FrameWriter, so it sits at the end of a call's media pipeline (after the
// decoder and, usually, a tee that also feeds a recorder). Results come out of Recv in
// the gRPC-stream style: partial results while the caller speaks, then one final
// result per utterance, then io.EOF after Close.
//
//	s, err := rec.Start(ctx, stt.Config{SampleRate: 8000, Grammar: stt.DigitsGrammar()})
//	...
//	go func() { // the media side
//		for f := range frames {
//			s.WriteFrame(f)
//		}
//		s.Close()
//	}()
//	for {
//		r, err := s.Recv() // the consumer side
//		if err == io.EOF {
//			break
//		}
//		if r.Final {
//			digits, _ := stt.Digits(r.Text)
//			...
//		}
//	}
//
// # Providers
//
// Providers are pull-based: they start no goroutines of their own and own no channels.
// The call layer owns the goroutine that writes frames and the one that drains Recv, so
// a provider cannot leak or block anything. WriteFrame never waits for recognition; a
// provider buffers audio and does its work in Recv (as stt/pocketsphinx does) or
// remotely. Every provider passes the conformance kit stt/stttest, which also offers a
// scripted fake Recognizer for tests of code that uses speech recognition.
//
// # Optional capabilities
//
// Capabilities that not every engine has are separate interfaces, found by type
// assertion like http.Flusher: Finalizer (a session that can end the current utterance
// on demand, for a gather that stops on a key press) and GrammarRecognizer (an engine
// that accepts Config.Grammar and can check a grammar before use). Word timings are
// data rather than behaviour: a final Result carries Words when the engine reports
// them, and nil otherwise.
//
// # Grammars
//
// Config.Grammar takes JSGF, the W3C-noted Java Speech Grammar Format that CMU Sphinx
// and several other engines read. DigitsGrammar, YesNoGrammar and WordListGrammar
// build the grammars an IVR needs most; Digits and YesNo interpret their transcripts.
// On narrowband (G.711) audio an open-vocabulary recognizer does poorly, and a grammar
// is what makes recognition dependable.
//
// # Errors
//
// Start fails with ErrUnsupported when it cannot honour a Config and with ErrGrammar
// for a grammar the engine cannot use. Sessions report use after Close with
// media.ErrClosed, frames at another rate with media.ErrRateMismatch, and audio they
// had no room for with ErrOverflow.
package stt
