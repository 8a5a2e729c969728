package call

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one input to a gatherMachine: a digit at a time, or (digit 0) time passing
// to t, or (digit -1) the prompt ending at t.
type step struct {
	t     time.Duration
	digit rune
}

const promptEnd rune = -1

func TestGatherMachine(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		opts   GatherOptions
		steps  []step
		want   GatherResult
		endsAt int // index of the step that ends the attempt
	}{
		{"terminator", GatherOptions{}, []step{{0, promptEnd}, {100 * ms, '1'}, {200 * ms, '2'}, {300 * ms, '#'}},
			GatherResult{Digits: "12", Status: GatherValid, Reason: GatherByTerminator}, 3},
		{"terminator too early", GatherOptions{MinDigits: 3}, []step{{0, promptEnd}, {100 * ms, '1'}, {300 * ms, '#'}},
			GatherResult{Digits: "1", Status: GatherInvalid, Reason: GatherByTerminator}, 2},
		{"max digits", GatherOptions{MaxDigits: 3}, []step{{0, promptEnd}, {1 * ms, '1'}, {2 * ms, '2'}, {3 * ms, '3'}},
			GatherResult{Digits: "123", Status: GatherValid, Reason: GatherByMaxDigits}, 3},
		{"digit during prompt counts", GatherOptions{MaxDigits: 2}, []step{{100 * ms, '4'}, {200 * ms, '2'}},
			GatherResult{Digits: "42", Status: GatherValid, Reason: GatherByMaxDigits}, 1},
		{"invalid digit", GatherOptions{ValidDigits: "12"}, []step{{0, promptEnd}, {1 * ms, '1'}, {2 * ms, '7'}},
			GatherResult{Digits: "17", Status: GatherInvalid, Reason: GatherByInvalidDigit}, 2},
		{"no terminator", GatherOptions{TerminatingDigit: NoTerminator, MaxDigits: 2}, []step{{0, promptEnd}, {1 * ms, '#'}, {2 * ms, '*'}},
			GatherResult{Digits: "#*", Status: GatherValid, Reason: GatherByMaxDigits}, 2},
		{"custom terminator", GatherOptions{TerminatingDigit: '*'}, []step{{0, promptEnd}, {1 * ms, '#'}, {2 * ms, '*'}},
			GatherResult{Digits: "#", Status: GatherValid, Reason: GatherByTerminator}, 2},
		{"first digit timeout", GatherOptions{FirstDigitTimeout: time.Second}, []step{{0, promptEnd}, {999 * ms, 0}, {time.Second, 0}},
			GatherResult{Status: GatherTimeout, Reason: GatherByFirstDigitTimeout}, 2},
		{"first digit timer waits for the prompt", GatherOptions{FirstDigitTimeout: time.Second},
			[]step{{5 * time.Second, 0}, {5 * time.Second, promptEnd}, {5999 * ms, 0}, {6 * time.Second, 0}},
			GatherResult{Status: GatherTimeout, Reason: GatherByFirstDigitTimeout}, 3},
		{"inter-digit timeout, enough digits", GatherOptions{InterDigitTimeout: time.Second},
			[]step{{0, promptEnd}, {500 * ms, '1'}, {1499 * ms, 0}, {1500 * ms, 0}},
			GatherResult{Digits: "1", Status: GatherValid, Reason: GatherByInterDigitTimeout}, 3},
		{"inter-digit timeout, too few", GatherOptions{InterDigitTimeout: time.Second, MinDigits: 2},
			[]step{{0, promptEnd}, {500 * ms, '1'}, {1500 * ms, 0}},
			GatherResult{Digits: "1", Status: GatherInvalid, Reason: GatherByInterDigitTimeout}, 2},
		{"overall timeout", GatherOptions{Timeout: 2 * time.Second, InterDigitTimeout: time.Second},
			[]step{{0, promptEnd}, {800 * ms, '1'}, {1600 * ms, '2'}, {1999 * ms, 0}, {2 * time.Second, 0}},
			GatherResult{Digits: "12", Status: GatherValid, Reason: GatherByTimeout}, 4},
		{"timeouts disabled", GatherOptions{FirstDigitTimeout: -1, Timeout: -1},
			[]step{{0, promptEnd}, {time.Hour, 0}, {time.Hour + time.Second, '5'}, {time.Hour + 2*time.Second, '#'}},
			GatherResult{Digits: "5", Status: GatherValid, Reason: GatherByTerminator}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.opts.withDefaults()
			require.NoError(t, err)
			m := gatherMachine{o: o}
			for i, s := range tc.steps {
				at := base.Add(s.t)
				var ended bool
				switch s.digit {
				case 0:
					ended = m.expire(at)
				case promptEnd:
					m.promptEnded(at)
				default:
					ended = m.digit(s.digit, at)
				}
				require.Equal(t, i == tc.endsAt, ended, "step %d (%v %q)", i, s.t, s.digit)
				if ended {
					break
				}
			}
			assert.Equal(t, tc.want, m.result())
		})
	}
}

func TestGatherOptionsInvalid(t *testing.T) {
	for _, o := range []GatherOptions{
		{MinDigits: 5, MaxDigits: 4},
		{MinDigits: -1},
		{MaxAttempts: -2},
		{Prompt: Prompt{Text: "x", Play: &PlayOptions{File: "y"}}},
		{InvalidPrompt: Prompt{Play: &PlayOptions{}}},
	} {
		_, err := o.withDefaults()
		assert.ErrorIs(t, err, ErrInvalidOptions, "%+v", o)
	}
}

// fakePrompts plays each prompt for d (or until ctx ends) and records what it played
// and how each ended.
type fakePrompts struct {
	d      time.Duration
	played []string
	ends   []error
	fail   error
}

func (f *fakePrompts) play(ctx context.Context, p Prompt) error {
	f.played = append(f.played, p.Text)
	if f.fail != nil {
		return f.fail
	}
	t := time.NewTimer(f.d)
	defer t.Stop()
	select {
	case <-t.C:
		f.ends = append(f.ends, nil)
		return nil
	case <-ctx.Done():
		err := context.Cause(ctx)
		f.ends = append(f.ends, err)
		return err
	}
}

// The Gather loop with its timers on a fake clock: prompts, barge-in by the first
// digit, attempts with the invalid prompt, timeouts, hangup and cancellation.
func TestRunGather(t *testing.T) {
	press := func(ch chan<- DTMF, after time.Duration, keys string) {
		go func() {
			for _, k := range keys {
				time.Sleep(after)
				ch <- DTMF{Digit: k}
			}
		}()
	}
	opts := func(o GatherOptions) GatherOptions {
		o, err := o.withDefaults()
		require.NoError(t, err)
		return o
	}

	t.Run("digit interrupts the prompt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			digits := make(chan DTMF, 8)
			f := &fakePrompts{d: 10 * time.Second}
			start := time.Now()
			press(digits, 2*time.Second, "12#")
			res, err := runGather(t.Context(), opts(GatherOptions{Prompt: Prompt{Text: "menu"}}), gatherEnv{digits: digits, play: f.play})
			require.NoError(t, err)
			assert.Equal(t, GatherResult{Digits: "12", Status: GatherValid, Reason: GatherByTerminator, Attempts: 1}, res)
			assert.Equal(t, 6*time.Second, time.Since(start))
			require.Len(t, f.ends, 1)
			var ie *InterruptError
			require.ErrorAs(t, f.ends[0], &ie, "the prompt was interrupted")
			assert.Equal(t, '1', ie.Digit)
		})
	})

	t.Run("timeouts and attempts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			digits := make(chan DTMF, 8)
			f := &fakePrompts{d: time.Second}
			start := time.Now()
			res, err := runGather(t.Context(), opts(GatherOptions{
				Prompt: Prompt{Text: "menu"}, InvalidPrompt: Prompt{Text: "sorry"},
				FirstDigitTimeout: 3 * time.Second, MaxAttempts: 3,
			}), gatherEnv{digits: digits, play: f.play})
			require.NoError(t, err)
			assert.Equal(t, GatherResult{Status: GatherTimeout, Reason: GatherByFirstDigitTimeout, Attempts: 3}, res)
			// Each attempt: 1 s prompt, then 3 s for the first digit; no invalid prompt
			// after a timeout.
			assert.Equal(t, 12*time.Second, time.Since(start))
			assert.Equal(t, []string{"menu", "menu", "menu"}, f.played)
		})
	})

	t.Run("invalid then valid", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			digits := make(chan DTMF, 8)
			f := &fakePrompts{d: time.Second}
			o := opts(GatherOptions{
				Prompt: Prompt{Text: "menu"}, InvalidPrompt: Prompt{Text: "sorry"},
				ValidDigits: "123", MaxDigits: 1, MaxAttempts: 3,
			})
			go func() {
				time.Sleep(1500 * time.Millisecond)
				digits <- DTMF{Digit: '9'} // after the prompt: invalid
				time.Sleep(1500 * time.Millisecond)
				digits <- DTMF{Digit: '2'} // while "menu" plays again (after "sorry")
			}()
			res, err := runGather(t.Context(), o, gatherEnv{digits: digits, play: f.play})
			require.NoError(t, err)
			assert.Equal(t, GatherResult{Digits: "2", Status: GatherValid, Reason: GatherByMaxDigits, Attempts: 2}, res)
			assert.Equal(t, []string{"menu", "sorry", "menu"}, f.played)
		})
	})

	t.Run("digit during the invalid prompt skips the prompt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			digits := make(chan DTMF, 8)
			f := &fakePrompts{d: time.Second}
			o := opts(GatherOptions{
				Prompt: Prompt{Text: "menu"}, InvalidPrompt: Prompt{Text: "sorry"},
				ValidDigits: "123", MaxDigits: 1, MaxAttempts: 2,
			})
			go func() {
				time.Sleep(1500 * time.Millisecond)
				digits <- DTMF{Digit: '9'}
				time.Sleep(500 * time.Millisecond)
				digits <- DTMF{Digit: '3'}
			}()
			res, err := runGather(t.Context(), o, gatherEnv{digits: digits, play: f.play})
			require.NoError(t, err)
			assert.Equal(t, GatherResult{Digits: "3", Status: GatherValid, Reason: GatherByMaxDigits, Attempts: 2}, res)
			assert.Equal(t, []string{"menu", "sorry"}, f.played)
		})
	})

	t.Run("invalid after all attempts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			digits := make(chan DTMF, 8)
			press(digits, 10*time.Millisecond, "99")
			res, err := runGather(t.Context(), opts(GatherOptions{ValidDigits: "1", MaxAttempts: 2}), gatherEnv{digits: digits})
			require.NoError(t, err)
			assert.Equal(t, GatherResult{Digits: "9", Status: GatherInvalid, Reason: GatherByInvalidDigit, Attempts: 2}, res)
		})
	})

	t.Run("hangup", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			digits := make(chan DTMF, 8)
			ended := make(chan struct{})
			time.AfterFunc(2*time.Second, func() { close(ended) })
			press(digits, time.Second, "4")
			res, err := runGather(t.Context(), opts(GatherOptions{}), gatherEnv{digits: digits, ended: ended})
			assert.ErrorIs(t, err, ErrCallEnded)
			assert.Equal(t, GatherResult{Digits: "4", Status: GatherCallHangup, Reason: GatherByHangup, Attempts: 1}, res)
		})
	})

	t.Run("cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			f := &fakePrompts{d: time.Minute}
			res, err := runGather(ctx, opts(GatherOptions{Prompt: Prompt{Text: "long"}}), gatherEnv{digits: make(chan DTMF), play: f.play})
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, GatherCancelled, res.Status)
			assert.Equal(t, GatherByCancel, res.Reason)
		})
	})

	t.Run("prompt fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			boom := errors.New("no such file")
			f := &fakePrompts{fail: boom}
			res, err := runGather(t.Context(), opts(GatherOptions{Prompt: Prompt{Text: "x"}}), gatherEnv{digits: make(chan DTMF), play: f.play})
			assert.ErrorIs(t, err, boom)
			assert.Equal(t, GatherFailed, res.Status)
			assert.Equal(t, GatherByPromptError, res.Reason)
		})
	})
}
