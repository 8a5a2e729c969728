package stttest_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// The three bursts of Synthetic audio lie at 0.3-1.0 s, 2.0-2.7 s and 3.7-4.4 s.
var menu = []stttest.Utterance{
	{Text: "sales", Confidence: 0.9, Start: 300 * time.Millisecond, End: 1000 * time.Millisecond},
	{Text: "technical support please", Confidence: 0.8, Start: 2000 * time.Millisecond, End: 2700 * time.Millisecond},
	{Text: "no thank you", Confidence: 0.7, Start: 3700 * time.Millisecond, End: 4400 * time.Millisecond},
}

func TestScriptConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script *stttest.Script
	}{
		{"BySpeech", &stttest.Script{Trigger: stttest.BySpeech, Utterances: menu}},
		{"BySpeechPartials", &stttest.Script{Trigger: stttest.BySpeech, Utterances: menu, Partials: true}},
		{"ByPosition", &stttest.Script{Utterances: menu}},
		{"ByPositionPartials", &stttest.Script{Utterances: menu, Partials: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rate := range []int{8000, 16000} {
				stttest.Run(t, func(*testing.T) stt.Recognizer { return tc.script },
					stttest.Options{SampleRate: rate, Deterministic: true})
			}
		})
	}
}

// collect writes audio to a session of r in 20 ms frames, closes it and returns what
// Recv gave.
func collect(t *testing.T, r stt.Recognizer, cfg stt.Config, audio []int16) []stt.Result {
	t.Helper()
	s, err := r.Start(t.Context(), cfg)
	require.NoError(t, err)
	for _, f := range stttest.Frames(audio, cfg.SampleRate) {
		require.NoError(t, s.WriteFrame(f))
	}
	require.NoError(t, s.Close())
	var out []stt.Result
	for {
		res, err := s.Recv()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, res)
	}
}

func TestScriptBySpeech(t *testing.T) {
	sc := &stttest.Script{Trigger: stttest.BySpeech, Utterances: menu[:2], Partials: true}
	got := collect(t, sc, stt.Config{SampleRate: 8000, EndSilence: 500 * time.Millisecond}, stttest.Synthetic(8000))
	require.NoError(t, stttest.Validate(got))
	var texts []string
	for _, r := range got {
		texts = append(texts, r.Text)
	}
	// One partial per 200 ms of sound, at most one word short of the final; the third
	// burst has no scripted utterance and gives nothing.
	require.Equal(t, []string{"sales", "technical", "technical support", "technical support please"}, texts)
	require.True(t, got[0].Final)
	require.False(t, got[1].Final)
	require.True(t, got[3].Final)
	// The bursts fade in and out; the loud part lies inside each burst.
	require.InDelta(t, 0.3, got[0].Start.Seconds(), 0.1)
	require.InDelta(t, 1.0, got[0].End.Seconds(), 0.1)
	require.InDelta(t, 2.0, got[3].Start.Seconds(), 0.1)
	require.InDelta(t, 2.7, got[3].End.Seconds(), 0.1)
	require.Equal(t, 0.8, got[3].Confidence)
	require.Equal(t, []stt.Config{{SampleRate: 8000, EndSilence: 500 * time.Millisecond}}, sc.Starts())
}

func TestScriptByPosition(t *testing.T) {
	sc := &stttest.Script{Utterances: []stttest.Utterance{
		{Text: "one two three four", Start: 0, End: 400 * time.Millisecond},
		{Text: "five", Start: time.Second, End: 2 * time.Second},
	}, Partials: true}
	texts := func(rs []stt.Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Text)
		}
		return out
	}
	// 1 s of audio: words due at 100, 200 and 300 ms, the final at 400 ms; the second
	// utterance starts exactly when the audio ends, so Close has nothing to finish.
	got := collect(t, sc, stt.Config{SampleRate: 8000}, make([]int16, 8000))
	require.NoError(t, stttest.Validate(got))
	require.Equal(t, []string{"one", "one two", "one two three", "one two three four"}, texts(got))
	require.Equal(t, 300*time.Millisecond, got[2].End)
	require.Equal(t, stt.Result{Text: "one two three four", End: 400 * time.Millisecond, Final: true}, got[3])

	// 1.2 s: Close finishes the second utterance where the audio ends.
	got = collect(t, sc, stt.Config{SampleRate: 8000}, make([]int16, 9600))
	require.NoError(t, stttest.Validate(got))
	require.Equal(t, []string{"one", "one two", "one two three", "one two three four", "five"}, texts(got))
	require.Equal(t, stt.Result{Text: "five", Start: time.Second, End: 1200 * time.Millisecond, Final: true}, got[4])
}

func TestScriptFinalize(t *testing.T) {
	sc := &stttest.Script{Trigger: stttest.BySpeech, Utterances: menu}
	s, err := sc.Start(t.Context(), stt.Config{SampleRate: 16000})
	require.NoError(t, err)
	audio := stttest.Synthetic(16000)
	// Up to the middle of the first burst.
	for _, f := range stttest.Frames(audio[:media.SamplesPer(16000, 650*time.Millisecond)], 16000) {
		require.NoError(t, s.WriteFrame(f))
	}
	require.NoError(t, s.(stt.Finalizer).Finalize())
	r, err := s.Recv()
	require.NoError(t, err)
	require.True(t, r.Final)
	require.Equal(t, "sales", r.Text)
	require.InDelta(t, 0.65, r.End.Seconds(), 0.03)
	require.NoError(t, s.Close())
	_, err = s.Recv()
	require.ErrorIs(t, err, io.EOF)
	require.ErrorIs(t, s.(stt.Finalizer).Finalize(), media.ErrClosed)
}

func TestScriptStartErrors(t *testing.T) {
	sc := &stttest.Script{}
	_, err := sc.Start(t.Context(), stt.Config{})
	require.ErrorIs(t, err, stt.ErrUnsupported)
	_, err = sc.Start(t.Context(), stt.Config{SampleRate: 8000, Grammar: stt.DigitsGrammar(), Keywords: []string{"sales"}})
	require.ErrorIs(t, err, stt.ErrUnsupported)
	_, err = sc.Start(t.Context(), stt.Config{SampleRate: 8000, Grammar: "public <a> = b;"})
	require.ErrorIs(t, err, stt.ErrGrammar)
	bad := &stttest.Script{Utterances: []stttest.Utterance{{Text: "a", Start: time.Second, End: 2 * time.Second}, {Text: "b", Start: 0, End: time.Second}}}
	_, err = bad.Start(t.Context(), stt.Config{SampleRate: 8000})
	require.Error(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = sc.Start(ctx, stt.Config{SampleRate: 8000})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, sc.Starts(), 0)
}
