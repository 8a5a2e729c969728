package ttstest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestToneConformance(t *testing.T) {
	ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return &ttstest.Tone{} })
}

func TestToneConformance16k(t *testing.T) {
	ttstest.Run(t, func(t *testing.T) tts.Synthesizer {
		return &ttstest.Tone{SampleRate: 16000, FirstFrameDelay: time.Millisecond}
	}, ttstest.WithSampleRates(8000, 48000))
}

func TestToneWords(t *testing.T) {
	tone := &ttstest.Tone{}
	text := "Press one, for billing."
	r, err := tone.Synthesize(t.Context(), text, tts.Options{})
	require.NoError(t, err)
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, tone.Duration(text, tts.Options{}), a.Duration())
	assert.Equal(t, 4*(ttstest.DefaultToneWord+ttstest.DefaultToneGap), a.Duration())

	// Each word's burst is at its frequency: the pitch estimator finds it in the first.
	word := int(8000 * ttstest.DefaultToneWord / time.Second)
	first := ttstest.Audio{SampleRate: 8000, Samples: a.Samples[:word]}
	f := ttstest.WordFrequency("press")
	if f <= 400 { // only frequencies the estimator covers
		assert.InDelta(t, f, first.Pitch(), f*0.03)
	}
	assert.Equal(t, ttstest.WordFrequency("Billing."), ttstest.WordFrequency("billing"))
	assert.Equal(t, int64(1), tone.Calls())

	fast := tone.Duration(text, tts.Options{Rate: 2})
	assert.Equal(t, a.Duration()/2, fast)
	assert.Equal(t, []string{"Hello", "world."}, ttstest.Words(`<speak>Hello<break time="1s"/>world.</speak>`, true))
}

func TestPitchEstimate(t *testing.T) {
	// A burst at 200 Hz (below the estimator's 400 Hz ceiling) made by Tone with a
	// pitch shift of an octave down from a 400 Hz word.
	var word string
	for _, w := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"} {
		if ttstest.WordFrequency(w) == 400 {
			word = w
		}
	}
	require.NotEmpty(t, word, "some single letter hashes to 400 Hz")
	tone := &ttstest.Tone{Word: time.Second}
	r, err := tone.Synthesize(t.Context(), word, tts.Options{Pitch: -12})
	require.NoError(t, err)
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	require.NoError(t, err)
	assert.InDelta(t, 200, a.Pitch(), 2)
	assert.InDelta(t, ttstest.ToneLevel-3, a.Level(), 1, "a sine at -10 dBFS peak is -13 dBFS RMS, less the gap")
	assert.Greater(t, a.ActiveDuration(ttstest.ActiveThreshold), 900*time.Millisecond)
}
