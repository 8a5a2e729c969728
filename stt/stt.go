package stt

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Errors returned by recognizers. Sessions report closed use with media.ErrClosed and
// frames at the wrong rate with media.ErrRateMismatch.
var (
	// ErrUnsupported is returned by Start when the Config asks for something the engine
	// cannot do: a sample rate, language, grammar or keyword list it does not handle.
	ErrUnsupported = errors.New("stt: unsupported configuration")
	// ErrGrammar is returned (wrapped, with the reason) for a grammar an engine cannot
	// use: a syntax error, or a word it cannot pronounce.
	ErrGrammar = errors.New("stt: invalid grammar")
	// ErrOverflow is returned by WriteFrame when a session has more unprocessed audio
	// buffered than it is willing to hold because results are not being received. The
	// frame is dropped; the session goes on.
	ErrOverflow = errors.New("stt: audio buffer full")
)

// DefaultEndSilence is the trailing silence that ends an utterance when
// Config.EndSilence is zero.
const DefaultEndSilence = 600 * time.Millisecond

// Config configures one recognition session. The zero value of every field except
// SampleRate selects the engine's default.
type Config struct {
	// SampleRate is the rate of the frames that will be written, in Hz. It is required;
	// engines reject rates they cannot take with ErrUnsupported.
	SampleRate int
	// Language is a BCP 47 tag such as "en-US". Empty means the engine's default.
	Language string
	// Hints are words or phrases likely to be said, to bias recognition. Engines that
	// cannot use hints ignore them.
	Hints []string
	// Grammar, when set, restricts recognition to the sentences of a JSGF (Java Speech
	// Grammar Format 1.0) grammar: the text of the grammar, as made by DigitsGrammar,
	// YesNoGrammar or WordListGrammar or written by hand. Engines that do not support
	// grammars fail Start with ErrUnsupported; see GrammarRecognizer.
	Grammar string
	// Keywords, when set, switches to keyword spotting: results hold only the listed
	// words or phrases, when they are heard, and nothing else. It cannot be combined
	// with Grammar. Engines that cannot spot keywords fail Start with ErrUnsupported.
	Keywords []string
	// EndSilence is how long the speaker must be silent before the utterance is
	// considered finished and its final result is produced. Zero means
	// DefaultEndSilence. Shorter is more responsive but may cut an utterance at a pause.
	EndSilence time.Duration
}

// EndSilenceOrDefault returns c.EndSilence, or DefaultEndSilence when it is zero or
// negative.
func (c Config) EndSilenceOrDefault() time.Duration {
	if c.EndSilence <= 0 {
		return DefaultEndSilence
	}
	return c.EndSilence
}

// Word is one recognised word with its timing.
type Word struct {
	Text string
	// Start and End are offsets from the start of the session's audio.
	Start, End time.Duration
	// Confidence is 0..1, or 0 when the engine gives none.
	Confidence float64
}

// Result is a partial or final transcript of one utterance.
//
// A session returns, for each utterance, zero or more partial results (Final false),
// each replacing the previous one, then exactly one final result. Utterances follow each
// other in audio order and do not overlap.
type Result struct {
	// Text is the transcript: lower-case words separated by single spaces, as the
	// engine spells them. A final result may have empty Text when the engine heard
	// sound but recognised no word.
	Text string
	// Confidence is 0..1, or 0 when the engine gives none. See the engine's
	// documentation for what it measures.
	Confidence float64
	// Start and End are offsets of the utterance from the start of the session's audio
	// (the sum of the durations of the frames written before it). For a partial result,
	// End is how far recognition has got.
	Start, End time.Duration
	// Final is true for the last result of an utterance.
	Final bool
	// Words holds the words of a final result with their timings, for engines that
	// report them; it is nil otherwise. Partial results leave it nil.
	Words []Word
}

// Session is one stream of audio being recognised.
//
// WriteFrame takes audio at Config.SampleRate (SampleRate reports it; other rates fail
// with media.ErrRateMismatch). It does not wait for recognition: engines buffer the
// audio and do the work elsewhere (in Recv, or remotely), so WriteFrame is safe to call
// from a real-time media path. If too much audio piles up unprocessed, WriteFrame drops
// the frame and returns an error wrapping ErrOverflow.
//
// Recv returns the next result, blocking until one is available. Results come in the
// order described at Result. After Close, Recv returns the results still pending, then
// io.EOF on every call.
//
// Close ends the audio: the utterance in progress is finished, so its final result is
// still returned by Recv, and the session's resources are released. Close is idempotent
// (later calls return nil); WriteFrame after Close returns an error wrapping
// media.ErrClosed.
//
// When the ctx given to Start is cancelled, Recv and WriteFrame return ctx's error and
// pending results are discarded; Close must still be called.
//
// Concurrency: WriteFrame and Recv may be called from different goroutines, each by one
// goroutine at a time. Close (and Finalize, where implemented) may be called from any
// goroutine, at any time, concurrently with both.
type Session interface {
	media.FrameWriter
	Recv() (Result, error)
	Close() error
}

// Recognizer opens recognition sessions.
//
// Start may be called concurrently from multiple goroutines; each session is
// independent. Start returns an error wrapping ErrUnsupported (or ErrGrammar) when it
// cannot honour cfg. Cancelling ctx ends the session as described at Session. The
// caller must Close every session it gets.
type Recognizer interface {
	Start(ctx context.Context, cfg Config) (Session, error)
}

// Finalizer is implemented by sessions that can end the current utterance on demand,
// as if the speaker had stopped: the final result for the audio written so far is
// returned by Recv without waiting for Config.EndSilence of silence. A gather that ends
// on a key press or a timeout uses it. Finalize does nothing when no utterance is in
// progress. Check for it with a type assertion.
type Finalizer interface {
	Finalize() error
}

// GrammarRecognizer is implemented by recognizers that support Config.Grammar.
type GrammarRecognizer interface {
	Recognizer
	// CheckGrammar reports whether the engine can use grammar: nil, or an error
	// wrapping ErrGrammar that says what is wrong (syntax, unknown words). Start
	// performs the same check.
	CheckGrammar(grammar string) error
}
