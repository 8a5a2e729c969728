package tts_test

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOptionsValidate(t *testing.T) {
	valid := []tts.Options{
		{},
		{Rate: tts.MinRate}, {Rate: tts.MaxRate}, {Rate: 1.5},
		{Pitch: -tts.MaxPitch}, {Pitch: tts.MaxPitch},
		{SampleRate: 8000}, {SampleRate: tts.MaxSampleRate},
		{Voice: "en-us+f3", Language: "en-US", SSML: true},
	}
	for _, o := range valid {
		assert.NoError(t, o.Validate(), "%+v", o)
	}
	invalid := []tts.Options{
		{Rate: -1}, {Rate: 0.1}, {Rate: 5}, {Rate: math.NaN()}, {Rate: math.Inf(1)},
		{Pitch: 13}, {Pitch: -13}, {Pitch: math.NaN()},
		{SampleRate: -1}, {SampleRate: tts.MaxSampleRate + 1},
		{Voice: "en\n-v evil"}, {Language: "en\x00"},
	}
	for _, o := range invalid {
		assert.ErrorIs(t, o.Validate(), tts.ErrInvalidOptions, "%+v", o)
	}
	assert.Equal(t, 1.0, tts.Options{}.SpeakingRate())
	assert.Equal(t, 2.0, tts.Options{Rate: 2}.SpeakingRate())
}

func TestEmpty(t *testing.T) {
	assert.True(t, tts.Blank(" \n\t"))
	assert.False(t, tts.Blank(" a "))
	r := tts.Empty(8000)
	assert.Equal(t, 8000, r.SampleRate())
	_, err := r.ReadFrame()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	_, err = r.ReadFrame()
	assert.ErrorIs(t, err, media.ErrClosed)
}

// plain is a Synthesizer without optional interfaces.
type plain struct{ s tts.Synthesizer }

func (p plain) Synthesize(ctx context.Context, text string, o tts.Options) (media.FrameReadCloser, error) {
	if strings.Contains(text, "fail") {
		return nil, errors.New("engine failure")
	}
	return p.s.Synthesize(ctx, text, o)
}

func TestStreamTextNeedsRate(t *testing.T) {
	p := plain{&ttstest.Tone{}}
	_, err := tts.StreamText(t.Context(), p, tts.Options{})
	require.ErrorIs(t, err, tts.ErrInvalidOptions)
	_, err = tts.StreamText(t.Context(), p, tts.Options{SampleRate: 8000, SSML: true})
	require.ErrorIs(t, err, tts.ErrUnsupported)
	_, err = tts.StreamText(t.Context(), p, tts.Options{SampleRate: 8000, Rate: 9})
	require.ErrorIs(t, err, tts.ErrInvalidOptions)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = tts.StreamText(ctx, p, tts.Options{SampleRate: 8000})
	require.ErrorIs(t, err, context.Canceled)
}

// TestSentenceStreamFrames checks that sentences whose audio is not a whole number of
// frames still join into 20 ms frames, in order and without loss.
func TestSentenceStreamFrames(t *testing.T) {
	tone := &ttstest.Tone{Word: 33 * time.Millisecond, Gap: 11 * time.Millisecond}
	st, err := tts.StreamText(t.Context(), plain{tone}, tts.Options{SampleRate: 8000})
	require.NoError(t, err)
	defer st.Close()
	text := "One two three. Four five! Six seven eight nine? Ten"
	_, err = io.WriteString(st, text)
	require.NoError(t, err)
	require.NoError(t, st.CloseWrite())
	a, err := ttstest.ReadAll(st)
	require.NoError(t, err)
	for i, n := range a.Frames[:len(a.Frames)-1] {
		require.Equal(t, 160, n, "frame %d", i)
	}
	assert.Equal(t, 10*(264+88), len(a.Samples), "every word's burst and gap, nothing more")
	assert.Equal(t, int64(4), tone.Calls(), "one synthesis per sentence")

	// The same audio as the whole text at once, sample for sample.
	r, err := tone.Synthesize(t.Context(), text, tts.Options{})
	require.NoError(t, err)
	defer r.Close()
	whole, err := ttstest.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, whole.Samples, a.Samples)
}

func TestSentenceStreamErrors(t *testing.T) {
	st, err := tts.StreamText(t.Context(), plain{&ttstest.Tone{}}, tts.Options{SampleRate: 8000})
	require.NoError(t, err)
	defer st.Close()
	_, err = io.WriteString(st, "This will fail. ")
	require.NoError(t, err)
	_, err = st.ReadFrame()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "engine failure")
	assert.Contains(t, err.Error(), "This will fail.")

	// A provider that ignores Options.SampleRate is caught.
	st2, err := tts.NewSentenceStream(t.Context(), wrongRate{}, tts.Options{SampleRate: 8000})
	require.NoError(t, err)
	defer st2.Close()
	_, err = io.WriteString(st2, "Hello.\n")
	require.NoError(t, err)
	_, err = st2.ReadFrame()
	require.ErrorIs(t, err, tts.ErrUnsupported)
}

type wrongRate struct{}

func (wrongRate) Synthesize(ctx context.Context, text string, o tts.Options) (media.FrameReadCloser, error) {
	o.SampleRate = 16000
	return (&ttstest.Tone{}).Synthesize(ctx, text, o)
}

// TestSentenceStreamCloseDuringSynthesis closes the stream while a sentence's first
// frame is still being waited for.
func TestSentenceStreamCloseDuringSynthesis(t *testing.T) {
	tone := &ttstest.Tone{FirstFrameDelay: time.Hour}
	st, err := tts.StreamText(t.Context(), plain{tone}, tts.Options{SampleRate: 8000})
	require.NoError(t, err)
	_, err = io.WriteString(st, "Slow engine.\n")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := st.ReadFrame()
		done <- err
	}()
	for tone.Calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, st.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, media.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end ReadFrame")
	}
}

func BenchmarkSentenceStream(b *testing.B) {
	tone := &ttstest.Tone{}
	b.ReportAllocs()
	for b.Loop() {
		st, err := tts.StreamText(b.Context(), plain{tone}, tts.Options{SampleRate: 8000})
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.WriteString(st, ttstest.LongText)
		_ = st.CloseWrite()
		for {
			if _, err := st.ReadFrame(); err != nil {
				break
			}
		}
		_ = st.Close()
	}
}
