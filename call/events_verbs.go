package call

import (
	"errors"
	"fmt"
)

// ErrInvalidOptions is returned by verbs whose options are inconsistent or out of range
// (no source or two sources for Play, MaxDigits below MinDigits, ...).
var ErrInvalidOptions = errors.New("call: invalid options")

// InterruptError is what Play and Speak return when barge-in stopped them (see
// BargeIn): errors.Is(err, ErrInterrupted) holds, and the fields say what interrupted.
type InterruptError struct {
	// By is "dtmf" or "speech".
	By string
	// Digit is the key that interrupted, when By is "dtmf".
	Digit rune
}

func (e *InterruptError) Error() string {
	if e.By == "dtmf" {
		return fmt.Sprintf("call: interrupted by DTMF %q", e.Digit)
	}
	return "call: interrupted by " + e.By
}

// Unwrap makes errors.Is(err, ErrInterrupted) true.
func (e *InterruptError) Unwrap() error { return ErrInterrupted }

// PlaybackStatus says how a playback or speech ended, as in the status of the reference
// platforms' call.playback.ended and call.speak.ended events.
type PlaybackStatus string

// Playback statuses.
const (
	// PlaybackCompleted: everything was played out.
	PlaybackCompleted PlaybackStatus = "completed"
	// PlaybackStopped: the application stopped it (ctx cancelled, Playback.Stop).
	PlaybackStopped PlaybackStatus = "stopped"
	// PlaybackInterrupted: barge-in stopped it (a digit or the caller's speech).
	PlaybackInterrupted PlaybackStatus = "interrupted"
	// PlaybackFailed: the source could not be read (missing file, download or format
	// error, speech engine failure); the event's Err says why.
	PlaybackFailed PlaybackStatus = "failed"
	// PlaybackCallHangup: the call ended first.
	PlaybackCallHangup PlaybackStatus = "call_hangup"
)

// PlaybackStarted: Play (or PlayBackground) started playing a source.
type PlaybackStarted struct {
	base
	// Source names what plays: the file path, the URL, or "reader", "tone", "frames".
	Source string
}

// PlaybackEnded: a playback ended; Status says how.
type PlaybackEnded struct {
	base
	Source string
	Status PlaybackStatus
	// Err is why it failed or was interrupted (an *InterruptError), nil otherwise.
	Err error
}

// SpeakStarted: Speak started speaking Text.
type SpeakStarted struct {
	base
	Text string
}

// SpeakEnded: a Speak ended; Status says how.
type SpeakEnded struct {
	base
	Text   string
	Status PlaybackStatus
	// Err is why it failed or was interrupted (an *InterruptError), nil otherwise.
	Err error
}

// GatherEnded: a Gather ended; Result holds the digits or, when speech answered, the
// transcript with its confidence and matched phrase, the status and why.
type GatherEnded struct {
	base
	Result GatherResult
}

// Event names of the verbs.
func (PlaybackStarted) Name() string { return "call.playback.started" }
func (PlaybackEnded) Name() string   { return "call.playback.ended" }
func (SpeakStarted) Name() string    { return "call.speak.started" }
func (SpeakEnded) Name() string      { return "call.speak.ended" }
func (GatherEnded) Name() string     { return "call.gather.ended" }
