package switchboard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// Speech Gathers on loopback calls, with a scripted recognizer (stttest.Script, which
// gives the n-th stretch of sound the n-th scripted transcript): the caller's audio is
// real speech (flite), so the Gather's voice activity detection sees what it would see
// on a phone line, and the outcome does not depend on a speech engine.

var menuPhrases = []string{"one", "two", "three", "time", "message", "goodbye"}

// scripted is a BySpeech script that says texts, one per stretch of sound, with
// partial results.
func scripted(texts ...string) *stttest.Script {
	s := &stttest.Script{Trigger: stttest.BySpeech, Partials: true}
	for _, x := range texts {
		s.Utterances = append(s.Utterances, stttest.Utterance{Text: x, Confidence: 0.75})
	}
	return s
}

// speechOpts is a menu Gather by speech and keys with short timers.
func speechOpts(rec stt.Recognizer) call.GatherOptions {
	return call.GatherOptions{
		Input:     call.InputBoth,
		MaxDigits: 1, ValidDigits: "123",
		Speech: call.SpeechOptions{
			Recognizer: rec, Phrases: menuPhrases,
			EndSilence: 300 * time.Millisecond, NoInputTimeout: 3 * time.Second,
		},
	}
}

// sayLater plays a WAV file into the call after a pause: the Gather's voice activity
// detector takes the first 100 ms it hears for the line's noise, so speech that is
// already under way when a Gather starts is not seen to start.
// The returned channel is closed once the whole file is queued for playout.
func sayLater(t *testing.T, c *call.Call, path string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(300 * time.Millisecond)
		playFile(t, c, path)
	}()
	return done
}

// waitPlayout waits until what was written into c's playout queue has been sent.
func waitPlayout(t *testing.T, ctx context.Context, c *call.Call) {
	t.Helper()
	m, err := c.Media()
	require.NoError(t, err)
	require.NoError(t, m.WaitPlayout(ctx))
}

func gatherEnded(e call.Event) bool { _, ok := e.(call.GatherEnded); return ok }

func TestSpeechGatherScripted(t *testing.T) {
	t.Parallel() // mostly waiting on real time
	synth := &ttstest.Tone{Word: 300 * time.Millisecond}
	vc := verbsDial(t, switchboard.Config{TTS: synth}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	two := fliteWAV(t, "slt", "two")
	sentence := fliteWAV(t, "slt", "I would like to leave a message for the billing department please")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// since returns a function that waits for the first event from now on that
	// matches.
	since := func() func(func(call.Event) bool) call.Event {
		n := len(vc.events.snapshot())
		return func(match func(call.Event) bool) call.Event {
			var found call.Event
			require.Eventually(t, func() bool {
				for _, e := range vc.events.snapshot()[n:] {
					if match(e) {
						found = e
						return true
					}
				}
				return false
			}, 10*time.Second, 5*time.Millisecond)
			return found
		}
	}

	t.Run("speech wins and interrupts the prompt", func(t *testing.T) {
		script := scripted("two")
		wait := since()
		o := speechOpts(script)
		o.Prompt = call.Prompt{Text: "say or press one for the time two to leave a message three to hang up"}
		go func() {
			tap.waitLoud(t, tap.mark()) // the prompt is playing
			playFile(t, vc.caller, two)
		}()
		res, err := vc.callee.Gather(ctx, o)
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Transcript: "two", Confidence: 0.75, Phrase: "two",
			Status: call.GatherValid, Reason: call.GatherBySpeechEnd, Attempts: 1}, res)
		assert.Equal(t, res, wait(gatherEnded).(call.GatherEnded).Result, "call.gather.ended carries the result")
		spoke := wait(func(e call.Event) bool { _, ok := e.(call.SpeakEnded); return ok }).(call.SpeakEnded)
		assert.Equal(t, call.PlaybackInterrupted, spoke.Status)
		var ie *call.InterruptError
		require.ErrorAs(t, spoke.Err, &ie)
		assert.Equal(t, "speech", ie.By, "the start of speech stopped the prompt")
		// The recognizer got the call's narrowband audio and a grammar of the phrases.
		starts := script.Starts()
		require.Len(t, starts, 1)
		assert.Equal(t, 8000, starts[0].SampleRate)
		g, err := stt.WordListGrammar(menuPhrases...)
		require.NoError(t, err)
		assert.Equal(t, g, starts[0].Grammar)
		assert.Equal(t, 300*time.Millisecond, starts[0].EndSilence)
	})

	t.Run("dtmf wins and speech after it is ignored", func(t *testing.T) {
		o := speechOpts(scripted("one"))
		o.MaxDigits, o.ValidDigits, o.InterDigitTimeout = 3, "", 5*time.Second
		go func() {
			_ = vc.caller.SendDTMF(ctx, "3", 80*time.Millisecond)
			playFile(t, vc.caller, two)
			waitPlayout(t, ctx, vc.caller)
			time.Sleep(time.Second) // past the end of the speech, plus its end silence
			_ = vc.caller.SendDTMF(ctx, "#", 80*time.Millisecond)
		}()
		res, err := vc.callee.Gather(ctx, o)
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Digits: "3", Status: call.GatherValid, Reason: call.GatherByTerminator, Attempts: 1}, res)
	})

	t.Run("no input", func(t *testing.T) {
		o := speechOpts(scripted("one"))
		o.Input = call.InputSpeech
		o.Speech.NoInputTimeout = 500 * time.Millisecond
		res, err := vc.callee.Gather(ctx, o)
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Status: call.GatherTimeout, Reason: call.GatherByNoInputTimeout, Attempts: 1}, res)
	})

	t.Run("transcript outside the phrases is invalid, then a valid one", func(t *testing.T) {
		wait := since()
		// Each attempt has a session of its own, and each session plays its script
		// from the start; the second attempt gets a recognizer that hears "time".
		rec := &perAttempt{scripts: []*stttest.Script{scripted("banana"), scripted("the time")}}
		o := speechOpts(rec)
		o.MaxAttempts = 2
		o.InvalidPrompt = call.Prompt{Text: "sorry"}
		go func() {
			time.Sleep(300 * time.Millisecond)
			playFile(t, vc.caller, two)
			// The second attempt starts once the invalid prompt has played.
			wait(func(e call.Event) bool { s, ok := e.(call.SpeakEnded); return ok && s.Text == "sorry" })
			time.Sleep(300 * time.Millisecond)
			playFile(t, vc.caller, two)
		}()
		res, err := vc.callee.Gather(ctx, o)
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Transcript: "the time", Confidence: 0.75, Phrase: "time",
			Status: call.GatherValid, Reason: call.GatherBySpeechEnd, Attempts: 2}, res)
	})

	t.Run("invalid transcript", func(t *testing.T) {
		sayLater(t, vc.caller, two)
		res, err := vc.callee.Gather(ctx, speechOpts(scripted("banana")))
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Transcript: "banana", Confidence: 0.75,
			Status: call.GatherInvalid, Reason: call.GatherBySpeechEnd, Attempts: 1}, res)
	})

	t.Run("sound without words", func(t *testing.T) {
		sayLater(t, vc.caller, two)
		res, err := vc.callee.Gather(ctx, speechOpts(scripted("")))
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Status: call.GatherInvalid, Reason: call.GatherByNoMatch, Attempts: 1}, res)
	})

	t.Run("max speech time", func(t *testing.T) {
		o := speechOpts(scripted("i would like to leave a message for the billing department please"))
		o.Speech.MaxSpeechTime = time.Second
		queued := sayLater(t, vc.caller, sentence)
		res, err := vc.callee.Gather(ctx, o)
		require.NoError(t, err)
		// The scripted final is released early, by the Gather ending the utterance,
		// and holds "message".
		assert.Equal(t, call.GatherValid, res.Status)
		assert.Equal(t, call.GatherByMaxSpeechTime, res.Reason)
		assert.Equal(t, "message", res.Phrase)
		<-queued
		waitPlayout(t, ctx, vc.caller) // the rest of the sentence, before the next case
		time.Sleep(500 * time.Millisecond)
	})

	t.Run("recognizer without grammars gets the phrases as hints", func(t *testing.T) {
		script := scripted("i want two please")
		sayLater(t, vc.caller, two)
		res, err := vc.callee.Gather(ctx, speechOpts(noGrammar{script}))
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Transcript: "i want two please", Confidence: 0.75, Phrase: "two",
			Status: call.GatherValid, Reason: call.GatherBySpeechEnd, Attempts: 1}, res)
		starts := script.Starts()
		require.Len(t, starts, 1)
		assert.Empty(t, starts[0].Grammar)
		assert.Equal(t, menuPhrases, starts[0].Hints)
	})

	t.Run("engine that does not end utterances", func(t *testing.T) {
		// Its final result comes only when the Gather ends the utterance, once the
		// caller has been quiet for a while.
		sayLater(t, vc.caller, two)
		res, err := vc.callee.Gather(ctx, speechOpts(heldFinals{scripted("two")}))
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Transcript: "two", Confidence: 0.75, Phrase: "two",
			Status: call.GatherValid, Reason: call.GatherBySpeechEnd, Attempts: 1}, res)
	})

	t.Run("engine that hears nothing", func(t *testing.T) {
		sayLater(t, vc.caller, two)
		res, err := vc.callee.Gather(ctx, speechOpts(deaf{}))
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Status: call.GatherInvalid, Reason: call.GatherByNoMatch, Attempts: 1}, res)
	})

	t.Run("engine failure", func(t *testing.T) {
		res, err := vc.callee.Gather(ctx, speechOpts(crashing{}))
		assert.ErrorIs(t, err, errCrashed)
		assert.Equal(t, call.GatherFailed, res.Status)
		assert.Equal(t, call.GatherBySTTError, res.Reason)
		assert.Equal(t, call.StateAnswered, vc.callee.State(), "the call goes on")
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, ccancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer ccancel()
		res, err := vc.callee.Gather(cctx, speechOpts(scripted("one")))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, call.GatherCancelled, res.Status)
		assert.Equal(t, call.StateAnswered, vc.callee.State(), "the call goes on")
	})

	t.Run("errors", func(t *testing.T) {
		_, err := vc.callee.Gather(ctx, call.GatherOptions{Input: call.InputSpeech})
		assert.ErrorIs(t, err, call.ErrNoRecognizer, "no Config.STT and no override")
		o := speechOpts(scripted("one"))
		o.Speech.SampleRate = 11025
		_, err = vc.callee.Gather(ctx, o)
		assert.ErrorIs(t, err, call.ErrInvalidOptions)
		o = speechOpts(scripted("one"))
		o.Speech.Phrases = []string{"one", "two!"}
		_, err = vc.callee.Gather(ctx, o)
		assert.ErrorIs(t, err, call.ErrInvalidOptions)
		assert.ErrorIs(t, err, stt.ErrGrammar)
		_, err = vc.callee.Gather(ctx, call.GatherOptions{Input: 8})
		assert.ErrorIs(t, err, call.ErrInvalidOptions)
		res, err := vc.callee.Gather(ctx, speechOpts(failing{}))
		assert.ErrorIs(t, err, stt.ErrUnsupported)
		assert.Equal(t, call.GatherFailed, res.Status)
		assert.Equal(t, call.GatherBySTTError, res.Reason)
	})
}

// The recognizer comes from the Switchboard's Config.STT; the caller hangs up while
// speaking: the Gather ends with call_hangup and what was heard so far, and its
// call.gather.ended comes before call.hangup.
func TestSpeechGatherHangup(t *testing.T) {
	t.Parallel()
	script := scripted("i would like to leave a message for the billing department please")
	vc := verbsDial(t, switchboard.Config{STT: script, Codecs: media.CodecSet{media.G722()}}, switchboard.Config{Codecs: media.CodecSet{media.G722()}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sentence := fliteWAV(t, "slt", "I would like to leave a message for the billing department please")
	sayLater(t, vc.caller, sentence)
	go func() {
		time.Sleep(1800 * time.Millisecond) // mid-sentence
		_ = vc.caller.Hangup(ctx, 0)
	}()
	res, err := vc.callee.Gather(ctx, call.GatherOptions{Input: call.InputSpeech, Speech: call.SpeechOptions{Phrases: menuPhrases}})
	assert.ErrorIs(t, err, call.ErrCallEnded)
	assert.Equal(t, call.GatherCallHangup, res.Status)
	assert.Equal(t, call.GatherByHangup, res.Reason)
	assert.NotEmpty(t, res.Transcript, "the partial transcript heard before the hangup")
	assert.Equal(t, 16000, script.Starts()[0].SampleRate, "wideband audio at its own rate")

	vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.Hangup); return ok })
	names := vc.events.names(func(e call.Event) bool {
		switch e.(type) {
		case call.GatherEnded, call.Hangup:
			return true
		}
		return false
	})
	assert.Equal(t, []string{"call.gather.ended", "call.hangup"}, names)
	for _, e := range vc.events.snapshot() {
		if g, ok := e.(call.GatherEnded); ok {
			assert.Equal(t, call.GatherCallHangup, g.Result.Status)
			assert.Equal(t, res.Transcript, g.Result.Transcript)
		}
	}
}

// perAttempt gives each session the next script (the last one again when they run
// out).
type perAttempt struct {
	scripts []*stttest.Script
	n       int
}

func (p *perAttempt) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	s := p.scripts[min(p.n, len(p.scripts)-1)]
	p.n++
	return s.Start(ctx, cfg)
}

// noGrammar is a recognizer that cannot take grammars.
type noGrammar struct{ *stttest.Script }

func (r noGrammar) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	if cfg.Grammar != "" {
		return nil, fmt.Errorf("no grammars here: %w", stt.ErrUnsupported)
	}
	return r.Script.Start(ctx, cfg)
}

// failing is a recognizer that refuses every session.
type failing struct{}

func (failing) Start(context.Context, stt.Config) (stt.Session, error) {
	return nil, fmt.Errorf("engine down: %w", stt.ErrUnsupported)
}

// heldFinals is a recognizer whose sessions hold their final results back until they
// are closed, like an engine that leaves ending utterances to its user.
type heldFinals struct{ stt.Recognizer }

func (h heldFinals) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	s, err := h.Recognizer.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &heldSession{Session: s}, nil
}

type heldSession struct {
	stt.Session
	closed atomic.Bool
	// Touched by Recv only.
	held  []stt.Result
	after error // what the inner session returned once held results were due
}

func (s *heldSession) Recv() (stt.Result, error) {
	for {
		if s.after != nil || s.closed.Load() {
			if len(s.held) > 0 {
				r := s.held[0]
				s.held = s.held[1:]
				return r, nil
			}
			if s.after != nil {
				return stt.Result{}, s.after
			}
		}
		r, err := s.Session.Recv()
		switch {
		case err != nil:
			s.after = err
		case r.Final:
			s.held = append(s.held, r) // returned once closed
		default:
			return r, nil
		}
	}
}

func (s *heldSession) Close() error {
	s.closed.Store(true)
	return s.Session.Close()
}

// deaf is a recognizer whose sessions never return a result.
type deaf struct{}

func (deaf) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	return &deafSession{ctx: ctx, rate: cfg.SampleRate, closed: make(chan struct{})}, nil
}

type deafSession struct {
	ctx    context.Context
	rate   int
	once   sync.Once
	closed chan struct{}
}

func (s *deafSession) SampleRate() int              { return s.rate }
func (s *deafSession) WriteFrame(media.Frame) error { return nil }
func (s *deafSession) Close() error                 { s.once.Do(func() { close(s.closed) }); return nil }
func (s *deafSession) Recv() (stt.Result, error) {
	select {
	case <-s.closed:
		return stt.Result{}, io.EOF
	case <-s.ctx.Done():
		return stt.Result{}, s.ctx.Err()
	}
}

var errCrashed = errors.New("engine crashed")

// crashing is a recognizer whose sessions fail at once.
type crashing struct{ deaf }

func (c crashing) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	s, _ := c.deaf.Start(ctx, cfg)
	return crashingSession{s.(*deafSession)}, nil
}

type crashingSession struct{ *deafSession }

func (crashingSession) Recv() (stt.Result, error) { return stt.Result{}, errCrashed }
