package call

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/stt"
)

// ErrNoRecognizer is returned by Transcribe and by a speech Gather when neither the
// options nor the call's Config name a speech recognizer.
var ErrNoRecognizer = errors.New("call: no speech recognizer configured")

// TranscribeOptions tune live transcription. The zero value transcribes the caller with
// the configured recognizer's defaults.
type TranscribeOptions struct {
	// Recognizer overrides Config.STT for this transcription.
	Recognizer stt.Recognizer
	// Language, Hints, Grammar and Keywords are passed to the recognizer (see stt.Config).
	Language string
	Hints    []string
	Grammar  string
	Keywords []string
	// EndSilence is how long the caller must be quiet before an utterance is final.
	// Zero means the recognizer's default.
	EndSilence time.Duration
	// SampleRate is the rate the recognizer is fed. Zero means 16000 (what wideband
	// engines want; narrowband calls are resampled up).
	SampleRate int
}

// Transcript is a live transcription result: the event call.transcription, partial or
// final, with which side spoke.
type Transcript struct {
	base
	Text       string
	Final      bool
	Confidence float64
	// Start and End place the utterance in the transcribed audio, from its start.
	Start, End time.Duration
	// Track is who spoke: "caller" (the remote party's audio).
	Track string
}

// Name is the reference platforms' event name.
func (Transcript) Name() string { return "call.transcription" }

// Transcription is a running transcription; see Call.Transcribe.
type Transcription struct {
	c        *Call
	sess     stt.Session
	unlisten func()
	done     chan struct{}

	stopOnce sync.Once
	mu       sync.Mutex
	err      error
	finals   []Transcript
}

// Transcribe starts transcribing the caller's speech: partial and final results arrive
// as Transcript events (call.transcription) until Stop or the end of the call, and the
// final ones are kept on the handle. The recognizer runs on the handle's own goroutine,
// fed from the call's audio fan-out, so it never holds up the media path.
func (c *Call) Transcribe(ctx context.Context, opts TranscribeOptions) (*Transcription, error) {
	rec := opts.Recognizer
	if rec == nil {
		rec = c.cfg.STT
	}
	if rec == nil {
		return nil, ErrNoRecognizer
	}
	if _, err := c.Media(); err != nil {
		return nil, err
	}
	rate := opts.SampleRate
	if rate == 0 {
		rate = 16000
	}
	sess, err := rec.Start(c.ctx, stt.Config{
		SampleRate: rate, Language: opts.Language, Hints: opts.Hints, Grammar: opts.Grammar,
		Keywords: opts.Keywords, EndSilence: opts.EndSilence,
	})
	if err != nil {
		return nil, fmt.Errorf("call: transcribe: %w", err)
	}
	t := &Transcription{c: c, sess: sess, done: make(chan struct{})}
	if t.unlisten, err = c.Listen(sess); err != nil {
		sess.Close()
		return nil, fmt.Errorf("call: transcribe: %w", err)
	}
	c.wg.Add(1)
	go t.run()
	context.AfterFunc(c.ctx, func() { _ = t.Stop() })
	return t, nil
}

func (t *Transcription) run() {
	defer t.c.wg.Done()
	defer close(t.done)
	for {
		res, err := t.sess.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) && t.c.ctx.Err() == nil {
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
			}
			return
		}
		ev := Transcript{base: now(), Text: res.Text, Final: res.Final, Confidence: res.Confidence,
			Start: res.Start, End: res.End, Track: "caller"}
		if res.Final {
			t.mu.Lock()
			t.finals = append(t.finals, ev)
			t.mu.Unlock()
		}
		t.c.events.push(ev)
	}
}

// Stop ends the transcription: no more audio goes to the recognizer, results for what
// was already said are still delivered, and Stop returns once they have been. It is
// idempotent and returns the recognizer's error, if any.
func (t *Transcription) Stop() error {
	t.stopOnce.Do(func() {
		t.unlisten()
		_ = t.sess.Close()
	})
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Finals returns the final transcripts so far, in order.
func (t *Transcription) Finals() []Transcript {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Transcript(nil), t.finals...)
}
