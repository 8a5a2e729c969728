package espeak

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// newSynth returns a Synthesizer for the installed espeak-ng; a missing program fails
// the test with the name of the package to install.
func newSynth(t testing.TB) *Synthesizer {
	t.Helper()
	s, err := New(Config{})
	require.NoError(t, err)
	return s
}

// text30 is a 30-word sentence.
const text30 = "The weather service predicts rain for the afternoon and evening hours " +
	"across the northern part of the region, so please drive carefully and allow extra time for your journey today."

func TestText30Words(t *testing.T) {
	require.Len(t, strings.Fields(text30), 30)
}

func TestConformance(t *testing.T) {
	ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return newSynth(t) })
}

func TestConformanceVariantVoice(t *testing.T) {
	ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return newSynth(t) },
		ttstest.WithOptions(tts.Options{Voice: "en-us+f3", Rate: 1.2, Pitch: 2}),
		ttstest.WithSampleRates(8000, 48000),
		ttstest.WithInvalid(tts.Options{Voice: "en-us+no-such-variant"}))
}

func TestMissingProgram(t *testing.T) {
	_, err := New(Config{Program: filepath.Join(t.TempDir(), "espeak-ng")})
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, err, tts.ErrUnavailable)
	assert.Contains(t, err.Error(), "espeak-ng not found: install the Debian package espeak-ng")

	t.Setenv("PATH", t.TempDir())
	_, err = New(Config{})
	require.ErrorIs(t, err, ErrNotFound)
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

// TestSpeechLike checks that the audio of a 30-word sentence looks like speech: as
// long as 30 words take at about 175 words per minute, sounding most of the time but
// with pauses, at a speaking level, voiced at a male speaking pitch.
func TestSpeechLike(t *testing.T) {
	s := newSynth(t)
	a := synthAll(t, s, text30, tts.Options{})
	require.Equal(t, NativeRate, a.SampleRate)
	d := a.Duration()
	nominal := 30 * time.Minute / defaultWPM // 10.3 s
	assert.Greater(t, d, nominal*6/10)
	assert.Less(t, d, nominal*16/10)
	active := float64(a.ActiveDuration(ttstest.ActiveThreshold)) / float64(d)
	assert.Greater(t, active, 0.5, "sounding share")
	assert.Less(t, active, 0.98, "speech has pauses")
	assert.Greater(t, a.Level(), -30.0)
	f0 := synthAll(t, s, text30, tts.Options{SampleRate: 8000}).Pitch() // pitch is cheaper to estimate at 8 kHz
	assert.Greater(t, f0, 70.0)
	assert.Less(t, f0, 200.0)
	t.Logf("30 words: %v (nominal %v), sounding %.0f%%, %.1f dBFS, pitch %.0f Hz", d, nominal, 100*active, a.Level(), f0)
}

func TestRate(t *testing.T) {
	s := newSynth(t)
	normal := synthAll(t, s, text30, tts.Options{}).Duration()
	fast := synthAll(t, s, text30, tts.Options{Rate: 2}).Duration()
	slow := synthAll(t, s, text30, tts.Options{Rate: 0.6}).Duration()
	t.Logf("rate 1: %v, rate 2: %v, rate 0.6: %v", normal, fast, slow)
	assert.Less(t, float64(fast), 0.65*float64(normal))
	assert.Greater(t, float64(slow), 1.4*float64(normal))
}

func TestPitch(t *testing.T) {
	s := newSynth(t)
	// At 8 kHz, where the pitch estimate is cheaper.
	base := synthAll(t, s, text30, tts.Options{SampleRate: 8000}).Pitch()
	up := synthAll(t, s, text30, tts.Options{SampleRate: 8000, Pitch: 6}).Pitch()
	down := synthAll(t, s, text30, tts.Options{SampleRate: 8000, Pitch: -4}).Pitch()
	t.Logf("pitch 0: %.0f Hz, +6 st: %.0f Hz, -4 st: %.0f Hz", base, up, down)
	assert.InDelta(t, 1.414, up/base, 0.15, "+6 semitones")
	assert.InDelta(t, 0.794, down/base, 0.1, "-4 semitones")
}

func TestPitchArg(t *testing.T) {
	assert.Equal(t, 50, pitchArg(0))
	assert.Equal(t, 0, pitchArg(-12))
	assert.Equal(t, 99, pitchArg(12))
	assert.Equal(t, 75, pitchArg(3.98))
	prev := -1
	for st := -12.0; st <= 12; st += 0.5 {
		p := pitchArg(st)
		assert.GreaterOrEqual(t, p, prev, "monotonic")
		prev = p
	}
	assert.Equal(t, 175, wpm(1))
	assert.Equal(t, 350, wpm(2))
	assert.Equal(t, minWPM, wpm(0.25))
	assert.Equal(t, 700, wpm(4))
}

func TestSSML(t *testing.T) {
	s := newSynth(t)
	plain := synthAll(t, s, "<speak>Hello world.</speak>", tts.Options{SSML: true}).Duration()
	paused := synthAll(t, s, `<speak>Hello <break time="1500ms"/> world.</speak>`, tts.Options{SSML: true}).Duration()
	t.Logf("without break %v, with a 1.5 s break %v", plain, paused)
	assert.Greater(t, paused-plain, time.Second)
}

func TestLanguages(t *testing.T) {
	s := newSynth(t)
	tb, err := s.table(t.Context())
	require.NoError(t, err)
	for tag, want := range map[string]string{
		"en-US": "en-us", "EN_us": "en-us", "en-GB": "en-gb", "en": "en", "de-DE": "de", "fr-FR": "fr-fr",
		"fr": "fr", "pt-BR": "pt-br", "es-MX": "es-mx", "zh-TW": "zh", "nb-NO": "nb",
	} {
		got, err := tb.resolveLanguage(tag)
		if assert.NoError(t, err, tag) {
			assert.Equal(t, want, got, tag)
		}
	}
	_, err = tb.resolveLanguage("qaa-x-private")
	assert.ErrorIs(t, err, tts.ErrUnknownVoice)

	for v, want := range map[string]string{"en-us": "en-us", "EN-US": "en-us", "gmw/en-US": "gmw/en-US", "en-US+F3": "en-us+f3", "fr+klatt": "fr+klatt"} {
		got, err := tb.resolveVoice(v)
		if assert.NoError(t, err, v) {
			assert.Equal(t, want, got, v)
		}
	}
	for _, v := range []string{"us-mbrola-1", "nope", "en-us+nope", "English_(America)"} {
		_, err := tb.resolveVoice(v)
		assert.ErrorIs(t, err, tts.ErrUnknownVoice, v)
	}

	// A language other than English really is spoken.
	a := synthAll(t, s, "Bonjour, je voudrais parler au service commercial.", tts.Options{Language: "fr-FR", SampleRate: 16000})
	assert.Equal(t, 16000, a.SampleRate)
	assert.Greater(t, a.Duration(), time.Second)
}

func TestVoices(t *testing.T) {
	vs, err := newSynth(t).Voices(t.Context())
	require.NoError(t, err)
	names := map[string]tts.Voice{}
	for _, v := range vs {
		assert.NotContains(t, names, v.Name, "names are unique")
		names[v.Name] = v
		assert.Equal(t, NativeRate, v.SampleRate)
		assert.NotEmpty(t, v.Languages)
	}
	require.Contains(t, names, "en-us")
	assert.Equal(t, []string{"en-us", "en"}, names["en-us"].Languages)
	assert.Equal(t, "male", names["en-us"].Gender)
	assert.Contains(t, names, "sit/yue-Latn-jyutping", "the second yue voice is named by its file")
	for _, v := range vs {
		assert.NotContains(t, v.Name, "mbrola")
	}
}

// TestStreamsWhileSpeaking checks that frames are delivered as espeak-ng writes them:
// after the first frame of a long text only a small part of the audio has been read
// from the pipe (espeak-ng is blocked writing the rest into it).
func TestStreamsWhileSpeaking(t *testing.T) {
	s := newSynth(t)
	long := strings.Repeat(text30+" ", 10) // about 100 s of audio, 4.4 MB
	r, err := s.Synthesize(t.Context(), long, tts.Options{})
	require.NoError(t, err)
	defer r.Close()
	_, err = r.ReadFrame()
	require.NoError(t, err)
	read := r.(*reader).stdout.n
	t.Logf("bytes read from espeak-ng when the first frame was returned: %d", read)
	assert.Less(t, read, int64(256<<10), "the first frame must not wait for the whole text")
	require.Nil(t, r.(*reader).cmd.ProcessState, "espeak-ng is still running")
}

// TestCloseKillsProcess checks that Close and ctx cancellation kill espeak-ng and reap
// it.
func TestCloseKillsProcess(t *testing.T) {
	s := newSynth(t)
	long := strings.Repeat(text30+" ", 10)
	r, err := s.Synthesize(t.Context(), long, tts.Options{})
	require.NoError(t, err)
	_, err = r.ReadFrame()
	require.NoError(t, err)
	pid := r.(*reader).cmd.Process.Pid
	require.NoError(t, r.Close())
	st := r.(*reader).cmd.ProcessState
	require.NotNil(t, st, "reaped by Close")
	assert.False(t, st.Success())
	_, err = os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	assert.True(t, os.IsNotExist(err), "process %d is gone", pid)

	ctx, cancel := context.WithCancel(t.Context())
	r, err = s.Synthesize(ctx, long, tts.Options{})
	require.NoError(t, err)
	_, err = r.ReadFrame()
	require.NoError(t, err)
	cancel()
	_, err = r.ReadFrame()
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, r.Close())
	require.NotNil(t, r.(*reader).cmd.ProcessState)
}

// fakeProgram writes an executable shell script standing in for espeak-ng: it answers
// --voices from the real program's list, and otherwise runs body.
func fakeProgram(t *testing.T, body string) string {
	t.Helper()
	real := newSynth(t)
	voices, err := real.run(t.Context(), "--voices")
	require.NoError(t, err)
	variants, err := real.run(t.Context(), "--voices=variant")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "voices"), voices, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "variants"), variants, 0o644))
	script := "#!/bin/sh\n" +
		"case \"$*\" in *--voices=variant*) cat " + dir + "/variants; exit 0;; *--voices*) cat " + dir + "/voices; exit 0;; esac\n" +
		body + "\n"
	p := filepath.Join(dir, "espeak-ng")
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func TestProgramErrorCarriesStderr(t *testing.T) {
	// Fails before writing any audio.
	s, err := New(Config{Program: fakeProgram(t, `cat >/dev/null; echo "Error: something broke" >&2; exit 3`)})
	require.NoError(t, err)
	r, err := s.Synthesize(t.Context(), "Hello.", tts.Options{})
	require.NoError(t, err)
	defer r.Close()
	_, err = r.ReadFrame()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.Contains(t, err.Error(), "Error: something broke")

	// Dies after half the audio: the frames come, then the error.
	real := newSynth(t)
	wavBytes := filepath.Join(t.TempDir(), "hello.wav")
	out, err := real.run(t.Context(), "--stdout", "Hello there, this is a test.")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(wavBytes, out[:len(out)/2], 0o644))
	s, err = New(Config{Program: fakeProgram(t, `cat >/dev/null; cat `+wavBytes+`; echo "Segmentation fault" >&2; exit 139`)})
	require.NoError(t, err)
	r2, err := s.Synthesize(t.Context(), "Hello there, this is a test.", tts.Options{})
	require.NoError(t, err)
	defer r2.Close()
	a, err := ttstest.ReadAll(r2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Segmentation fault")
	assert.Greater(t, a.Duration(), 300*time.Millisecond, "the audio before the failure was delivered")

	// No output and a clean exit: nothing to say.
	s, err = New(Config{Program: fakeProgram(t, `cat >/dev/null; exit 0`)})
	require.NoError(t, err)
	r3, err := s.Synthesize(t.Context(), "<speak></speak>", tts.Options{SSML: true})
	require.NoError(t, err)
	defer r3.Close()
	_, err = r3.ReadFrame()
	require.ErrorIs(t, err, io.EOF)
}

// TestStreamTextOneProcess checks that a text stream is spoken by one espeak-ng
// process whose audio for the first sentence arrives before the second is written.
func TestStreamTextOneProcess(t *testing.T) {
	s := newSynth(t)
	st, err := s.StreamText(t.Context(), tts.Options{SampleRate: 8000})
	require.NoError(t, err)
	defer st.Close()
	_, err = io.WriteString(st, "Good morning. I")
	require.NoError(t, err)
	first := ttstest.Audio{SampleRate: 8000}
	// About the length of "Good morning." at 175 wpm, well short of all of it.
	for range 20 {
		f, err := st.ReadFrame()
		require.NoError(t, err)
		first.Samples = append(first.Samples, f.Samples...)
	}
	assert.Greater(t, first.ActiveDuration(ttstest.ActiveThreshold), 100*time.Millisecond)
	_, err = io.WriteString(st, " can help you with your booking.")
	require.NoError(t, err)
	require.NoError(t, st.CloseWrite())
	rest, err := ttstest.ReadAll(st)
	require.NoError(t, err)
	total := first.Duration() + rest.Duration()
	assert.Greater(t, total, 2*time.Second)
	assert.Less(t, total, 6*time.Second)
	require.NoError(t, st.Close())
	assert.NotNil(t, st.(*stream).cmd.ProcessState)
}

func TestReadFrameAllocs(t *testing.T) {
	s := newSynth(t)
	r, err := s.Synthesize(t.Context(), strings.Repeat(text30+" ", 3), tts.Options{SampleRate: 8000})
	require.NoError(t, err)
	defer r.Close()
	for range 10 {
		_, err := r.ReadFrame()
		require.NoError(t, err)
	}
	var f media.Frame
	allocs := testing.AllocsPerRun(200, func() {
		if err == nil {
			f, err = r.ReadFrame()
		}
	})
	require.NoError(t, err)
	assert.Equal(t, 160, len(f.Samples))
	assert.Zero(t, allocs, "allocations per frame, resampling to 8 kHz included")
}
