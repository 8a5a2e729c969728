package pocketsphinx

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// recognize writes audio to a new session in 20 ms frames, closes it and returns all
// results.
func recognize(t *testing.T, r stt.Recognizer, cfg stt.Config, audio []int16) []stt.Result {
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
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		out = append(out, res)
	}
	require.NoError(t, stttest.Validate(out))
	return out
}

func finalsOf(rs []stt.Result) []stt.Result {
	var out []stt.Result
	for _, r := range rs {
		if r.Final {
			out = append(out, r)
		}
	}
	return out
}

func TestNewErrors(t *testing.T) {
	_, err := New(Config{ModelDir: t.TempDir()})
	require.ErrorIs(t, err, ErrModel)
	require.Contains(t, err.Error(), "pocketsphinx-en-us")
	_, err = New(Config{Args: []string{"-lw"}})
	require.Error(t, err)
}

func TestStartErrors(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	for name, cfg := range map[string]stt.Config{
		"no rate":           {},
		"low rate":          {SampleRate: 4000},
		"language":          {SampleRate: 16000, Language: "fr-FR"},
		"grammar+keywords":  {SampleRate: 16000, Grammar: stt.DigitsGrammar(), Keywords: []string{"sales"}},
		"multiline keyword": {SampleRate: 16000, Keywords: []string{"sales\nsupport"}},
	} {
		_, err := r.Start(t.Context(), cfg)
		require.ErrorIs(t, err, stt.ErrUnsupported, name)
	}
	_, err := r.Start(t.Context(), stt.Config{SampleRate: 16000, Grammar: "#JSGF V1.0;\ngrammar g;\npublic <a> = zzxqy;\n"})
	require.ErrorIs(t, err, stt.ErrGrammar)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = r.Start(ctx, stt.Config{SampleRate: 16000})
	require.ErrorIs(t, err, context.Canceled)

	// Languages that are English are fine.
	for _, l := range []string{"", "en", "en-US", "EN-gb"} {
		s, err := r.Start(t.Context(), stt.Config{SampleRate: 16000, Language: l})
		require.NoError(t, err, l)
		require.NoError(t, s.Close())
	}
}

func TestCheckGrammar(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	menu, err := stt.WordListGrammar("sales", "technical support", "billing")
	require.NoError(t, err)
	for _, g := range []string{stt.DigitsGrammar(), stt.YesNoGrammar(), menu} {
		require.NoError(t, r.CheckGrammar(g))
	}
	for _, g := range []string{
		"#JSGF V1.0;\ngrammar g;\npublic <a> = sales | zzxqy;\n", // not in the dictionary
		"#JSGF V1.0;\ngrammar g;\npublic <a> = ( sales ;\n",      // syntax
		"",
	} {
		require.ErrorIs(t, r.CheckGrammar(g), stt.ErrGrammar, "%q", g)
	}
	// The pooled decoder still decodes free speech afterwards.
	rs := finalsOf(recognize(t, r, stt.Config{SampleRate: 16000}, slices.Concat(silence(16000, 0.3), synth(t, "slt", "billing", 16000), silence(16000, 1))))
	require.Len(t, rs, 1)
}

func TestNoLanguageModel(t *testing.T) {
	r := newTestRecognizer(t, Config{NoLanguageModel: true})
	_, err := r.Start(t.Context(), stt.Config{SampleRate: 8000})
	require.ErrorIs(t, err, stt.ErrUnsupported)
	audio := telephone(t, slices.Concat(silence(16000, 0.3), synth(t, "kal16", "one two three four", 16000), silence(16000, 1)))
	rs := finalsOf(recognize(t, r, stt.Config{SampleRate: 8000, Grammar: stt.DigitsGrammar()}, audio))
	require.Len(t, rs, 1)
	d, _ := stt.Digits(rs[0].Text)
	require.Equal(t, "1234", d)
	// The decoder goes back to the pool without a search and serves the next session.
	rs = finalsOf(recognize(t, r, stt.Config{SampleRate: 8000, Grammar: stt.DigitsGrammar()}, audio))
	require.Len(t, rs, 1)
}

func TestWordTimings(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	utt := synth(t, "slt", "one two three four", 16000)
	for _, rate := range []int{16000, 8000} {
		audio := slices.Concat(silence(16000, 1.0), utt, silence(16000, 1))
		if rate == 8000 {
			audio = telephone(t, audio)
		}
		from := time.Second + speechStart(utt, 16000)
		to := time.Second + speechEnd(utt, 16000)
		for _, cfg := range []stt.Config{{SampleRate: rate}, {SampleRate: rate, Grammar: stt.DigitsGrammar()}} {
			rs := finalsOf(recognize(t, r, cfg, audio))
			require.Len(t, rs, 1)
			f := rs[0]
			t.Logf("%d Hz grammar=%v: speech %v-%v, result %v-%v %q conf %.2f, words %+v",
				rate, cfg.Grammar != "", from, to, f.Start, f.End, f.Text, f.Confidence, f.Words)
			require.Equal(t, "one two three four", f.Text)
			require.Len(t, f.Words, 4)
			// Word boundaries are frame-accurate (10 ms) but the decoder gives the
			// silence around a word to the word.
			assert.InDelta(t, from.Seconds(), f.Start.Seconds(), 0.12)
			assert.InDelta(t, to.Seconds(), f.End.Seconds(), 0.12)
			if cfg.Grammar != "" {
				assert.Zero(t, f.Confidence, "grammar searches give no posteriors")
			} else {
				assert.Greater(t, f.Confidence, 0.0)
			}
		}
	}
}

// speechStart is the start of the first 10 ms window of pcm louder than -40 dBFS.
func speechStart(pcm []int16, rate int) time.Duration {
	w := media.SamplesPer(rate, 10*time.Millisecond)
	for i := 0; i+w <= len(pcm); i += w {
		if speechEnd(pcm[i:i+w], rate) > 0 {
			return time.Duration(i) * time.Second / time.Duration(rate)
		}
	}
	return 0
}

func TestPartials(t *testing.T) {
	audio := slices.Concat(silence(16000, 0.3), synth(t, "slt", "i would like to check my account balance", 16000), silence(16000, 1))
	rs := recognize(t, newTestRecognizer(t, Config{}), stt.Config{SampleRate: 16000}, audio)
	require.Greater(t, len(rs), 3)
	require.True(t, rs[len(rs)-1].Final)
	for i, r := range rs[:len(rs)-1] {
		require.False(t, r.Final)
		require.NotEmpty(t, r.Text)
		if i > 0 {
			require.NotEqual(t, rs[i-1].Text, r.Text, "a partial is returned only when the hypothesis changed")
			require.GreaterOrEqual(t, r.End, rs[i-1].End)
		}
	}
	t.Logf("%d partials, final %q", len(rs)-1, rs[len(rs)-1].Text)

	rs = recognize(t, newTestRecognizer(t, Config{PartialInterval: -1}), stt.Config{SampleRate: 16000}, audio)
	require.Len(t, rs, 1)
	require.True(t, rs[0].Final)
}

func TestKeywords(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	utts := []string{"please transfer me to the sales department", "one two three four", "i would like to check my account balance"}
	var audio []int16
	for _, u := range utts {
		audio = slices.Concat(audio, silence(16000, 0.5), synth(t, "slt", u, 16000))
	}
	audio = append(audio, silence(16000, 1)...)
	rs := finalsOf(recognize(t, r, stt.Config{SampleRate: 16000, Keywords: []string{"sales department", "account balance"}}, audio))
	var heard []string
	for _, f := range rs {
		if f.Text != "" {
			heard = append(heard, f.Text)
			require.Len(t, f.Words, 1, "a keyphrase is one word entry: %+v", f.Words)
		}
	}
	t.Logf("keywords heard: %q", heard)
	require.Equal(t, []string{"sales department", "account balance"}, heard)
}

func TestMaxUtterance(t *testing.T) {
	r := newTestRecognizer(t, Config{MaxUtterance: time.Second})
	audio := slices.Concat(silence(16000, 0.3), synth(t, "slt", "please transfer me to the sales department", 16000), silence(16000, 1))
	rs := finalsOf(recognize(t, r, stt.Config{SampleRate: 16000}, audio))
	require.GreaterOrEqual(t, len(rs), 2, "a 2.7 s utterance is cut into pieces of at most 1 s: %+v", rs)
	for _, f := range rs {
		require.LessOrEqual(t, f.End-f.Start, time.Second+10*time.Millisecond)
	}
}

func TestOverflow(t *testing.T) {
	r := newTestRecognizer(t, Config{MaxBuffer: time.Second})
	s, err := r.Start(t.Context(), stt.Config{SampleRate: 8000})
	require.NoError(t, err)
	frame := media.Frame{Samples: make([]int16, 160), SampleRate: 8000}
	var overflows int
	for range 60 {
		if err := s.WriteFrame(frame); err != nil {
			require.ErrorIs(t, err, stt.ErrOverflow)
			overflows++
		}
	}
	require.Equal(t, 10, overflows, "1 s of 20 ms frames fits; the next 10 are dropped")
	require.NoError(t, s.Close())
	_, err = s.Recv()
	require.ErrorIs(t, err, io.EOF)
}

// WriteFrame allocates nothing once the session's buffer has grown.
func TestWriteFrameAllocs(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	s, err := r.Start(t.Context(), stt.Config{SampleRate: 8000})
	require.NoError(t, err)
	defer s.Close()
	frame := media.Frame{Samples: make([]int16, 160), SampleRate: 8000}
	ps := s.(*session)
	allocs := testing.AllocsPerRun(200, func() {
		if err := s.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
		ps.mu.Lock()
		if len(ps.in)-ps.head >= 8000 { // stand in for Recv taking the audio
			ps.head = len(ps.in)
		}
		ps.mu.Unlock()
	})
	require.Zero(t, allocs)
}

func TestRecognizerLifecycle(t *testing.T) {
	requireSpeechTools(t)
	r, err := New(Config{MaxIdle: 2})
	require.NoError(t, err)
	require.NoError(t, r.Preload(2, 8000, 16000))
	r.mu.Lock()
	require.Len(t, r.idle[wideband], 2)
	require.Len(t, r.idle[narrowband], 2)
	r.mu.Unlock()

	s, err := r.Start(t.Context(), stt.Config{SampleRate: 16000})
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	_, err = r.Start(t.Context(), stt.Config{SampleRate: 16000})
	require.ErrorIs(t, err, media.ErrClosed)
	require.ErrorIs(t, r.Preload(1), media.ErrClosed)

	// A session open when the recognizer closed still works and frees its decoder.
	audio := slices.Concat(silence(16000, 0.3), synth(t, "slt", "billing", 16000), silence(16000, 1))
	for _, f := range stttest.Frames(audio, 16000) {
		require.NoError(t, s.WriteFrame(f))
	}
	require.NoError(t, s.Close())
	var texts []string
	for {
		res, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if res.Final {
			texts = append(texts, res.Text)
		}
	}
	require.Equal(t, []string{"billing"}, texts)
	r.mu.Lock()
	require.Empty(t, r.idle)
	r.mu.Unlock()
}

// Sessions of one recognizer run concurrently with their own decoders, and a session
// does not inherit the cepstral mean a pooled decoder learned in an earlier session.
func TestPooledDecodersAreIndependent(t *testing.T) {
	r := newTestRecognizer(t, Config{MaxIdle: 1})
	a := slices.Concat(silence(16000, 0.3), synth(t, "slt", "please transfer me to the sales department", 16000), silence(16000, 1))
	b := slices.Concat(silence(16000, 0.3), synth(t, "awb", "what are your opening hours", 16000), silence(16000, 1))
	text := func(rs []stt.Result) string {
		var ws []string
		for _, f := range finalsOf(rs) {
			ws = append(ws, f.Text)
		}
		return strings.Join(ws, " | ")
	}
	first := text(recognize(t, r, stt.Config{SampleRate: 16000}, a))
	_ = recognize(t, r, stt.Config{SampleRate: 16000}, b) // the same decoder hears another voice
	again := text(recognize(t, r, stt.Config{SampleRate: 16000}, a))
	require.Equal(t, first, again)
}
