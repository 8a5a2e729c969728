package call

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// NoTerminator, as GatherOptions.TerminatingDigit, means no key ends the input.
const NoTerminator rune = -1

// Gather defaults (those of the reference platforms).
const (
	DefaultMaxDigits         = 128
	DefaultValidDigits       = "0123456789#*"
	DefaultTerminatingDigit  = '#'
	DefaultFirstDigitTimeout = 5 * time.Second
	DefaultInterDigitTimeout = 5 * time.Second
	DefaultGatherTimeout     = 60 * time.Second
)

// Prompt is what a Gather plays to ask for input: Text spoken with Speak, or Play
// options. The zero value plays nothing. The prompt's BargeIn is ignored: the first
// digit (and, when the Gather takes speech, the start of speech) always interrupts a
// Gather's prompts.
type Prompt struct {
	// Text is spoken (Speak) with the Speak options.
	Text  string
	Speak SpeakOptions
	// Play is played instead when Text is empty.
	Play *PlayOptions
}

func (p Prompt) empty() bool { return p.Text == "" && p.Play == nil }

// GatherOptions tune Gather. The zero value of each field selects the documented
// default; negative durations disable that timeout.
type GatherOptions struct {
	// Input says what the caller may answer with: InputDTMF (the zero value), InputSpeech
	// or InputBoth (whichever comes first wins; the other is then ignored).
	Input GatherInput
	// Speech configures speech input (when Input includes InputSpeech).
	Speech SpeechOptions
	// Prompt is played at the start of each attempt; the first digit, or the start of
	// speech, stops it. Digits pressed and words said while it plays count.
	Prompt Prompt
	// InvalidPrompt is played before the next attempt after invalid input (a key not in
	// ValidDigits, too few digits, speech that matched none of Speech.Phrases or was
	// not recognised), as the reference platforms' invalid_payload.
	InvalidPrompt Prompt
	// MinDigits is the fewest digits of valid input. Zero means 1.
	MinDigits int
	// MaxDigits ends the input when reached. Zero means DefaultMaxDigits (128).
	MaxDigits int
	// ValidDigits are the keys accepted; another key ends the attempt as invalid. Empty
	// means DefaultValidDigits ("0123456789#*").
	ValidDigits string
	// TerminatingDigit ends the input and is not part of it. Zero means '#';
	// NoTerminator means none.
	TerminatingDigit rune
	// FirstDigitTimeout is how long to wait for the first digit once the prompt has
	// ended. Zero means 5 s.
	FirstDigitTimeout time.Duration
	// InterDigitTimeout is how long to wait for each next digit. Zero means 5 s.
	InterDigitTimeout time.Duration
	// Timeout bounds each attempt's input, from the end of its prompt. Zero means 60 s.
	Timeout time.Duration
	// MaxAttempts is how many times the prompt is played and input awaited while the
	// input is invalid or missing. Zero means 1.
	MaxAttempts int
}

// GatherStatus is the outcome of a Gather, as the status of the reference platforms'
// call.gather.ended event.
type GatherStatus string

// Gather statuses.
const (
	GatherValid      GatherStatus = "valid"       // enough digits, all valid; or an accepted transcript
	GatherInvalid    GatherStatus = "invalid"     // a key not in ValidDigits, too few digits; or speech not accepted
	GatherTimeout    GatherStatus = "timeout"     // no digit and no speech at all
	GatherCallHangup GatherStatus = "call_hangup" // the call ended first
	GatherCancelled  GatherStatus = "cancelled"   // ctx ended first
	GatherFailed     GatherStatus = "failed"      // a prompt could not be played, or the recognizer failed
)

// GatherReason says what ended the (last) attempt.
type GatherReason string

// Gather reasons.
const (
	GatherByTerminator        GatherReason = "terminator"
	GatherByMaxDigits         GatherReason = "max_digits"
	GatherByFirstDigitTimeout GatherReason = "first_digit_timeout"
	GatherByInterDigitTimeout GatherReason = "inter_digit_timeout"
	GatherByTimeout           GatherReason = "timeout"
	GatherByInvalidDigit      GatherReason = "invalid_digit"
	GatherByHangup            GatherReason = "call_hangup"
	GatherByCancel            GatherReason = "cancelled"
	GatherByPromptError       GatherReason = "prompt_error"
	// Speech input.
	GatherBySpeechEnd      GatherReason = "speech_end"       // the caller stopped speaking
	GatherByMaxSpeechTime  GatherReason = "max_speech_time"  // the answer ran for Speech.MaxSpeechTime
	GatherByNoInputTimeout GatherReason = "no_input_timeout" // no speech (or key) within Speech.NoInputTimeout
	GatherByNoMatch        GatherReason = "no_match"         // the recognizer heard sound but no words
	GatherBySTTError       GatherReason = "stt_error"        // the recognizer failed
)

// GatherResult is what Gather collected. When speech won the last attempt, Transcript
// holds it and Digits is empty; when keys won, the reverse.
type GatherResult struct {
	// Digits are the keys of the last attempt, without the terminating digit (an
	// invalid key is included, last).
	Digits string
	// Transcript is what the caller said in the last attempt, as the recognizer's
	// final result (lower-case words), or its last partial result when the final did
	// not come in time.
	Transcript string
	// Confidence is the recognizer's confidence in Transcript, 0..1, or 0 when the
	// engine gives none (stt/pocketsphinx gives none for grammar searches).
	Confidence float64
	// Phrase is the entry of Speech.Phrases that Transcript matched, if any.
	Phrase string
	Status GatherStatus
	Reason GatherReason
	// Attempts is how many attempts were made.
	Attempts int
}

// Gather collects DTMF digits (RFC 4733, SIP INFO and in-band alike), spoken answers
// (opts.Input, opts.Speech), or either, optionally after a prompt that the first digit
// or the start of speech interrupts. It returns the result with a nil error when the
// input is valid, invalid or missing after MaxAttempts (see Status and Reason); with
// ErrCallEnded (status call_hangup) when the call ended, ctx's error (status cancelled)
// when ctx ended, or the prompt's or recognizer's error (status failed). Speech input
// needs a recognizer (Speech.Recognizer or Config.STT; an error wrapping
// ErrNoRecognizer otherwise) and the call's media (ErrNotAnswered before). Each digit
// is also a call.dtmf.received event, and the result a call.gather.ended event (not
// for a Gather that could not start: an ended call, invalid options, no recognizer).
func (c *Call) Gather(ctx context.Context, opts GatherOptions) (GatherResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return GatherResult{}, err
	}
	if c.State() == StateEnded {
		return GatherResult{Status: GatherCallHangup, Reason: GatherByHangup}, ErrCallEnded
	}
	env := gatherEnv{ended: c.ctx.Done()}
	if o.Input&InputSpeech != 0 {
		if env.speech, err = c.speechSource(o.Speech); err != nil {
			return GatherResult{}, err
		}
	}
	if o.Input&InputDTMF != 0 {
		digits, unsubscribe := c.subscribeDigits()
		defer unsubscribe()
		env.digits = digits
	}
	play := func(ctx context.Context, p Prompt) error {
		if p.Text != "" {
			so := p.Speak
			so.BargeIn = BargeIn{}
			return c.Speak(ctx, p.Text, so)
		}
		po := *p.Play
		po.BargeIn = BargeIn{}
		return c.Play(ctx, po)
	}
	var mu sync.Mutex
	var partial GatherResult // what the call's end reports if it comes first
	rv := c.startVerb(func() Event {
		mu.Lock()
		defer mu.Unlock()
		r := partial
		r.Status, r.Reason = GatherCallHangup, GatherByHangup
		return GatherEnded{base: now(), Result: r}
	})
	progress := func(r GatherResult) {
		mu.Lock()
		partial = r
		mu.Unlock()
	}
	env.play, env.progress = play, progress
	res, err := runGather(ctx, o, env)
	c.endVerb(rv, GatherEnded{base: now(), Result: res})
	return res, err
}

func (o GatherOptions) withDefaults() (GatherOptions, error) {
	if o.MinDigits == 0 {
		o.MinDigits = 1
	}
	if o.MaxDigits == 0 {
		o.MaxDigits = DefaultMaxDigits
	}
	if o.ValidDigits == "" {
		o.ValidDigits = DefaultValidDigits
	}
	if o.TerminatingDigit == 0 {
		o.TerminatingDigit = DefaultTerminatingDigit
	}
	if o.FirstDigitTimeout == 0 {
		o.FirstDigitTimeout = DefaultFirstDigitTimeout
	}
	if o.InterDigitTimeout == 0 {
		o.InterDigitTimeout = DefaultInterDigitTimeout
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultGatherTimeout
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 1
	}
	if o.Input == 0 {
		o.Input = InputDTMF
	}
	if o.Input&^InputBoth != 0 {
		return o, fmt.Errorf("%w: Input %v", ErrInvalidOptions, o.Input)
	}
	if o.Input&InputSpeech != 0 {
		sp, err := o.Speech.withDefaults(o.FirstDigitTimeout)
		if err != nil {
			return o, err
		}
		o.Speech = sp
	}
	for _, p := range []Prompt{o.Prompt, o.InvalidPrompt} {
		if p.Text != "" && p.Play != nil {
			return o, fmt.Errorf("%w: a Prompt has both Text and Play", ErrInvalidOptions)
		}
		if p.Play != nil {
			if _, err := p.Play.source(); err != nil {
				return o, err
			}
		}
	}
	switch {
	case o.MinDigits < 0 || o.MaxDigits < o.MinDigits:
		return o, fmt.Errorf("%w: MinDigits %d, MaxDigits %d", ErrInvalidOptions, o.MinDigits, o.MaxDigits)
	case o.MaxAttempts < 0:
		return o, fmt.Errorf("%w: MaxAttempts %d", ErrInvalidOptions, o.MaxAttempts)
	}
	return o, nil
}

// gatherEnv is what the Gather loop needs from a call, so that the loop can be tested
// on its own.
type gatherEnv struct {
	digits <-chan DTMF // nil when keys are not an input
	ended  <-chan struct{}
	play   func(ctx context.Context, p Prompt) error
	// progress, if set, sees the attempt's input after each digit or partial
	// transcript.
	progress func(GatherResult)
	// speech, when speech is an input, starts recognising the caller for one attempt.
	speech func(ctx context.Context) (*speechInput, error)
}

// runGather runs the attempts of a Gather: prompts on a goroutine of their own,
// digits and timers here, in one loop around the pure gatherMachine.
func runGather(ctx context.Context, o GatherOptions, env gatherEnv) (GatherResult, error) {
	var res GatherResult
	invalid := false
	if env.progress == nil {
		env.progress = func(GatherResult) {}
	}
	for attempt := 1; ; attempt++ {
		env.progress(GatherResult{Attempts: attempt})
		var prompts []Prompt
		if invalid && !o.InvalidPrompt.empty() {
			prompts = append(prompts, o.InvalidPrompt)
		}
		if !o.Prompt.empty() {
			prompts = append(prompts, o.Prompt)
		}
		r, err := runAttempt(ctx, o, env, prompts, attempt)
		r.Attempts = attempt
		res = r
		if err != nil || attempt >= o.MaxAttempts || (r.Status != GatherInvalid && r.Status != GatherTimeout) {
			return res, err
		}
		invalid = r.Status == GatherInvalid
	}
}

func runAttempt(ctx context.Context, o GatherOptions, env gatherEnv, prompts []Prompt, attempt int) (GatherResult, error) {
	if env.speech != nil {
		return runSpeechAttempt(ctx, o, env, prompts, attempt)
	}
	m := gatherMachine{o: o}
	promptDone, stopPrompt, endPrompt := startPrompts(ctx, env, prompts)
	defer endPrompt()
	if promptDone == nil {
		m.promptEnded(time.Now())
	}

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var timerC <-chan time.Time
		if at, ok := m.deadline(); ok {
			timer.Reset(time.Until(at))
			timerC = timer.C
		}
		select {
		case d := <-env.digits:
			if !m.inputStarted {
				stopPrompt(&InterruptError{By: "dtmf", Digit: d.Digit})
			}
			ended := m.digit(d.Digit, time.Now())
			r := m.result()
			r.Attempts = attempt
			env.progress(r)
			if ended {
				return m.result(), nil
			}
		case err := <-promptDone:
			promptDone = nil
			if st, why, err := promptOutcome(ctx, err, m.inputStarted); err != nil {
				return m.end(st, why), err
			}
			if !m.inputStarted {
				m.promptEnded(time.Now())
			}
		case now := <-timerC:
			if m.expire(now) {
				return m.result(), nil
			}
		case <-ctx.Done():
			return m.end(GatherCancelled, GatherByCancel), ctx.Err()
		case <-env.ended:
			return m.end(GatherCallHangup, GatherByHangup), ErrCallEnded
		}
	}
}

// startPrompts plays prompts one after the other on a goroutine of their own, with a
// ctx that stop cancels (the cause is what the prompt reports); done gets how they
// ended, once. done is nil, and no goroutine starts, when there are no prompts. end
// stops the prompts and waits for the goroutine, which ends once its prompt returns
// (within a frame of the stop).
func startPrompts(ctx context.Context, env gatherEnv, prompts []Prompt) (done <-chan error, stop context.CancelCauseFunc, end func()) {
	promptCtx, cancel := context.WithCancelCause(ctx)
	if len(prompts) == 0 {
		return nil, cancel, func() { cancel(errVerbDone) }
	}
	ch := make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for _, p := range prompts {
			if err := env.play(promptCtx, p); err != nil {
				ch <- err
				return
			}
		}
		ch <- nil
	}()
	return ch, cancel, func() {
		cancel(errVerbDone)
		<-ended
	}
}

// promptOutcome judges how an attempt's prompts ended: a nil error when input may go on
// (they played out, or were interrupted by the input that started), or the status,
// reason and error that end the attempt.
func promptOutcome(ctx context.Context, err error, inputStarted bool) (GatherStatus, GatherReason, error) {
	switch {
	case err == nil, errors.Is(err, ErrInterrupted) && inputStarted:
		return "", "", nil
	case errors.Is(err, ErrCallEnded):
		return GatherCallHangup, GatherByHangup, ErrCallEnded
	case ctx.Err() != nil:
		return GatherCancelled, GatherByCancel, ctx.Err()
	default:
		return GatherFailed, GatherByPromptError, fmt.Errorf("call: gather: prompt: %w", err)
	}
}

// gatherMachine is one attempt of a Gather as a pure function of its inputs: digits
// and the passing of time. Input starts when the prompt ends (or the first digit
// interrupts it); from then on the timers run.
type gatherMachine struct {
	o            GatherOptions
	digits       []rune
	inputStarted bool
	inputFrom    time.Time // when input started
	last         time.Time // when the last digit came
	status       GatherStatus
	reason       GatherReason
}

// promptEnded starts the input phase (and its timers) at now.
func (m *gatherMachine) promptEnded(now time.Time) {
	if !m.inputStarted {
		m.inputStarted, m.inputFrom = true, now
	}
}

// digit takes a key pressed at now and reports whether the attempt has ended.
func (m *gatherMachine) digit(d rune, now time.Time) bool {
	if m.status != "" {
		return true
	}
	m.promptEnded(now)
	switch {
	case d == m.o.TerminatingDigit:
		if len(m.digits) >= m.o.MinDigits {
			m.end(GatherValid, GatherByTerminator)
		} else {
			m.end(GatherInvalid, GatherByTerminator)
		}
		return true
	case !containsRune(m.o.ValidDigits, d):
		m.digits = append(m.digits, d)
		m.end(GatherInvalid, GatherByInvalidDigit)
		return true
	}
	m.digits = append(m.digits, d)
	m.last = now
	if len(m.digits) >= m.o.MaxDigits {
		m.end(GatherValid, GatherByMaxDigits)
		return true
	}
	return false
}

// deadline is when the next timeout expires; false while the prompt plays or when every
// timeout is disabled.
func (m *gatherMachine) deadline() (time.Time, bool) {
	at, _, ok := m.next()
	return at, ok
}

// earliest keeps the soonest of several deadlines and why it falls due.
type earliest struct {
	at  time.Time
	why GatherReason
}

// consider offers the deadline from+d for reason r; a negative d means none.
func (e *earliest) consider(from time.Time, d time.Duration, r GatherReason) {
	if d < 0 {
		return
	}
	if t := from.Add(d); e.why == "" || t.Before(e.at) {
		e.at, e.why = t, r
	}
}

func (m *gatherMachine) next() (time.Time, GatherReason, bool) {
	if !m.inputStarted || m.status != "" {
		return time.Time{}, "", false
	}
	var dl earliest
	if len(m.digits) == 0 {
		dl.consider(m.inputFrom, m.o.FirstDigitTimeout, GatherByFirstDigitTimeout)
	} else {
		dl.consider(m.last, m.o.InterDigitTimeout, GatherByInterDigitTimeout)
	}
	dl.consider(m.inputFrom, m.o.Timeout, GatherByTimeout)
	return dl.at, dl.why, dl.why != ""
}

// expire ends the attempt if a timeout has expired at now, and reports whether it has.
func (m *gatherMachine) expire(now time.Time) bool {
	if m.status != "" {
		return true
	}
	at, why, ok := m.next()
	if !ok || now.Before(at) {
		return false
	}
	switch {
	case len(m.digits) == 0:
		m.end(GatherTimeout, why)
	case len(m.digits) >= m.o.MinDigits:
		m.end(GatherValid, why)
	default:
		m.end(GatherInvalid, why)
	}
	return true
}

// end ends the attempt (unless it has ended) and returns the result.
func (m *gatherMachine) end(s GatherStatus, r GatherReason) GatherResult {
	if m.status == "" {
		m.status, m.reason = s, r
	}
	return m.result()
}

func (m *gatherMachine) result() GatherResult {
	return GatherResult{Digits: string(m.digits), Status: m.status, Reason: m.reason}
}
