package switchboard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/vad"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// Speak through a deterministic engine: each word is a tone whose frequency names the
// word, so the far end can tell what was said, and in which order.
func TestSpeakTones(t *testing.T) {
	synth := &ttstest.Tone{Word: 400 * time.Millisecond, Gap: 100 * time.Millisecond}
	vc := verbsDial(t, switchboard.Config{TTS: synth}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mark := tap.mark()
	require.NoError(t, vc.callee.Speak(ctx, "alpha bravo", call.SpeakOptions{}))
	settle()
	x := tap.since(mark)
	for _, word := range []string{"alpha", "bravo"} {
		from, to, ok := audiotest.ActiveSpan(x, tap.rate, 20*time.Millisecond, -30)
		require.True(t, ok, word)
		assert.InDelta(t, 0.4, float64(to-from)/float64(tap.rate), 0.03, word)
		got := audiotest.DominantFrequency(x[from+tap.rate/20:to-tap.rate/20], tap.rate, 300, 2000, 1)
		assert.InDelta(t, ttstest.WordFrequency(word), got, 10, word)
		x = x[to:]
	}
	assert.Equal(t, []string{"call.speak.started", "call.speak.ended"}, vc.events.names(verbEvent))
	ended := vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.SpeakEnded); return ok }).(call.SpeakEnded)
	assert.Equal(t, call.PlaybackCompleted, ended.Status)
	assert.Equal(t, "alpha bravo", ended.Text)

	// Options reach the engine: Pitch +12 doubles the frequencies.
	mark = tap.mark()
	require.NoError(t, vc.callee.Speak(ctx, "charlie", call.SpeakOptions{Pitch: 12}))
	settle()
	checkTone(t, "charlie an octave up", tap.since(mark), tap.rate, 2*ttstest.WordFrequency("charlie"))
	// Invalid options and engine refusals are errors, before anything plays.
	err := vc.callee.Speak(ctx, "x", call.SpeakOptions{Rate: 10})
	assert.ErrorIs(t, err, tts.ErrInvalidOptions)
	err = vc.callee.Speak(ctx, "x", call.SpeakOptions{Language: "fr-FR"})
	assert.ErrorIs(t, err, tts.ErrUnknownVoice)
}

// gatedSynth passes the first frames of each synthesis through, then holds the rest
// until gate is closed: an engine still busy with the end of a long text.
type gatedSynth struct {
	inner  tts.Synthesizer
	frames int
	gate   chan struct{}
}

func (g *gatedSynth) Synthesize(ctx context.Context, text string, opts tts.Options) (media.FrameReadCloser, error) {
	r, err := g.inner.Synthesize(ctx, text, opts)
	if err != nil {
		return nil, err
	}
	return &gatedReader{FrameReadCloser: r, g: g, ctx: ctx}, nil
}

type gatedReader struct {
	media.FrameReadCloser
	g   *gatedSynth
	ctx context.Context
	n   int
}

func (r *gatedReader) ReadFrame() (media.Frame, error) {
	if r.n == r.g.frames {
		select {
		case <-r.g.gate:
		case <-r.ctx.Done():
			return media.Frame{}, r.ctx.Err()
		}
	}
	r.n++
	return r.FrameReadCloser.ReadFrame()
}

// Speak streams: the caller hears the start of the speech while the engine has not
// produced the rest. The engine here withholds everything after its first 200 ms until
// the far end has heard audio; a Speak that waited for the whole text would never
// play anything.
func TestSpeakStreams(t *testing.T) {
	g := &gatedSynth{inner: &ttstest.Tone{Word: 2 * time.Second}, frames: 10, gate: make(chan struct{})}
	vc := verbsDial(t, switchboard.Config{TTS: g}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- vc.callee.Speak(ctx, "hello", call.SpeakOptions{}) }()
	tap.waitLoud(t, 0)
	t.Logf("first audio heard %v after Speak, with synthesis held back", time.Since(began).Round(time.Millisecond))
	select {
	case err := <-done:
		t.Fatalf("Speak returned before the speech was synthesized: %v", err)
	default:
	}
	close(g.gate)
	require.NoError(t, <-done)
	settle()
	checkTone(t, "hello", tap.since(0), tap.rate, ttstest.WordFrequency("hello"))
}

// The default engine is espeak-ng: real speech reaches the far end, where voice
// activity detection finds it; SSML is understood; unknown voices are refused.
func TestSpeakEspeak(t *testing.T) {
	t.Parallel() // mostly waiting on real time
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		text string
		opts call.SpeakOptions
	}{
		{"Hello, this is Switchboard speaking.", call.SpeakOptions{}},
		{`<speak>One <break time="400ms"/> two <prosody rate="slow">three</prosody></speak>`, call.SpeakOptions{SSML: true}},
		{"Bonjour tout le monde.", call.SpeakOptions{Language: "fr-FR", Rate: 1.2}},
	} {
		mark := tap.mark()
		began := time.Now()
		require.NoError(t, vc.callee.Speak(ctx, tc.text, tc.opts), tc.text)
		took := time.Since(began)
		settle()
		speech := speechIn(t, tap.since(mark), tap.rate)
		t.Logf("%q: %v of speech heard, Speak took %v", tc.text, speech, took.Round(time.Millisecond))
		assert.Greater(t, speech, 700*time.Millisecond, tc.text)
	}
	err := vc.callee.Speak(ctx, "x", call.SpeakOptions{Voice: "no-such-voice"})
	assert.ErrorIs(t, err, tts.ErrUnknownVoice)
}

// speechIn is how much of x voice activity detection takes for speech.
func speechIn(t *testing.T, x []int16, rate int) time.Duration {
	t.Helper()
	var speech time.Duration
	w, err := vad.NewWriter(media.Discard(rate), vad.Config{})
	require.NoError(t, err)
	n := media.SamplesPer(rate, 20*time.Millisecond)
	for off := 0; off+n <= len(x); off += n {
		f := media.Frame{Samples: x[off : off+n], SampleRate: rate}
		require.NoError(t, w.WriteFrame(f))
		if w.Detector().Speaking() {
			speech += 20 * time.Millisecond
		}
	}
	return speech
}

// Without an engine configured and without espeak-ng installed, Speak says what to
// install.
func TestSpeakNoEngine(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no espeak-ng to be found
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	err := vc.callee.Speak(context.Background(), "hello", call.SpeakOptions{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, tts.ErrUnavailable), "%v", err)
	assert.True(t, strings.Contains(err.Error(), "espeak-ng"), "%v", err)
}
