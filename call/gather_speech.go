package call

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/switchboard-go/switchboard/media/vad"
	"github.com/switchboard-go/switchboard/stt"
)

// GatherInput says what a Gather accepts as an answer: keys, speech, or both.
type GatherInput uint8

// Gather inputs.
const (
	// InputDTMF accepts keys (RFC 4733, SIP INFO, in-band). The zero value of
	// GatherOptions.Input means InputDTMF.
	InputDTMF GatherInput = 1 << iota
	// InputSpeech accepts spoken answers, recognised by an stt.Recognizer.
	InputSpeech
	// InputBoth accepts either; the first to come wins the attempt and the other is
	// ignored until the attempt ends.
	InputBoth = InputDTMF | InputSpeech
)

// String names the input: "dtmf", "speech", "dtmf+speech".
func (i GatherInput) String() string {
	switch i {
	case InputDTMF:
		return "dtmf"
	case InputSpeech:
		return "speech"
	case InputBoth:
		return "dtmf+speech"
	default:
		return fmt.Sprintf("GatherInput(%d)", uint8(i))
	}
}

// DefaultMaxSpeechTime is SpeechOptions.MaxSpeechTime when it is zero.
const DefaultMaxSpeechTime = 20 * time.Second

// speechGrace is how long a Gather waits for the recognizer's final result after the
// caller has stopped speaking (by its own voice activity detector) and, once more,
// after ending the utterance itself, before it goes on without it. An engine that ends
// utterances on its own (stt/pocketsphinx does, within about 0.1 s of the same end of
// speech) never gets near it; it bounds the wait on one that does not.
const speechGrace = time.Second

// SpeechOptions configure speech input for a Gather. The zero value recognises free
// speech with the call's recognizer and accepts any non-empty transcript.
type SpeechOptions struct {
	// Recognizer overrides Config.STT (switchboard.Config.STT) for this Gather.
	Recognizer stt.Recognizer
	// Language is a BCP 47 tag such as "en-US"; empty means the recognizer's default.
	Language string
	// Hints are words or phrases likely to be said (see stt.Config.Hints).
	Hints []string
	// Phrases are the accepted answers, e.g. "sales", "technical support". With
	// Phrases, speech is valid only when the transcript is one of them or holds one as
	// whole words (the first to occur, the longest of those starting there); Phrase in
	// the result says which. Unless Grammar or Keywords is set, the recognizer is given
	// stt.WordListGrammar(Phrases...) to listen for them only, or the phrases as Hints
	// if it cannot take grammars (its Start fails with stt.ErrUnsupported). Each word
	// may hold letters, digits and apostrophes.
	Phrases []string
	// Grammar restricts recognition to a JSGF grammar (stt.DigitsGrammar,
	// stt.YesNoGrammar, stt.WordListGrammar or hand-written; see stt.Config.Grammar).
	Grammar string
	// Keywords switch the recognizer to keyword spotting (see stt.Config.Keywords).
	Keywords []string
	// NoInputTimeout is how long to wait, once the prompt has ended, for the caller to
	// start speaking (or, with InputBoth, to press a key). Zero means the Gather's
	// FirstDigitTimeout (5 s by default); negative waits without limit (Timeout still
	// bounds the attempt).
	NoInputTimeout time.Duration
	// MaxSpeechTime bounds an answer from the start of speech: the utterance is then
	// ended and what was recognised of it is the answer. Zero means
	// DefaultMaxSpeechTime (20 s); negative means no limit.
	MaxSpeechTime time.Duration
	// EndSilence is how long the caller must be quiet for an answer to be complete.
	// Zero means stt.DefaultEndSilence (600 ms). It is most of the delay between the
	// caller's last word and the result: shorter answers sooner, but may cut an answer
	// at a pause.
	EndSilence time.Duration
	// SampleRate is the rate of the audio the recognizer gets: 8000 or 16000. Zero
	// means the call's rate when it is one of those (8000 for G.711, 16000 for G.722),
	// 16000 otherwise. Telephone-band audio given at 8000 lets an engine apply its
	// narrowband settings (stt/pocketsphinx does); upsampling it adds nothing.
	SampleRate int
}

// withDefaults checks the options and fills in the defaults; firstDigit is the
// Gather's FirstDigitTimeout after its own default.
func (o SpeechOptions) withDefaults(firstDigit time.Duration) (SpeechOptions, error) {
	if o.NoInputTimeout == 0 {
		o.NoInputTimeout = firstDigit
	}
	if o.MaxSpeechTime == 0 {
		o.MaxSpeechTime = DefaultMaxSpeechTime
	}
	switch {
	case o.SampleRate != 0 && o.SampleRate != 8000 && o.SampleRate != 16000:
		return o, fmt.Errorf("%w: Speech.SampleRate %d (want 8000 or 16000)", ErrInvalidOptions, o.SampleRate)
	case o.Grammar != "" && len(o.Keywords) > 0:
		return o, fmt.Errorf("%w: Speech has both Grammar and Keywords", ErrInvalidOptions)
	case o.EndSilence < 0:
		return o, fmt.Errorf("%w: Speech.EndSilence %v", ErrInvalidOptions, o.EndSilence)
	}
	if len(o.Phrases) > 0 {
		if _, err := stt.WordListGrammar(o.Phrases...); err != nil {
			return o, fmt.Errorf("%w: Speech.Phrases: %w", ErrInvalidOptions, err)
		}
	}
	return o, nil
}

// speechSource returns what starts recognition for each attempt of a Gather: the
// recognizer is Speech.Recognizer or Config.STT, fed the caller's audio at the
// options' rate.
func (c *Call) speechSource(o SpeechOptions) (func(context.Context) (*speechInput, error), error) {
	rec := o.Recognizer
	if rec == nil {
		rec = c.cfg.STT
	}
	if rec == nil {
		return nil, fmt.Errorf("call: gather: %w", ErrNoRecognizer)
	}
	s, err := c.Media()
	if err != nil {
		return nil, fmt.Errorf("call: gather: speech: %w", err)
	}
	rate := o.SampleRate
	if rate == 0 {
		rate = s.SampleRate()
		if rate != 8000 && rate != 16000 {
			rate = 16000
		}
	}
	return func(ctx context.Context) (*speechInput, error) {
		return c.startSpeech(ctx, rec, o, rate)
	}, nil
}

// speechInput is one attempt's speech recognition: voice activity events from the
// call's audio goroutine, and the recognizer's results from a goroutine of its own.
type speechInput struct {
	// vad gets vad.SpeechStart and vad.SpeechEnd as the caller starts and stops
	// speaking (by the same detector as the barge-in of Play and Speak).
	vad <-chan vad.EventType
	// results gets each result the recognizer returns, then one with err set (io.EOF
	// when the session ended normally), and nothing more.
	results <-chan speechResult
	// finish ends the audio: the utterance in progress is finished and its final
	// result comes on results. Idempotent.
	finish func()
	// stop ends recognition without waiting for results and waits for the goroutine.
	// Idempotent; every started speechInput is stopped.
	stop func()
}

type speechResult struct {
	res stt.Result
	err error
}

// startSpeech opens a recognition session, puts a voice activity detector and the
// session on the call's audio, and drains the session on a goroutine that stop waits
// for.
func (c *Call) startSpeech(ctx context.Context, rec stt.Recognizer, o SpeechOptions, rate int) (*speechInput, error) {
	cfg := stt.Config{
		SampleRate: rate, Language: o.Language, Hints: o.Hints, Grammar: o.Grammar,
		Keywords: o.Keywords, EndSilence: o.EndSilence,
	}
	derived := false
	if len(o.Phrases) > 0 && cfg.Grammar == "" && len(cfg.Keywords) == 0 {
		g, err := stt.WordListGrammar(o.Phrases...)
		if err != nil {
			return nil, fmt.Errorf("call: gather: speech: %w", err)
		}
		cfg.Grammar, derived = g, true
	}
	sctx, cancel := context.WithCancel(ctx)
	sess, err := rec.Start(sctx, cfg)
	if err != nil && derived && errors.Is(err, stt.ErrUnsupported) {
		// No grammars here: listen for anything, hinted, and match the phrases after.
		cfg.Grammar = ""
		cfg.Hints = append(slices.Clip(cfg.Hints), o.Phrases...)
		sess, err = rec.Start(sctx, cfg)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("call: gather: speech: %w", err)
	}
	vadC := make(chan vad.EventType, 16)
	w, err := vad.NewWriter(sess, vad.Config{
		Hangover: cfg.EndSilenceOrDefault(),
		OnEvent: func(e vad.Event) {
			// On the audio goroutine: never block. The loop reads these at once; a
			// full buffer means it has ended and no longer cares.
			select {
			case vadC <- e.Type:
			default:
			}
		},
	})
	if err != nil {
		cancel()
		_ = sess.Close()
		return nil, fmt.Errorf("call: gather: speech: %w", err)
	}
	unlisten, err := c.Listen(w)
	if err != nil {
		cancel()
		_ = sess.Close()
		return nil, fmt.Errorf("call: gather: speech: %w", err)
	}
	results := make(chan speechResult)
	quit := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			r, err := sess.Recv()
			select {
			case results <- speechResult{r, err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var finishOnce, stopOnce sync.Once
	return &speechInput{
		vad:     vadC,
		results: results,
		finish: func() {
			finishOnce.Do(func() {
				unlisten()
				_ = sess.Close()
			})
		},
		stop: func() {
			stopOnce.Do(func() {
				unlisten()
				cancel() // pending results are not wanted: Close need not decode them
				_ = sess.Close()
				close(quit)
				<-drained
			})
		},
	}, nil
}

// runSpeechAttempt is one attempt of a Gather that takes speech (and perhaps keys): the
// prompts on their goroutine, recognition on its own, and digits, voice activity,
// results and timers here, in one loop around the pure speechMachine.
func runSpeechAttempt(ctx context.Context, o GatherOptions, env gatherEnv, prompts []Prompt, attempt int) (GatherResult, error) {
	m := newSpeechMachine(o)
	in, err := env.speech(ctx)
	if err != nil {
		return m.end(GatherFailed, GatherBySTTError), err
	}
	defer in.stop()
	promptDone, stopPrompt, endPrompt := startPrompts(ctx, env, prompts)
	defer endPrompt()
	if promptDone == nil {
		m.promptEnded(time.Now())
	}
	vadC, results := in.vad, in.results
	progress := func() {
		r := m.result()
		r.Attempts = attempt
		env.progress(r)
	}

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var timerC <-chan time.Time
		if at, ok := m.deadline(); ok {
			timer.Reset(time.Until(at))
			timerC = timer.C
		}
		started := m.started
		select {
		case d := <-env.digits:
			ended, first := m.digit(d.Digit, time.Now())
			if !started && m.started {
				stopPrompt(&InterruptError{By: "dtmf", Digit: d.Digit})
			}
			if first {
				// Keys won: the recognizer is not needed any more.
				in.stop()
				vadC, results = nil, nil
			}
			progress()
			if ended {
				return m.result(), nil
			}
		case ev := <-vadC:
			if ev == vad.SpeechStart {
				m.speechStarted(time.Now())
			} else {
				m.speechEnded(time.Now())
			}
			if !started && m.started {
				stopPrompt(&InterruptError{By: "speech"})
			}
		case r := <-results:
			now := time.Now()
			if r.err != nil {
				results = nil
				if ctx.Err() != nil {
					continue // reported by the ctx case
				}
				if m.sessionEnded(r.err, now) {
					switch {
					case m.status != GatherFailed:
					case errors.Is(r.err, io.EOF):
						return m.result(), fmt.Errorf("call: gather: speech: the recognizer ended the session: %w", io.ErrUnexpectedEOF)
					default:
						return m.result(), fmt.Errorf("call: gather: speech: %w", r.err)
					}
					return m.result(), nil
				}
				continue
			}
			var ended bool
			if r.res.Final {
				ended = m.final(r.res, now)
			} else {
				m.partial(r.res, now)
			}
			if !started && m.started {
				stopPrompt(&InterruptError{By: "speech"})
			}
			progress()
			if ended {
				return m.result(), nil
			}
		case err := <-promptDone:
			promptDone = nil
			if st, why, err := promptOutcome(ctx, err, m.started); err != nil {
				return m.end(st, why), err
			}
			m.promptEnded(time.Now())
		case now := <-timerC:
			ended, finish := m.expire(now)
			if finish {
				in.finish()
			}
			if ended {
				return m.result(), nil
			}
		case <-ctx.Done():
			return m.end(GatherCancelled, GatherByCancel), ctx.Err()
		case <-env.ended:
			return m.end(GatherCallHangup, GatherByHangup), ErrCallEnded
		}
	}
}

// speechMachine is one attempt of a Gather that takes speech, and keys with InputBoth,
// as a pure function of its inputs: keys, voice activity, the recognizer's results
// and the passing of time.
//
// Input starts when the prompt ends or the caller interrupts it (a key, speech). Until
// then no timer runs. Then the caller has NoInputTimeout to start; once speech has
// started it may last MaxSpeechTime. The first key makes keys win (the key machine
// takes over); the first recognised word makes speech win. Speech detected but not yet
// recognised wins nothing, so a key can still follow a cough. The answer is the final
// result of the first utterance with words. When the caller has been quiet for
// speechGrace without a final result, or a limit is reached, the machine asks for the
// utterance to be ended (finish) and waits speechGrace more for its result.
type speechMachine struct {
	o         GatherOptions
	phrases   [][]string    // Speech.Phrases, as words
	keys      gatherMachine // keys, once they have won
	won       GatherInput   // InputDTMF or InputSpeech once one has won
	started   bool          // input has started: the prompt ended or was interrupted
	from      time.Time     // when input started
	heard     bool          // the caller started speaking
	speechAt  time.Time     // when
	quietAt   time.Time     // when the caller stopped speaking, with no final result since; zero otherwise
	finishing bool          // the utterance was ended; waiting for its final result
	finishAt  time.Time
	why       GatherReason // what ended the utterance, when the machine did
	text      string       // the transcript: the last partial, then the final
	conf      float64
	phrase    string
	status    GatherStatus
	reason    GatherReason
}

func newSpeechMachine(o GatherOptions) *speechMachine {
	m := &speechMachine{o: o, keys: gatherMachine{o: o}}
	for _, p := range o.Speech.Phrases {
		m.phrases = append(m.phrases, normWords(p))
	}
	return m
}

// promptEnded starts the input phase at now.
func (m *speechMachine) promptEnded(now time.Time) {
	if !m.started {
		m.started, m.from = true, now
		m.keys.promptEnded(now)
	}
}

// digit takes a key pressed at now. It reports whether the attempt has ended, and
// whether this key made keys win (speech recognition can stop).
func (m *speechMachine) digit(d rune, now time.Time) (ended, first bool) {
	if m.status != "" {
		return true, false
	}
	if m.o.Input&InputDTMF == 0 || m.won == InputSpeech {
		return false, false
	}
	first = m.won == 0
	m.won = InputDTMF
	m.promptEnded(now)
	if m.keys.digit(d, now) {
		m.status, m.reason = m.keys.status, m.keys.reason
		return true, first
	}
	return false, first
}

// speechStarted: voice activity detection says the caller started speaking at now.
func (m *speechMachine) speechStarted(now time.Time) {
	if m.status != "" || m.won == InputDTMF {
		return
	}
	if !m.heard {
		m.heard, m.speechAt = true, now
	}
	m.quietAt = time.Time{}
	m.promptEnded(now)
}

// speechEnded: voice activity detection says the caller stopped speaking at now.
func (m *speechMachine) speechEnded(now time.Time) {
	if m.status != "" || m.won == InputDTMF || !m.heard || m.finishing {
		return
	}
	m.quietAt = now
}

// partial takes a partial result: words make speech win.
func (m *speechMachine) partial(r stt.Result, now time.Time) {
	if m.status != "" || m.won == InputDTMF {
		return
	}
	text := strings.Join(normWords(r.Text), " ")
	if text == "" {
		return
	}
	m.won = InputSpeech
	if !m.heard {
		m.heard, m.speechAt = true, now
	}
	m.promptEnded(now)
	m.text, m.conf = text, r.Confidence
}

// final takes a final result and reports whether the attempt has ended. A final result
// without words ends it (invalid, no_match) once the caller has been heard; before, it
// was noise the detector did not take for speech, and is ignored.
func (m *speechMachine) final(r stt.Result, now time.Time) bool {
	if m.status != "" {
		return true
	}
	if m.won == InputDTMF {
		return false
	}
	text := strings.Join(normWords(r.Text), " ")
	if text == "" {
		if !m.heard && !m.finishing && m.won == 0 {
			return false
		}
		m.text, m.conf = "", 0
		m.end(GatherInvalid, GatherByNoMatch)
		return true
	}
	m.won = InputSpeech
	m.promptEnded(now)
	m.text, m.conf = text, r.Confidence
	m.decide()
	return true
}

// decide ends the attempt on m.text: valid when it is (or holds) an accepted phrase.
func (m *speechMachine) decide() {
	why := m.why
	if why == "" {
		why = GatherBySpeechEnd
	}
	if len(m.phrases) == 0 {
		m.end(GatherValid, why)
		return
	}
	if p, ok := matchPhrase(normWords(m.text), m.phrases); ok {
		m.phrase = p
		m.end(GatherValid, why)
		return
	}
	m.end(GatherInvalid, why)
}

// sessionEnded takes the end of the recognizer's results (err is io.EOF when the
// session ended normally) and reports whether the attempt has ended.
func (m *speechMachine) sessionEnded(err error, now time.Time) bool {
	if m.status != "" {
		return true
	}
	if m.won == InputDTMF {
		return false
	}
	switch {
	case !errors.Is(err, io.EOF):
		m.end(GatherFailed, GatherBySTTError)
	case m.finishing || m.heard:
		m.settle()
	default:
		// The engine ended the session on its own, with nothing heard.
		m.end(GatherFailed, GatherBySTTError)
	}
	return true
}

// settle ends an attempt whose final result did not come: the last partial result is
// the answer, if there was one.
func (m *speechMachine) settle() {
	if m.text != "" {
		m.decide()
		return
	}
	m.end(GatherInvalid, GatherByNoMatch)
}

// deadline is when the next timer expires; false when none runs.
func (m *speechMachine) deadline() (time.Time, bool) {
	at, _, ok := m.next()
	return at, ok
}

func (m *speechMachine) next() (time.Time, GatherReason, bool) {
	if m.status != "" {
		return time.Time{}, "", false
	}
	if m.won == InputDTMF {
		return m.keys.next()
	}
	if m.finishing {
		return m.finishAt.Add(speechGrace), GatherByNoMatch, true
	}
	if !m.started {
		return time.Time{}, "", false
	}
	var dl earliest
	if !m.heard {
		dl.consider(m.from, m.o.Speech.NoInputTimeout, GatherByNoInputTimeout)
	} else {
		dl.consider(m.speechAt, m.o.Speech.MaxSpeechTime, GatherByMaxSpeechTime)
		if !m.quietAt.IsZero() {
			dl.consider(m.quietAt, speechGrace, GatherBySpeechEnd)
		}
	}
	dl.consider(m.from, m.o.Timeout, GatherByTimeout)
	return dl.at, dl.why, dl.why != ""
}

// expire handles a timer that may have expired at now. It reports whether the attempt
// has ended, and whether the utterance must be ended (finish) to get its result.
func (m *speechMachine) expire(now time.Time) (ended, finish bool) {
	if m.status != "" {
		return true, false
	}
	at, why, ok := m.next()
	if !ok || now.Before(at) {
		return false, false
	}
	if m.won == InputDTMF {
		if m.keys.expire(now) {
			m.status, m.reason = m.keys.status, m.keys.reason
			return true, false
		}
		return false, false
	}
	switch {
	case m.finishing:
		m.settle()
		return true, false
	case !m.heard:
		m.end(GatherTimeout, why)
		return true, false
	}
	m.finishing, m.finishAt, m.why = true, now, why
	return false, true
}

// end ends the attempt (unless it has ended) and returns the result.
func (m *speechMachine) end(s GatherStatus, r GatherReason) GatherResult {
	if m.status == "" {
		m.status, m.reason = s, r
		if m.won == InputDTMF {
			m.keys.end(s, r)
		}
	}
	return m.result()
}

func (m *speechMachine) result() GatherResult {
	if m.won == InputDTMF {
		r := m.keys.result()
		r.Status, r.Reason = m.status, m.reason
		return r
	}
	return GatherResult{Transcript: m.text, Confidence: m.conf, Phrase: m.phrase, Status: m.status, Reason: m.reason}
}

// normWords splits a transcript into lower-case words without surrounding punctuation
// ("Sales." is "sales"), as engines that punctuate write them.
func normWords(s string) []string {
	var words []string
	for w := range strings.FieldsSeq(strings.ToLower(s)) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

// matchPhrase finds the phrase that words hold as a run of whole words: the one that
// starts first, and the longest of those. It returns the phrase as normalised words
// joined by spaces.
func matchPhrase(words []string, phrases [][]string) (string, bool) {
	for i := range words {
		best := -1
		for k, p := range phrases {
			if len(p) > 0 && i+len(p) <= len(words) && slices.Equal(words[i:i+len(p)], p) && (best < 0 || len(p) > len(phrases[best])) {
				best = k
			}
		}
		if best >= 0 {
			return strings.Join(phrases[best], " "), true
		}
	}
	return "", false
}
