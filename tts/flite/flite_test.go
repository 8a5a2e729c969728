package flite

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// newSynth returns a Synthesizer; in a build without cgo it fails the test, naming
// the Debian package flite1-dev (a build with cgo but without the package fails to
// compile, with the same advice).
func newSynth(t testing.TB, voice string) *Synthesizer {
	t.Helper()
	s, err := New(Config{Voice: voice})
	require.NoError(t, err)
	return s
}

const text30 = "The weather service predicts rain for the afternoon and evening hours " +
	"across the northern part of the region, so please drive carefully and allow extra time for your journey today."

func TestConformance(t *testing.T) {
	for _, voice := range []string{"kal", "slt"} {
		t.Run(voice, func(t *testing.T) {
			ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return newSynth(t, voice) })
		})
	}
}

func TestConformanceOptions(t *testing.T) {
	ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return newSynth(t, "") },
		ttstest.WithOptions(tts.Options{Voice: "kal16", Language: "en-US", Rate: 1.3, Pitch: 3}),
		ttstest.WithSampleRates(8000, 48000),
		ttstest.WithInvalid(tts.Options{Language: "de-DE"}))
}

func synthAll(t *testing.T, s *Synthesizer, text string, o tts.Options) ttstest.Audio {
	t.Helper()
	r, err := s.Synthesize(t.Context(), text, o)
	require.NoError(t, err)
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	require.NoError(t, err)
	return a
}

func TestVoiceRates(t *testing.T) {
	s := newSynth(t, "")
	for _, c := range []struct {
		voice string
		rate  int
	}{{"kal", 8000}, {"kal16", 16000}, {"slt", 16000}, {"rms", 16000}, {"awb", 16000}} {
		a := synthAll(t, s, "Please transfer me to the sales department.", tts.Options{Voice: c.voice})
		assert.Equal(t, c.rate, a.SampleRate, c.voice)
		assert.Greater(t, a.Duration(), time.Second, c.voice)
		assert.Greater(t, a.Level(), -35.0, c.voice)
	}
	vs, err := s.Voices(t.Context())
	require.NoError(t, err)
	require.Len(t, vs, len(voiceTable))
	assert.Equal(t, tts.Voice{Name: "kal", Languages: []string{"en-US", "en"}, Gender: "male", SampleRate: 8000}, vs[0])
}

func TestSpeechLike(t *testing.T) {
	s := newSynth(t, "kal")
	a := synthAll(t, s, text30, tts.Options{})
	nominal := 30 * time.Minute / 175
	assert.Greater(t, a.Duration(), nominal*6/10)
	assert.Less(t, a.Duration(), nominal*16/10)
	active := float64(a.ActiveDuration(ttstest.ActiveThreshold)) / float64(a.Duration())
	assert.Greater(t, active, 0.5)
	assert.Less(t, active, 0.98)
	f0 := a.Pitch()
	assert.Greater(t, f0, 70.0)
	assert.Less(t, f0, 200.0)
	t.Logf("kal, 30 words: %v, sounding %.0f%%, %.1f dBFS, pitch %.0f Hz", a.Duration(), 100*active, a.Level(), f0)
}

func TestRateAndPitch(t *testing.T) {
	s := newSynth(t, "")
	for _, voice := range []string{"kal", "slt"} {
		o := tts.Options{Voice: voice, SampleRate: 8000}
		base := synthAll(t, s, text30, o)
		o.Rate = 2
		fast := synthAll(t, s, text30, o)
		o.Rate, o.Pitch = 1, 5
		high := synthAll(t, s, text30, o)
		t.Logf("%s: duration %v, at rate 2 %v; pitch %.0f Hz, +5 st %.0f Hz", voice, base.Duration(), fast.Duration(), base.Pitch(), high.Pitch())
		assert.InDelta(t, 0.5, float64(fast.Duration())/float64(base.Duration()), 0.08, voice)
		assert.InDelta(t, 1.335, high.Pitch()/base.Pitch(), 0.15, voice)
	}
}

func TestUnsupported(t *testing.T) {
	s := newSynth(t, "")
	_, err := s.Synthesize(t.Context(), "<speak>hi</speak>", tts.Options{SSML: true})
	require.ErrorIs(t, err, tts.ErrUnsupported)
	_, err = s.Synthesize(t.Context(), "hi", tts.Options{Language: "fr"})
	require.ErrorIs(t, err, tts.ErrUnknownVoice)
	_, err = New(Config{Voice: "nope"})
	require.ErrorIs(t, err, tts.ErrUnknownVoice)
	assert.Contains(t, err.Error(), "kal, kal16, slt, rms, awb")
}

// TestPerSentence checks that a long text is synthesized sentence by sentence: after
// the first frame only the first sentence has been synthesized.
func TestPerSentence(t *testing.T) {
	s := newSynth(t, "slt")
	text := strings.Repeat("This is one sentence of a longer announcement. ", 8)
	r, err := s.Synthesize(t.Context(), text, tts.Options{})
	require.NoError(t, err)
	defer r.Close()
	_, err = r.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, 1, r.(*reader).next, "sentences synthesized before the first frame")
	a, err := ttstest.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, 8, r.(*reader).next)
	assert.Greater(t, a.Duration(), 8*time.Second)
}

// TestConcurrentVoices synthesizes with every voice from several goroutines at once,
// which the engine lock serializes: the audio must match the serial result sample for
// sample (the race detector watches the Go side).
func TestConcurrentVoices(t *testing.T) {
	s := newSynth(t, "")
	want := map[string]ttstest.Audio{}
	for _, v := range voiceTable {
		want[v.name] = synthAll(t, s, "Concurrent synthesis check.", tts.Options{Voice: v.name})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*len(voiceTable))
	for range 3 {
		for _, v := range voiceTable {
			wg.Go(func() {
				r, err := s.Synthesize(context.Background(), "Concurrent synthesis check.", tts.Options{Voice: v.name})
				if err != nil {
					errs <- err
					return
				}
				defer r.Close()
				a, err := ttstest.ReadAll(r)
				if err == nil && !assert.ObjectsAreEqual(want[v.name].Samples, a.Samples) {
					err = assert.AnError
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestErrNoCgo(t *testing.T) {
	require.ErrorIs(t, ErrNoCgo, tts.ErrUnavailable)
	assert.Contains(t, ErrNoCgo.Error(), "flite1-dev")
}

// digits is a 299-byte "sentence" of digits, which flite reads one by one: about two
// minutes of audio, the slowest kind of sentence the splitter lets through.
var digits = strings.TrimSpace(strings.Repeat("1234567890 ", 27) + "12")

func TestInterruptSentence(t *testing.T) {
	stop := int32(1)
	start := time.Now()
	out, err := synthesize(nil, 2, digits, 1, 0, &stop)
	require.ErrorIs(t, err, errInterrupted)
	assert.Empty(t, out)
	t.Logf("slt, %d-byte sentence of digits, stopped from the start: %v", len(digits), time.Since(start))
}

// TestCancelDuringSentence cancels ctx and closes readers while a long sentence is
// being synthesized with a clustergen voice: the synthesis is interrupted.
func TestCancelDuringSentence(t *testing.T) {
	s := newSynth(t, "slt")
	for _, how := range []string{"cancel", "close"} {
		ctx, cancel := context.WithCancel(t.Context())
		r, err := s.Synthesize(ctx, digits, tts.Options{})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			_, err := r.ReadFrame()
			done <- err
		}()
		time.Sleep(50 * time.Millisecond) // into the synthesis; the checks hold either way
		start := time.Now()
		if how == "cancel" {
			cancel()
		} else {
			require.NoError(t, r.Close())
		}
		select {
		case err := <-done:
			if how == "cancel" {
				require.ErrorIs(t, err, context.Canceled)
			} else {
				require.ErrorIs(t, err, media.ErrClosed)
			}
		case <-time.After(time.Minute):
			t.Fatal("ReadFrame did not return")
		}
		t.Logf("%s: ReadFrame returned %v later", how, time.Since(start))
		require.NoError(t, r.Close())
		cancel()
	}
}
