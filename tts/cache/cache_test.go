package cache_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/cache"
	"github.com/switchboard-go/switchboard/tts/espeak"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

func newCache(t testing.TB, s tts.Synthesizer, o cache.Options) *cache.Cache {
	t.Helper()
	c, err := cache.New(s, o)
	require.NoError(t, err)
	return c
}

func TestConformance(t *testing.T) {
	t.Run("tone", func(t *testing.T) {
		ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return newCache(t, &ttstest.Tone{}, cache.Options{}) })
	})
	t.Run("espeak", func(t *testing.T) {
		ttstest.Run(t, func(t *testing.T) tts.Synthesizer {
			s, err := espeak.New(espeak.Config{})
			require.NoError(t, err)
			return newCache(t, s, cache.Options{})
		})
	})
	t.Run("disk only", func(t *testing.T) {
		ttstest.Run(t, func(t *testing.T) tts.Synthesizer {
			return newCache(t, &ttstest.Tone{}, cache.Options{MaxBytes: -1, Dir: t.TempDir()})
		})
	})
}

func read(t *testing.T, s tts.Synthesizer, ctx context.Context, text string, o tts.Options) ttstest.Audio {
	t.Helper()
	r, err := s.Synthesize(ctx, text, o)
	require.NoError(t, err)
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	require.NoError(t, err)
	return a
}

func TestHitsDoNotCallProvider(t *testing.T) {
	tone := &ttstest.Tone{}
	c := newCache(t, tone, cache.Options{})
	first := read(t, c, t.Context(), "Welcome to the menu.", tts.Options{})
	for range 5 {
		again := read(t, c, t.Context(), "Welcome to the menu.", tts.Options{Rate: 1}) // Rate 1 is Rate 0
		assert.Equal(t, first, again)
	}
	assert.Equal(t, int64(1), tone.Calls())
	read(t, c, t.Context(), "Welcome to the menu.", tts.Options{SampleRate: 16000})
	read(t, c, t.Context(), "Welcome to the menu!", tts.Options{})
	assert.Equal(t, int64(3), tone.Calls(), "other options and other text are other entries")
	st := c.Stats()
	assert.Equal(t, int64(5), st.Hits)
	assert.Equal(t, int64(3), st.Misses)
	assert.Equal(t, 3, st.Entries)

	// Blank text is passed through, not cached.
	read0, err := c.Synthesize(t.Context(), " ", tts.Options{})
	require.NoError(t, err)
	_, err = read0.ReadFrame()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, read0.Close())
	assert.Equal(t, int64(4), tone.Calls())
}

func TestKeys(t *testing.T) {
	a := newCache(t, &ttstest.Tone{}, cache.Options{Name: "a"})
	b := newCache(t, &ttstest.Tone{}, cache.Options{Name: "b"})
	k := a.Key("hello", tts.Options{})
	assert.Len(t, k, 64)
	assert.Equal(t, k, a.Key("hello", tts.Options{Rate: 1}))
	assert.NotEqual(t, k, b.Key("hello", tts.Options{}), "provider name is in the key")
	for _, o := range []tts.Options{{Voice: "x"}, {Language: "en"}, {Rate: 2}, {Pitch: 1}, {SampleRate: 8000}, {SSML: true}} {
		assert.NotEqual(t, k, a.Key("hello", o), "%+v", o)
	}
	// Field boundaries are unambiguous.
	assert.NotEqual(t, a.Key("ab", tts.Options{Voice: "c"}), a.Key("a", tts.Options{Voice: "bc"}))

	s, err := espeak.New(espeak.Config{})
	require.NoError(t, err)
	assert.Contains(t, newCache(t, s, cache.Options{}).String(), "espeak-ng")
}

func TestEviction(t *testing.T) {
	tone := &ttstest.Tone{}
	// One word of Tone at 8 kHz: 160 ms, 1280 samples, 2560 bytes plus overhead.
	c := newCache(t, tone, cache.Options{MaxBytes: 3 * 3000})
	for _, w := range []string{"one", "two", "three"} {
		read(t, c, t.Context(), w, tts.Options{})
	}
	assert.Equal(t, 3, c.Stats().Entries)
	read(t, c, t.Context(), "one", tts.Options{}) // now most recent
	read(t, c, t.Context(), "four", tts.Options{})
	st := c.Stats()
	assert.Equal(t, int64(1), st.Evictions)
	assert.Equal(t, 3, st.Entries)
	assert.LessOrEqual(t, st.Bytes, int64(9000))
	calls := tone.Calls()
	read(t, c, t.Context(), "one", tts.Options{})
	assert.Equal(t, calls, tone.Calls(), "recently used entry kept")
	read(t, c, t.Context(), "two", tts.Options{})
	assert.Equal(t, calls+1, tone.Calls(), "least recently used entry evicted")

	// An entry larger than the bound is not kept in memory at all.
	read(t, c, t.Context(), strings.Repeat("long ", 10), tts.Options{})
	read(t, c, t.Context(), strings.Repeat("long ", 10), tts.Options{})
	assert.Equal(t, calls+3, tone.Calls())
}

func TestDirPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tts-cache")
	tone := &ttstest.Tone{}
	c1 := newCache(t, tone, cache.Options{Dir: dir, Name: "tone"})
	want := read(t, c1, t.Context(), "Your account balance is low.", tts.Options{SampleRate: 16000})
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, files, 1, "one file, no temporary left")
	assert.Equal(t, c1.Key("Your account balance is low.", tts.Options{SampleRate: 16000})+".wav", files[0].Name())

	// A new instance (a restart) with a provider that must not be called.
	tone2 := &ttstest.Tone{}
	c2 := newCache(t, tone2, cache.Options{Dir: dir, Name: "tone"})
	got := read(t, c2, t.Context(), "Your account balance is low.", tts.Options{SampleRate: 16000})
	assert.Equal(t, want.Samples, got.Samples)
	assert.Equal(t, 16000, got.SampleRate)
	assert.Zero(t, tone2.Calls())
	assert.Equal(t, int64(1), c2.Stats().DiskHits)
	read(t, c2, t.Context(), "Your account balance is low.", tts.Options{SampleRate: 16000})
	assert.Equal(t, int64(1), c2.Stats().Hits, "loaded into memory")

	// A damaged file is removed and synthesized again.
	p := filepath.Join(dir, files[0].Name())
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b[:len(b)/2], 0o644))
	c3 := newCache(t, tone2, cache.Options{Dir: dir, Name: "tone"})
	got = read(t, c3, t.Context(), "Your account balance is low.", tts.Options{SampleRate: 16000})
	assert.Equal(t, want.Samples, got.Samples)
	assert.Equal(t, int64(1), tone2.Calls())
	b2, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, b, b2, "rewritten whole")
}

// gated wraps a Synthesizer whose readers stop after `after` frames until open is
// closed, to catch a synthesis in the middle.
type gated struct {
	s     tts.Synthesizer
	after int
	open  chan struct{}
	calls atomic.Int64
}

func (g *gated) Synthesize(ctx context.Context, text string, o tts.Options) (media.FrameReadCloser, error) {
	g.calls.Add(1)
	r, err := g.s.Synthesize(ctx, text, o)
	if err != nil {
		return nil, err
	}
	return &gatedReader{FrameReadCloser: r, g: g, ctx: ctx, closing: make(chan struct{})}, nil
}

type gatedReader struct {
	media.FrameReadCloser
	g       *gated
	ctx     context.Context
	n       int
	once    sync.Once
	closing chan struct{}
}

func (r *gatedReader) ReadFrame() (media.Frame, error) {
	if r.n == r.g.after {
		select {
		case <-r.g.open:
		case <-r.ctx.Done():
			return media.Frame{}, r.ctx.Err()
		case <-r.closing:
			return media.Frame{}, media.ErrClosed
		}
	}
	r.n++
	return r.FrameReadCloser.ReadFrame()
}

func (r *gatedReader) Close() error {
	r.once.Do(func() { close(r.closing) })
	return r.FrameReadCloser.Close()
}

const sentence = "Please hold while we connect your call to the next available agent."

func TestStreamsToFirstCallerAndJoins(t *testing.T) {
	g := &gated{s: &ttstest.Tone{}, after: 10, open: make(chan struct{})}
	c := newCache(t, g, cache.Options{})
	want := read(t, &ttstest.Tone{}, t.Context(), sentence, tts.Options{})

	first, err := c.Synthesize(t.Context(), sentence, tts.Options{})
	require.NoError(t, err)
	defer first.Close()
	var a1 ttstest.Audio
	a1.SampleRate = first.SampleRate()
	for range 10 { // streamed while the provider is held after 10 frames
		f, err := first.ReadFrame()
		require.NoError(t, err)
		a1.Samples = append(a1.Samples, f.Samples...)
	}
	// A second caller joins the synthesis in progress: it gets the audio from the start.
	second, err := c.Synthesize(t.Context(), sentence, tts.Options{})
	require.NoError(t, err)
	defer second.Close()
	var a2 ttstest.Audio
	for range 10 {
		f, err := second.ReadFrame()
		require.NoError(t, err)
		a2.Samples = append(a2.Samples, f.Samples...)
	}
	close(g.open)
	rest1, err := ttstest.ReadAll(first)
	require.NoError(t, err)
	rest2, err := ttstest.ReadAll(second)
	require.NoError(t, err)
	assert.Equal(t, want.Samples, append(a1.Samples, rest1.Samples...))
	assert.Equal(t, want.Samples, append(a2.Samples, rest2.Samples...))
	assert.Equal(t, int64(1), g.calls.Load())
	st := c.Stats()
	assert.Equal(t, int64(1), st.Misses)
	assert.Equal(t, int64(1), st.Joined)
	assert.Equal(t, 1, st.Entries)
}

func TestConcurrentRequestsSynthesizeOnce(t *testing.T) {
	tone := &ttstest.Tone{FirstFrameDelay: 50 * time.Millisecond}
	c := newCache(t, tone, cache.Options{})
	want := read(t, &ttstest.Tone{}, t.Context(), sentence, tts.Options{})
	const n = 8
	var wg sync.WaitGroup
	got := make([]ttstest.Audio, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r, err := c.Synthesize(context.Background(), sentence, tts.Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer r.Close()
			got[i], errs[i] = ttstest.ReadAll(r)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, want.Samples, got[i].Samples)
	}
	assert.Equal(t, int64(1), tone.Calls())
	st := c.Stats()
	assert.Equal(t, int64(n), st.Misses+st.Joined+st.Hits)
	assert.Equal(t, int64(1), st.Misses)
}

// TestFirstCallerCancelled checks that the first caller's cancellation fails only its
// own reader: the others get the whole audio from the one synthesis, which is then
// cached.
func TestFirstCallerCancelled(t *testing.T) {
	g := &gated{s: &ttstest.Tone{}, after: 5, open: make(chan struct{})}
	c := newCache(t, g, cache.Options{})
	want := read(t, &ttstest.Tone{}, t.Context(), sentence, tts.Options{})

	ctx1, cancel1 := context.WithCancel(t.Context())
	first, err := c.Synthesize(ctx1, sentence, tts.Options{})
	require.NoError(t, err)
	defer first.Close()
	for range 3 {
		_, err := first.ReadFrame()
		require.NoError(t, err)
	}
	second, err := c.Synthesize(t.Context(), sentence, tts.Options{})
	require.NoError(t, err)
	defer second.Close()
	cancel1()
	_, err = first.ReadFrame()
	require.ErrorIs(t, err, context.Canceled)
	close(g.open)
	got, err := ttstest.ReadAll(second)
	require.NoError(t, err)
	assert.Equal(t, want.Samples, got.Samples)
	require.NoError(t, first.Close())

	read(t, c, t.Context(), sentence, tts.Options{})
	assert.Equal(t, int64(1), g.calls.Load(), "completed despite the first caller, and cached")
	assert.Equal(t, int64(1), c.Stats().Hits)
}

// TestFirstCallerCancelledWhileStarting cancels the first caller while the provider's
// Synthesize is still waiting, with a second caller joined: the second still gets the
// audio.
func TestFirstCallerCancelledWhileStarting(t *testing.T) {
	slow := &slowStart{s: &ttstest.Tone{}, release: make(chan struct{}), entered: make(chan struct{})}
	c := newCache(t, slow, cache.Options{})
	ctx1, cancel1 := context.WithCancel(t.Context())
	res1 := make(chan error, 1)
	go func() {
		r, err := c.Synthesize(ctx1, sentence, tts.Options{})
		if r != nil {
			_ = r.Close()
		}
		res1 <- err
	}()
	<-slow.entered
	res2 := make(chan error, 1)
	var got ttstest.Audio
	go func() {
		r, err := c.Synthesize(t.Context(), sentence, tts.Options{})
		if err != nil {
			res2 <- err
			return
		}
		defer r.Close()
		got, err = ttstest.ReadAll(r)
		res2 <- err
	}()
	for c.Stats().Joined == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel1()
	close(slow.release)
	require.ErrorIs(t, <-res1, context.Canceled)
	require.NoError(t, <-res2)
	assert.Greater(t, got.Duration(), time.Second)
}

type slowStart struct {
	s       tts.Synthesizer
	release chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (s *slowStart) Synthesize(ctx context.Context, text string, o tts.Options) (media.FrameReadCloser, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.s.Synthesize(ctx, text, o)
}

func TestAbandonedSynthesisNotCached(t *testing.T) {
	g := &gated{s: &ttstest.Tone{}, after: 5, open: make(chan struct{})}
	c := newCache(t, g, cache.Options{})
	r, err := c.Synthesize(t.Context(), sentence, tts.Options{})
	require.NoError(t, err)
	for range 5 {
		_, err := r.ReadFrame()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { // blocked in the provider, behind the gate
		_, err := r.ReadFrame()
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, r.Close())
	require.ErrorIs(t, <-done, media.ErrClosed)
	assert.Zero(t, c.Stats().Entries)
	close(g.open)
	read(t, c, t.Context(), sentence, tts.Options{})
	assert.Equal(t, int64(2), g.calls.Load(), "abandoned synthesis started again")
	assert.Equal(t, 1, c.Stats().Entries)
}

// failing fails mid-stream the first time.
type failing struct {
	s     tts.Synthesizer
	calls atomic.Int64
}

func (f *failing) Synthesize(ctx context.Context, text string, o tts.Options) (media.FrameReadCloser, error) {
	r, err := f.s.Synthesize(ctx, text, o)
	if err != nil || f.calls.Add(1) > 1 {
		return r, err
	}
	return &failReader{FrameReadCloser: r}, nil
}

type failReader struct {
	media.FrameReadCloser
	n int
}

var errEngine = errors.New("engine crashed")

func (r *failReader) ReadFrame() (media.Frame, error) {
	if r.n++; r.n > 3 {
		return media.Frame{}, errEngine
	}
	return r.FrameReadCloser.ReadFrame()
}

func TestFailureNotCached(t *testing.T) {
	f := &failing{s: &ttstest.Tone{}}
	c := newCache(t, f, cache.Options{Dir: t.TempDir()})
	r, err := c.Synthesize(t.Context(), sentence, tts.Options{})
	require.NoError(t, err)
	a, err := ttstest.ReadAll(r)
	require.ErrorIs(t, err, errEngine)
	assert.Len(t, a.Frames, 3)
	require.NoError(t, r.Close())
	assert.Zero(t, c.Stats().Entries)
	read(t, c, t.Context(), sentence, tts.Options{})
	assert.Equal(t, int64(2), f.calls.Load())

	// Errors from the provider's Synthesize reach the caller unchanged.
	_, err = c.Synthesize(t.Context(), sentence, tts.Options{Voice: "nope"})
	require.ErrorIs(t, err, tts.ErrUnknownVoice)
}

func TestReplayAllocs(t *testing.T) {
	c := newCache(t, &ttstest.Tone{}, cache.Options{})
	read(t, c, t.Context(), sentence, tts.Options{})
	r, err := c.Synthesize(t.Context(), sentence, tts.Options{})
	require.NoError(t, err)
	defer r.Close()
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}
