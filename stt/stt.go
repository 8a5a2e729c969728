// Package stt defines how Switchboard turns a caller's speech into text: the streaming
// Recognizer interface that every speech engine implements, its configuration and results.
//
// Providers are pull-based: they start no goroutines of their own. The call layer owns
// the goroutine that feeds a Session with frames and the one that reads its results.
package stt

import (
	"context"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Config configures one recognition session.
type Config struct {
	// Language is a BCP 47 tag such as "en-US". Empty means the engine's default.
	Language string
	// SampleRate is the rate of the frames that will be written, in Hz.
	SampleRate int
	// Hints are words or phrases likely to be said, to bias recognition.
	Hints []string
	// Grammar constrains recognition (e.g. a JSGF grammar), for engines that support it.
	Grammar string
}

// Result is a partial or final transcript of one utterance.
type Result struct {
	Text       string
	Confidence float64 // 0..1, or 0 when the engine gives none
	// Start and End are offsets of the utterance from the start of the session's audio.
	Start, End time.Duration
	Final      bool
}

// Session is one stream of audio being recognised. WriteFrame takes audio at the
// configured rate; Recv returns results in order, blocking until one is available, and
// io.EOF after Close once every result has been returned. WriteFrame and Recv may be
// called from different goroutines; each by one goroutine at a time.
type Session interface {
	media.FrameWriter
	Recv() (Result, error)
	Close() error
}

// Recognizer opens recognition sessions. Start may be called concurrently; cancelling
// ctx ends the session (Recv returns ctx's error).
type Recognizer interface {
	Start(ctx context.Context, cfg Config) (Session, error)
}
