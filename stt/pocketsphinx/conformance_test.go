package pocketsphinx

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// newTestRecognizer makes a Recognizer closed at the end of the test.
func newTestRecognizer(t testing.TB, cfg Config) *Recognizer {
	t.Helper()
	requireSpeechTools(t)
	r, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

// twoUtterances is speech for the conformance kit: two sentences with pauses.
func twoUtterances(t *testing.T, rate int) []int16 {
	a := synth(t, "slt", "the sales department", 16000)
	b := synth(t, "slt", "one two three", 16000)
	audio := slices.Concat(silence(16000, 0.3), a, silence(16000, 0.8), b, silence(16000, 0.8))
	if rate == 8000 {
		return telephone(t, audio)
	}
	return audio
}

func TestConformance(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	for _, tc := range []struct {
		name string
		rate int
		cfg  stt.Config
	}{
		{"LM16k", 16000, stt.Config{}},
		{"Digits8k", 8000, stt.Config{Grammar: stt.DigitsGrammar()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stttest.Run(t, func(*testing.T) stt.Recognizer { return r }, stttest.Options{
				SampleRate:    tc.rate,
				Audio:         twoUtterances(t, tc.rate),
				Config:        tc.cfg,
				Deterministic: true,
				Concurrency:   2,
			})
		})
	}
}
