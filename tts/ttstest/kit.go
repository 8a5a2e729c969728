package ttstest

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
)

// Texts the kit speaks.
const (
	// ShortText is a short sentence (9 words).
	ShortText = "Hello, this is a test of the speech synthesizer."
	// LongText is several sentences, long enough that cancellation and Close arrive
	// mid-stream.
	LongText = "The quick brown fox jumps over the lazy dog. " +
		"Please transfer me to the sales department right now, thanks. " +
		"The weather service predicts rain for the afternoon and evening hours. " +
		"Your call is important to us, please stay on the line. " +
		"Press one for billing, two for support, or three to speak with an operator. " +
		"Thank you for calling, and have a wonderful day."
	// SSMLText is SSML with a break.
	SSMLText = `<speak>Hello <break time="300ms"/> world.</speak>`
)

// Thresholds of the audio checks. Speech and tones both clear them by a wide margin;
// silence, clicks and noise floors do not.
const (
	// MinLevel is the lowest acceptable RMS level of the active parts, in dBFS.
	MinLevel = -40.0
	// ActiveThreshold is the 20 ms window level above which audio counts as sounding.
	ActiveThreshold = -45.0
	// MinActiveFraction is the least share of the audio that must be sounding.
	MinActiveFraction = 0.25
)

// hangTimeout guards calls that must return; reaching it is a failure, not a timing
// measurement.
const hangTimeout = 20 * time.Second

type config struct {
	opts          tts.Options
	invalid       []tts.Options
	rates         []int
	concurrency   int
	deterministic bool
}

// Option adjusts Run.
type Option func(*config)

// WithOptions sets the options every check synthesizes with (a voice, say). The checks
// of Options.SampleRate override its SampleRate; the default is the zero Options.
func WithOptions(o tts.Options) Option { return func(c *config) { c.opts = o } }

// WithInvalid adds option sets that the provider must reject in Synthesize, with any
// error, besides the ones every provider must reject.
func WithInvalid(cases ...tts.Options) Option {
	return func(c *config) { c.invalid = append(c.invalid, cases...) }
}

// WithSampleRates sets the output rates requested through Options.SampleRate; the
// default is 8000 and 16000 Hz.
func WithSampleRates(rates ...int) Option { return func(c *config) { c.rates = rates } }

// WithConcurrency sets how many syntheses run at once in the concurrency check; the
// default is 4.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// NonDeterministic says the provider may return different audio for the same request
// (a remote service, say): the checks that compare repeated syntheses sample for sample
// compare their lengths within 20 % instead.
func NonDeterministic() Option { return func(c *config) { c.deterministic = false } }

// Run checks that the Synthesizers made by newSynth keep the tts.Synthesizer contract,
// each check in its own subtest with a fresh Synthesizer:
//
//   - Basic: a short sentence gives audio at the declared rate, in 20 ms frames (the
//     last may be shorter), loud enough and sounding for at least a quarter of its
//     length; io.EOF repeats; Close is idempotent; ReadFrame after Close fails with
//     media.ErrClosed.
//   - SampleRate: Options.SampleRate is honoured, with the same duration.
//   - Deterministic: the same request twice gives the same audio.
//   - Empty: blank text gives a reader that returns io.EOF at once.
//   - InvalidOptions: out-of-range options fail in Synthesize with
//     tts.ErrInvalidOptions, an unknown voice or language with tts.ErrUnknownVoice,
//     plus the cases of WithInvalid.
//   - SSML: either audio or an error wrapping tts.ErrUnsupported.
//   - Cancel: cancelling ctx mid-stream makes the next ReadFrame fail with
//     context.Canceled, a ctx cancelled up front fails Synthesize or the first read.
//   - CloseEarly: Close before the end releases every goroutine the synthesis started.
//   - CloseConcurrent: Close from another goroutine ends a reader in use.
//   - Concurrent: several syntheses at once from several goroutines.
//   - Allocs: reading frames allocates less than once per frame on average.
//   - TextStream, when the Synthesizer implements tts.TextStreamer: the first
//     sentence is spoken before the text is complete, the stream ends after
//     CloseWrite, Close and ctx end a stream waiting for text, Write after CloseWrite
//     fails, SSML is refused, a writer and a reader run concurrently.
//
// Goroutine checks compare against the goroutines that exist when each subtest starts,
// so Run must not run in parallel with other tests of the same process that start
// goroutines.
func Run(t *testing.T, newSynth func(t *testing.T) tts.Synthesizer, opts ...Option) {
	t.Helper()
	c := &config{rates: []int{8000, 16000}, concurrency: 4, deterministic: true}
	for _, o := range opts {
		o(c)
	}
	k := &kit{cfg: c, newSynth: newSynth}
	t.Run("Basic", k.basic)
	t.Run("SampleRate", k.sampleRate)
	t.Run("Deterministic", k.determinism)
	t.Run("Empty", k.empty)
	t.Run("InvalidOptions", k.invalidOptions)
	t.Run("SSML", k.ssml)
	t.Run("Cancel", k.cancel)
	t.Run("CloseEarly", k.closeEarly)
	t.Run("CloseConcurrent", k.closeConcurrent)
	t.Run("Concurrent", k.concurrent)
	t.Run("Allocs", k.allocs)
	t.Run("TextStream", k.textStream)
}

type kit struct {
	cfg      *config
	newSynth func(t *testing.T) tts.Synthesizer
}

// synth starts a synthesis and registers Close as cleanup.
func (k *kit) synth(t *testing.T, s tts.Synthesizer, ctx context.Context, text string, o tts.Options) media.FrameReadCloser {
	t.Helper()
	r, err := s.Synthesize(ctx, text, o)
	require.NoError(t, err, "Synthesize(%q, %+v)", abbreviate(text), o)
	require.NotNil(t, r)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func abbreviate(s string) string {
	if len(s) > 30 {
		return s[:30] + "…"
	}
	return s
}

// checkAudio asserts the frame and level rules on a whole stream.
func checkAudio(t *testing.T, a Audio, what string) {
	t.Helper()
	require.Positive(t, a.SampleRate, "%s: SampleRate", what)
	require.NotEmpty(t, a.Frames, "%s: no frames", what)
	n := media.SamplesPer(a.SampleRate, media.DefaultFrameDuration)
	for i, l := range a.Frames {
		if i < len(a.Frames)-1 {
			require.Equal(t, n, l, "%s: frame %d of %d has %d samples, want %d (20 ms)", what, i, len(a.Frames), l, n)
		} else {
			require.True(t, l > 0 && l <= n, "%s: last frame has %d samples, want 1..%d", what, l, n)
		}
	}
	require.Greater(t, a.Duration(), 200*time.Millisecond, "%s: too short", what)
	active := a.ActiveDuration(ActiveThreshold)
	assert.GreaterOrEqual(t, float64(active), MinActiveFraction*float64(a.Duration()),
		"%s: sounding for %v of %v", what, active, a.Duration())
	// Level of the sounding part: the whole, corrected for the silent share.
	lvl := a.Level() - 10*math.Log10(max(float64(active), 1)/float64(a.Duration()))
	assert.Greater(t, lvl, MinLevel, "%s: level %.1f dBFS", what, lvl)
}

// within runs fn and fails the test if it does not return within hangTimeout.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(hangTimeout):
		t.Fatalf("%s did not return within %v", what, hangTimeout)
	}
}

func readAll(t *testing.T, r media.FrameReader, what string) Audio {
	t.Helper()
	var a Audio
	var err error
	within(t, what, func() { a, err = ReadAll(r) })
	require.NoError(t, err, what)
	return a
}

func (k *kit) basic(t *testing.T) {
	s := k.newSynth(t)
	r := k.synth(t, s, t.Context(), ShortText, k.cfg.opts)
	rate := r.SampleRate()
	require.Positive(t, rate, "SampleRate")
	a := readAll(t, r, "reading a short sentence")
	require.Equal(t, rate, a.SampleRate)
	checkAudio(t, a, "short sentence")
	t.Logf("%d Hz, %v of audio, %v sounding, %.1f dBFS", rate, a.Duration(), a.ActiveDuration(ActiveThreshold), a.Level())

	_, err := r.ReadFrame()
	assert.ErrorIs(t, err, io.EOF, "ReadFrame after io.EOF")
	assert.Equal(t, rate, r.SampleRate(), "SampleRate changed")
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "second Close")
	_, err = r.ReadFrame()
	assert.ErrorIs(t, err, media.ErrClosed, "ReadFrame after Close")
}

func (k *kit) sampleRate(t *testing.T) {
	s := k.newSynth(t)
	o := k.cfg.opts
	o.SampleRate = 0
	ref := readAll(t, k.synth(t, s, t.Context(), ShortText, o), "native rate")
	for _, rate := range k.cfg.rates {
		o.SampleRate = rate
		r := k.synth(t, s, t.Context(), ShortText, o)
		require.Equal(t, rate, r.SampleRate(), "SampleRate with Options.SampleRate %d", rate)
		a := readAll(t, r, "resampled")
		checkAudio(t, a, "resampled")
		ratio := float64(a.Duration()) / float64(ref.Duration())
		assert.InDelta(t, 1, ratio, 0.05, "duration at %d Hz %v, at native %d Hz %v", rate, a.Duration(), ref.SampleRate, ref.Duration())
	}
}

func (k *kit) determinism(t *testing.T) {
	s := k.newSynth(t)
	a := readAll(t, k.synth(t, s, t.Context(), ShortText, k.cfg.opts), "first")
	b := readAll(t, k.synth(t, s, t.Context(), ShortText, k.cfg.opts), "second")
	k.same(t, a, b, "repeated synthesis")
}

func (k *kit) same(t *testing.T, a, b Audio, what string) {
	t.Helper()
	require.Equal(t, a.SampleRate, b.SampleRate, what)
	if k.cfg.deterministic {
		require.Equal(t, len(a.Samples), len(b.Samples), "%s: lengths", what)
		require.Equal(t, a.Samples, b.Samples, "%s: samples", what)
		return
	}
	assert.InDelta(t, 1, float64(len(b.Samples))/float64(len(a.Samples)), 0.2, "%s: lengths", what)
}

func (k *kit) empty(t *testing.T) {
	s := k.newSynth(t)
	for _, text := range []string{"", " \n\t "} {
		r, err := s.Synthesize(t.Context(), text, k.cfg.opts)
		require.NoError(t, err, "blank text %q is not an error", text)
		assert.Positive(t, r.SampleRate())
		_, err = r.ReadFrame()
		assert.ErrorIs(t, err, io.EOF, "blank text %q", text)
		require.NoError(t, r.Close())
	}
}

func (k *kit) invalidOptions(t *testing.T) {
	s := k.newSynth(t)
	with := func(f func(*tts.Options)) tts.Options {
		o := k.cfg.opts
		f(&o)
		return o
	}
	cases := []struct {
		name string
		opts tts.Options
		want error
	}{
		{"negative rate", with(func(o *tts.Options) { o.Rate = -1 }), tts.ErrInvalidOptions},
		{"huge rate", with(func(o *tts.Options) { o.Rate = 100 }), tts.ErrInvalidOptions},
		{"NaN rate", with(func(o *tts.Options) { o.Rate = math.NaN() }), tts.ErrInvalidOptions},
		{"pitch", with(func(o *tts.Options) { o.Pitch = 40 }), tts.ErrInvalidOptions},
		{"negative sample rate", with(func(o *tts.Options) { o.SampleRate = -8000 }), tts.ErrInvalidOptions},
		{"unknown voice", with(func(o *tts.Options) { o.Voice = "no-such-voice-ttstest" }), tts.ErrUnknownVoice},
		{"unknown language", with(func(o *tts.Options) { o.Voice = ""; o.Language = "qaa-x-ttstest" }), tts.ErrUnknownVoice},
	}
	for _, extra := range k.cfg.invalid {
		cases = append(cases, struct {
			name string
			opts tts.Options
			want error
		}{"WithInvalid", extra, nil})
	}
	for _, c := range cases {
		r, err := s.Synthesize(t.Context(), ShortText, c.opts)
		if r != nil {
			_ = r.Close()
		}
		if !assert.Error(t, err, "%s: %+v", c.name, c.opts) {
			continue
		}
		assert.NotEmpty(t, err.Error())
		if c.want != nil {
			assert.ErrorIs(t, err, c.want, "%s", c.name)
		}
		t.Logf("%s: %v", c.name, err)
	}
}

func (k *kit) ssml(t *testing.T) {
	s := k.newSynth(t)
	o := k.cfg.opts
	o.SSML = true
	r, err := s.Synthesize(t.Context(), SSMLText, o)
	if err != nil {
		require.ErrorIs(t, err, tts.ErrUnsupported, "SSML either works or is unsupported")
		t.Logf("SSML unsupported: %v", err)
		return
	}
	t.Cleanup(func() { _ = r.Close() })
	checkAudio(t, readAll(t, r, "SSML"), "SSML")
}

func (k *kit) cancel(t *testing.T) {
	s := k.newSynth(t)
	leaks := goleak.IgnoreCurrent()

	ctx, cancel := context.WithCancel(t.Context())
	r := k.synth(t, s, ctx, LongText, k.cfg.opts)
	for i := range 3 {
		var err error
		within(t, "ReadFrame", func() { _, err = r.ReadFrame() })
		require.NoError(t, err, "frame %d", i)
	}
	cancel()
	var err error
	within(t, "ReadFrame after cancel", func() { _, err = r.ReadFrame() })
	require.ErrorIs(t, err, context.Canceled, "ReadFrame after ctx is cancelled")
	within(t, "ReadFrame after cancel", func() { _, err = r.ReadFrame() })
	require.ErrorIs(t, err, context.Canceled, "second ReadFrame after ctx is cancelled")
	require.NoError(t, r.Close())
	goleak.VerifyNone(t, leaks)

	// A ctx cancelled up front fails Synthesize or the first read.
	r, err = s.Synthesize(ctx, ShortText, k.cfg.opts)
	if err == nil {
		within(t, "ReadFrame with a cancelled ctx", func() { _, err = r.ReadFrame() })
		require.NoError(t, r.Close())
	}
	require.ErrorIs(t, err, context.Canceled, "synthesis with a cancelled ctx")
	goleak.VerifyNone(t, leaks)
}

func (k *kit) closeEarly(t *testing.T) {
	s := k.newSynth(t)
	leaks := goleak.IgnoreCurrent()
	for _, frames := range []int{0, 1} {
		r, err := s.Synthesize(t.Context(), LongText, k.cfg.opts)
		require.NoError(t, err)
		for range frames {
			within(t, "ReadFrame", func() { _, err = r.ReadFrame() })
			require.NoError(t, err)
		}
		within(t, "Close", func() { err = r.Close() })
		require.NoError(t, err, "Close after %d frames", frames)
		require.NoError(t, r.Close(), "second Close")
		_, err = r.ReadFrame()
		require.ErrorIs(t, err, media.ErrClosed)
		goleak.VerifyNone(t, leaks)
	}
}

func (k *kit) closeConcurrent(t *testing.T) {
	s := k.newSynth(t)
	leaks := goleak.IgnoreCurrent()
	r, err := s.Synthesize(t.Context(), LongText+" "+LongText, k.cfg.opts)
	require.NoError(t, err)
	first := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		n := 0
		for {
			_, err := r.ReadFrame()
			if err != nil {
				ended <- err
				return
			}
			if n++; n == 1 {
				close(first)
			}
		}
	}()
	select {
	case <-first:
	case err := <-ended:
		t.Fatalf("reader ended before its first frame: %v", err)
	case <-time.After(hangTimeout):
		t.Fatal("no first frame")
	}
	within(t, "Close while reading", func() { err = r.Close() })
	require.NoError(t, err)
	select {
	case err := <-ended:
		if !errors.Is(err, io.EOF) {
			require.ErrorIs(t, err, media.ErrClosed, "reader ended by Close")
		}
	case <-time.After(hangTimeout):
		t.Fatal("Close did not end the reader")
	}
	goleak.VerifyNone(t, leaks)
}

func (k *kit) concurrent(t *testing.T) {
	s := k.newSynth(t)
	ref := readAll(t, k.synth(t, s, t.Context(), ShortText, k.cfg.opts), "reference")
	n := k.cfg.concurrency
	results := make([]Audio, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := s.Synthesize(t.Context(), ShortText, k.cfg.opts)
			if err != nil {
				errs[i] = err
				return
			}
			defer func() { _ = r.Close() }()
			results[i], errs[i] = ReadAll(r)
		})
	}
	within(t, "concurrent syntheses", wg.Wait)
	for i := range n {
		require.NoError(t, errs[i], "synthesis %d", i)
		k.same(t, ref, results[i], "concurrent synthesis")
	}
}

func (k *kit) allocs(t *testing.T) {
	s := k.newSynth(t)
	r := k.synth(t, s, t.Context(), LongText, k.cfg.opts)
	for range 5 {
		_, err := r.ReadFrame()
		require.NoError(t, err)
	}
	var err error
	avg := testing.AllocsPerRun(50, func() {
		if err == nil {
			_, err = r.ReadFrame()
		}
	})
	require.NoError(t, err)
	assert.Zero(t, avg, "allocations per ReadFrame (average, rounded down)")
}

func (k *kit) textStream(t *testing.T) {
	s := k.newSynth(t)
	ts, ok := s.(tts.TextStreamer)
	if !ok {
		t.Log("not a tts.TextStreamer; the stream checks do not apply")
		return
	}
	open := func(t *testing.T, ctx context.Context) tts.TextStream {
		st, err := ts.StreamText(ctx, k.cfg.opts)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	t.Run("Incremental", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		st := open(t, t.Context())
		rate := st.SampleRate()
		require.Positive(t, rate)
		// Token-sized pieces; the first sentence is complete after the last of them.
		for _, p := range []string{"Hello ", "there, ", "how are", " you to", "day? ", "I am"} {
			_, err := io.WriteString(st, p)
			require.NoError(t, err)
		}
		var first media.Frame
		var err error
		within(t, "ReadFrame of a complete first sentence before CloseWrite", func() { first, err = st.ReadFrame() })
		require.NoError(t, err)
		require.Equal(t, rate, first.SampleRate)
		a := Audio{SampleRate: rate, Samples: append([]int16(nil), first.Samples...), Frames: []int{len(first.Samples)}}

		_, err = io.WriteString(st, " fine, thank you. Goodbye")
		require.NoError(t, err)
		require.NoError(t, st.CloseWrite())
		require.NoError(t, st.CloseWrite(), "second CloseWrite")
		_, err = io.WriteString(st, "more")
		require.ErrorIs(t, err, media.ErrClosed, "Write after CloseWrite")
		rest := readAll(t, st, "stream after CloseWrite")
		a.Samples = append(a.Samples, rest.Samples...)
		a.Frames = append(a.Frames, rest.Frames...)
		checkAudio(t, a, "text stream")
		require.NoError(t, st.Close())
		require.NoError(t, st.Close(), "second Close")
		_, err = st.ReadFrame()
		require.ErrorIs(t, err, media.ErrClosed)
		goleak.VerifyNone(t, leaks)
	})
	t.Run("Empty", func(t *testing.T) {
		st := open(t, t.Context())
		require.NoError(t, st.CloseWrite())
		var err error
		within(t, "ReadFrame of an empty stream", func() { _, err = st.ReadFrame() })
		require.ErrorIs(t, err, io.EOF)
	})
	t.Run("CloseWhileWaiting", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		st := open(t, t.Context())
		_, err := io.WriteString(st, "An unfinished sentence")
		require.NoError(t, err)
		ended := make(chan error, 1)
		go func() {
			_, err := st.ReadFrame()
			ended <- err
		}()
		time.Sleep(20 * time.Millisecond) // let ReadFrame block; the check holds either way
		within(t, "Close", func() { err = st.Close() })
		require.NoError(t, err)
		select {
		case err := <-ended:
			require.ErrorIs(t, err, media.ErrClosed)
		case <-time.After(hangTimeout):
			t.Fatal("Close did not end a ReadFrame waiting for text")
		}
		_, err = io.WriteString(st, "more")
		require.ErrorIs(t, err, media.ErrClosed, "Write after Close")
		goleak.VerifyNone(t, leaks)
	})
	t.Run("CancelWhileWaiting", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		ctx, cancel := context.WithCancel(t.Context())
		st := open(t, ctx)
		ended := make(chan error, 1)
		go func() {
			_, err := st.ReadFrame()
			ended <- err
		}()
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case err := <-ended:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(hangTimeout):
			t.Fatal("cancelling ctx did not end a ReadFrame waiting for text")
		}
		require.NoError(t, st.Close())
		goleak.VerifyNone(t, leaks)
	})
	t.Run("SSML", func(t *testing.T) {
		o := k.cfg.opts
		o.SSML = true
		st, err := ts.StreamText(t.Context(), o)
		if st != nil {
			_ = st.Close()
		}
		require.ErrorIs(t, err, tts.ErrUnsupported)
	})
	t.Run("ConcurrentWriter", func(t *testing.T) {
		st := open(t, t.Context())
		werr := make(chan error, 1)
		go func() {
			for w := range strings.FieldsSeq(LongText) {
				if _, err := io.WriteString(st, w+" "); err != nil {
					werr <- err
					return
				}
			}
			werr <- st.CloseWrite()
		}()
		a := readAll(t, st, "stream with a concurrent writer")
		require.NoError(t, <-werr)
		checkAudio(t, a, "stream with a concurrent writer")
	})
}
