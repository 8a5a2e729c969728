package switchboard_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/media"
)

// verbsSox makes a WAV file of a freq Hz tone (d long, half scale) with SoX in the
// given encoding, rate and channel count.
func verbsSox(t *testing.T, dir string, freq float64, d time.Duration, rate, channels int, enc ...string) string {
	t.Helper()
	if _, err := exec.LookPath("sox"); err != nil {
		t.Fatalf("sox is needed to make test files: install the Debian package sox (%v)", err)
	}
	path := filepath.Join(dir, strconv.Itoa(int(freq))+".wav")
	args := []string{"-n", "-r", strconv.Itoa(rate), "-c", strconv.Itoa(channels)}
	args = append(args, enc...)
	args = append(args, path, "synth", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "sine", strconv.Itoa(int(freq)), "vol", "0.5")
	out, err := exec.Command("sox", args...).CombinedOutput()
	require.NoError(t, err, "sox %v: %s", args, out)
	return path
}

// WAV files of several encodings, rates and channel counts play at the call's rate:
// the far end hears each file's tone, in turn.
func TestPlayWAVFormats(t *testing.T) {
	t.Parallel() // mostly waiting on real time
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	dir := t.TempDir()
	files := []struct {
		name string
		path string
		freq float64
	}{
		{"u8 11.025 kHz stereo", verbsSox(t, dir, 500, 600*time.Millisecond, 11025, 2, "-e", "unsigned-integer", "-b", "8"), 500},
		{"s16 16 kHz", verbsSox(t, dir, 700, 600*time.Millisecond, 16000, 1, "-e", "signed-integer", "-b", "16"), 700},
		{"s24 44.1 kHz", verbsSox(t, dir, 900, 600*time.Millisecond, 44100, 1, "-e", "signed-integer", "-b", "24"), 900},
		{"f32 48 kHz stereo", verbsSox(t, dir, 1100, 600*time.Millisecond, 48000, 2, "-e", "floating-point", "-b", "32"), 1100},
		{"mu-law 8 kHz", verbsSox(t, dir, 1300, 600*time.Millisecond, 8000, 1, "-e", "mu-law"), 1300},
		{"a-law 8 kHz", verbsSox(t, dir, 1500, 600*time.Millisecond, 8000, 1, "-e", "a-law"), 1500},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, f := range files {
		m := tap.mark()
		require.NoError(t, vc.callee.Play(ctx, call.PlayOptions{File: f.path}), f.name)
		settle()
		x := tap.since(m)
		checkTone(t, f.name, x, tap.rate, f.freq)
		from, to, _ := audiotest.ActiveSpan(x, tap.rate, 20*time.Millisecond, -30)
		assert.InDelta(t, 0.6, float64(to-from)/float64(tap.rate), 0.06, "%s: length heard", f.name)
	}
	err := vc.callee.Play(ctx, call.PlayOptions{File: filepath.Join(dir, "missing.wav")})
	assert.Error(t, err)
	ended := vc.events.waitEvent(t, func(e call.Event) bool {
		pe, ok := e.(call.PlaybackEnded)
		return ok && pe.Status == call.PlaybackFailed
	}).(call.PlaybackEnded)
	assert.ErrorIs(t, ended.Err, err)
	// Each file: started, then ended completed; the missing one only ended (failed).
	var want []string
	for range files {
		want = append(want, "call.playback.started", "call.playback.ended")
	}
	want = append(want, "call.playback.ended")
	assert.Equal(t, want, vc.events.names(verbEvent))
}

// Play returns once its audio has played out, not when it was queued.
func TestPlayReturnsAfterPlayout(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	m, err := vc.callee.Media()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tone := media.Beep(800, time.Second)
	mark := tap.mark()
	sent := m.Stats().PacketsSent
	require.NoError(t, vc.callee.Play(ctx, call.PlayOptions{Tone: &tone}))
	// The queue holds 240 ms: had Play returned when the last frame was queued, most of
	// it would still be there.
	assert.Zero(t, m.QueueDepth())
	assert.GreaterOrEqual(t, m.Stats().PacketsSent-sent, uint64(50), "a second of audio went out before Play returned")
	settle()
	checkTone(t, "tone", tap.since(mark), tap.rate, 800)
	var ended call.PlaybackEnded
	for _, e := range vc.events.snapshot() {
		if pe, ok := e.(call.PlaybackEnded); ok {
			ended = pe
		}
	}
	assert.Equal(t, call.PlaybackCompleted, ended.Status)
	assert.Equal(t, "tone", ended.Source)
}

// Sources other than files: a WAV io.Reader (seekable or not, looped), a tone, frames
// at another rate (looped), a WAV over HTTP downloaded once for every play.
func TestPlaySources(t *testing.T) {
	t.Parallel() // mostly waiting on real time
	var downloads atomic.Int32
	wav16k := audiotest.EncodeWAV(audiotest.Sine(16000, 600, 400*time.Millisecond, -6), 16000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prompt.wav" {
			http.NotFound(w, r)
			return
		}
		downloads.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(wav16k)
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	cache := call.NewURLCache(call.URLCacheOptions{Client: srv.Client()})
	vc := verbsDial(t, switchboard.Config{URLCache: cache}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	wav8k := audiotest.EncodeWAV(audiotest.Sine(8000, 1200, 400*time.Millisecond, -6), 8000)
	tone := media.Beep(1700, 250*time.Millisecond)
	for _, tc := range []struct {
		name   string
		opts   call.PlayOptions
		freq   float64
		length float64 // seconds heard
	}{
		{"reader", call.PlayOptions{Reader: bytes.NewReader(wav8k)}, 1200, 0.4},
		{"seekable reader looped", call.PlayOptions{Reader: bytes.NewReader(wav8k), Loop: 3}, 1200, 1.2},
		{"stream looped", call.PlayOptions{Reader: io.MultiReader(bytes.NewReader(wav8k)), Loop: 2}, 1200, 0.8},
		{"tone looped", call.PlayOptions{Tone: &tone, Loop: 2}, 1700, 0.5},
		{"frames at 16 kHz looped", call.PlayOptions{
			Frames: media.NewSliceReader(audiotest.Sine(16000, 900, 300*time.Millisecond, -6), 16000, 0), Loop: 2}, 900, 0.6},
		{"URL", call.PlayOptions{URL: srv.URL + "/prompt.wav"}, 600, 0.4},
		{"URL looped", call.PlayOptions{URL: srv.URL + "/prompt.wav", Loop: 2}, 600, 0.8},
	} {
		m := tap.mark()
		require.NoError(t, vc.callee.Play(ctx, tc.opts), tc.name)
		settle()
		x := tap.since(m)
		checkTone(t, tc.name, x, tap.rate, tc.freq)
		from, to, _ := audiotest.ActiveSpan(x, tap.rate, 20*time.Millisecond, -30)
		assert.InDelta(t, tc.length, float64(to-from)/float64(tap.rate), 0.05, "%s: length heard", tc.name)
	}
	assert.EqualValues(t, 1, downloads.Load(), "the URL was downloaded once")
	assert.EqualValues(t, 1, cache.Stats().Downloads)

	err := vc.callee.Play(ctx, call.PlayOptions{URL: srv.URL + "/missing.wav"})
	assert.ErrorIs(t, err, call.ErrDownload)
	assert.ErrorContains(t, err, "404")
	err = vc.callee.Play(ctx, call.PlayOptions{})
	assert.ErrorIs(t, err, call.ErrInvalidOptions)
	err = vc.callee.Play(ctx, call.PlayOptions{Reader: bytes.NewReader([]byte("not a wav file at all"))})
	assert.Error(t, err)
}

// Hold music: a background playback loops until stopped, pauses and resumes, while
// the application goes on; a Play queued behind it waits its turn.
func TestPlayBackground(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	music := media.Tone{Frequencies: []float64{440}, Level: -12, Duration: 200 * time.Millisecond}
	pb, err := vc.callee.PlayBackground(ctx, call.PlayOptions{Tone: &music, Loop: call.LoopForever})
	require.NoError(t, err)

	mark := tap.mark()
	time.Sleep(700 * time.Millisecond)
	checkTone(t, "music", tap.since(mark), tap.rate, 440)

	pb.Pause()
	settle()
	mark = tap.mark()
	time.Sleep(400 * time.Millisecond)
	assert.Less(t, audiotest.RMSdBFS(tap.since(mark)), -50.0, "silent while paused")

	pb.Resume()
	mark = tap.mark()
	time.Sleep(600 * time.Millisecond)
	checkTone(t, "music resumed", tap.since(mark), tap.rate, 440)

	// A Play waits for the background playback to end.
	beep := media.Beep(1000, 300*time.Millisecond)
	played := make(chan error, 1)
	go func() { played <- vc.callee.Play(ctx, call.PlayOptions{Tone: &beep}) }()
	select {
	case err := <-played:
		t.Fatalf("Play ran while the background playback had the call: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	mark = tap.mark()
	require.NoError(t, pb.Stop())
	require.NoError(t, <-played)
	settle()
	checkTone(t, "beep after the music", tap.since(mark), tap.rate, 1000)
	require.NoError(t, pb.Wait(ctx))
	select {
	case <-pb.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}

	var statuses []call.PlaybackStatus
	for _, e := range vc.events.snapshot() {
		if pe, ok := e.(call.PlaybackEnded); ok {
			statuses = append(statuses, pe.Status)
		}
	}
	assert.Equal(t, []call.PlaybackStatus{call.PlaybackStopped, call.PlaybackCompleted}, statuses)

	// The call's end ends a background playback.
	pb, err = vc.callee.PlayBackground(ctx, call.PlayOptions{Tone: &music, Loop: call.LoopForever})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, vc.caller.Hangup(ctx, 0))
	assert.ErrorIs(t, pb.Wait(ctx), call.ErrCallEnded)
	vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.Hangup); return ok })
	all := vc.events.snapshot()
	last, hangup := all[len(all)-2], all[len(all)-1]
	require.IsType(t, call.PlaybackEnded{}, last, "the playback's end is reported before the hangup")
	assert.Equal(t, call.PlaybackCallHangup, last.(call.PlaybackEnded).Status)
	assert.IsType(t, call.Hangup{}, hangup)
	_, err = vc.callee.PlayBackground(ctx, call.PlayOptions{Tone: &music})
	assert.True(t, errors.Is(err, call.ErrCallEnded), "after the end: %v", err)
}

// Cancelling Play's ctx stops the audio within a frame; the call goes on.
func TestPlayCancel(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	m, err := vc.callee.Media()
	require.NoError(t, err)
	tone := media.Beep(1000, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- vc.callee.Play(ctx, call.PlayOptions{Tone: &tone}) }()
	tap.waitLoud(t, 0)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Zero(t, m.QueueDepth())
	settle()
	mark := tap.mark()
	time.Sleep(300 * time.Millisecond)
	assert.Less(t, audiotest.RMSdBFS(tap.since(mark)), -50.0, "silent after the stop")
	assert.Equal(t, call.StateAnswered, vc.callee.State())
	ended := vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.PlaybackEnded); return ok })
	assert.Equal(t, call.PlaybackStopped, ended.(call.PlaybackEnded).Status)
}
