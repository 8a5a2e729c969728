package ttstest

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
)

// Defaults of Tone's fields.
const (
	DefaultToneRate = 8000
	DefaultToneWord = 120 * time.Millisecond
	DefaultToneGap  = 40 * time.Millisecond
	// ToneLevel is the peak level of each burst in dBFS.
	ToneLevel = -10.0
)

// ToneVoice is the name of Tone's only voice.
const ToneVoice = "tone"

// Tone is a deterministic fake Synthesizer for testing code that uses speech: each word
// of the text becomes a sine burst of Word (at Rate 1) followed by Gap of silence. A
// word's frequency depends only on the word (see WordFrequency), so a test can tell
// which words were "spoken" with a tone detector, and the length of the audio is
// known in advance (see Duration).
//
// Tone follows the Synthesizer contract to the letter and passes Run. It also
// implements tts.TextStreamer (through tts.NewSentenceStream) and tts.VoiceLister.
// Options: Voice "" or "tone"; Language empty, "und" or English ("en", "en-US"...),
// others fail with tts.ErrUnknownVoice; Rate divides the durations; Pitch multiplies
// the frequencies by 2^(Pitch/12); SSML markup is stripped of its tags.
//
// The zero value is ready to use. Set the fields before the first call; a Tone is safe
// for concurrent use.
type Tone struct {
	// SampleRate is the native rate in Hz; zero means DefaultToneRate.
	SampleRate int
	// Word is the burst length of each word at Rate 1; zero means DefaultToneWord.
	Word time.Duration
	// Gap is the silence after each word at Rate 1; zero means DefaultToneGap.
	Gap time.Duration
	// FirstFrameDelay makes the first ReadFrame of each synthesis wait this long (or
	// until ctx ends or the reader is closed), like an engine that needs time before
	// its first audio.
	FirstFrameDelay time.Duration

	calls atomic.Int64
}

var (
	_ tts.Synthesizer  = (*Tone)(nil)
	_ tts.TextStreamer = (*Tone)(nil)
	_ tts.VoiceLister  = (*Tone)(nil)
)

// Calls reports how many times Synthesize was called (a text stream calls it once per
// sentence).
func (t *Tone) Calls() int64 { return t.calls.Load() }

func (t *Tone) rate() int {
	if t.SampleRate > 0 {
		return t.SampleRate
	}
	return DefaultToneRate
}

func (t *Tone) durations(opts tts.Options) (word, gap time.Duration) {
	word, gap = t.Word, t.Gap
	if word <= 0 {
		word = DefaultToneWord
	}
	if gap <= 0 {
		gap = DefaultToneGap
	}
	r := opts.SpeakingRate()
	return time.Duration(float64(word) / r), time.Duration(float64(gap) / r)
}

// WordFrequency is the frequency in Hz of the burst for word (at Pitch 0): one of
// 400, 500, ... 1900 Hz, chosen by a hash of the word lowercased and stripped of
// punctuation.
func WordFrequency(word string) float64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(normalizeWord(word)))
	return 400 + 100*float64(h.Sum32()%16)
}

func normalizeWord(w string) string {
	return strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
}

// Words returns the words Tone speaks for text: its white-space separated fields that
// contain a letter or digit, after SSML tags are removed when ssml is set.
func Words(text string, ssml bool) []string {
	if ssml {
		text = stripTags(text)
	}
	var out []string
	for _, w := range strings.Fields(text) {
		if normalizeWord(w) != "" {
			out = append(out, w)
		}
	}
	return out
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Duration is the length of the audio Tone produces for text with opts, to within one
// sample per word.
func (t *Tone) Duration(text string, opts tts.Options) time.Duration {
	word, gap := t.durations(opts)
	return time.Duration(len(Words(text, opts.SSML))) * (word + gap)
}

// check validates opts and returns the output rate.
func (t *Tone) check(opts tts.Options) (int, error) {
	if err := opts.Validate(); err != nil {
		return 0, err
	}
	if opts.Voice != "" && opts.Voice != ToneVoice {
		return 0, fmt.Errorf("%w: tone has no voice %q (only %q)", tts.ErrUnknownVoice, opts.Voice, ToneVoice)
	}
	if l := strings.ToLower(opts.Language); l != "" && l != "und" && l != "en" && !strings.HasPrefix(l, "en-") {
		return 0, fmt.Errorf("%w: tone speaks no language %q", tts.ErrUnknownVoice, opts.Language)
	}
	rate := opts.SampleRate
	if rate == 0 {
		rate = t.rate()
	}
	if rate < 1000 {
		return 0, fmt.Errorf("%w: tone needs a sample rate of at least 1000 Hz, not %d", tts.ErrUnsupported, rate)
	}
	return rate, nil
}

// Synthesize implements tts.Synthesizer.
func (t *Tone) Synthesize(ctx context.Context, text string, opts tts.Options) (media.FrameReadCloser, error) {
	t.calls.Add(1)
	rate, err := t.check(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ttstest: tone: %w", err)
	}
	words := Words(text, opts.SSML)
	if len(words) == 0 {
		return tts.Empty(rate), nil
	}
	word, gap := t.durations(opts)
	r := &toneReader{
		ctx:   ctx,
		rate:  rate,
		word:  media.SamplesPer(rate, word),
		gap:   media.SamplesPer(rate, gap),
		ramp:  media.SamplesPer(rate, 5*time.Millisecond),
		amp:   32767 * math.Pow(10, ToneLevel/20),
		out:   make([]int16, media.SamplesPer(rate, media.DefaultFrameDuration)),
		delay: t.FirstFrameDelay,
		done:  make(chan struct{}),
	}
	shift := math.Pow(2, opts.Pitch/12)
	for _, w := range words {
		f := min(WordFrequency(w)*shift, 0.45*float64(rate))
		r.steps = append(r.steps, 2*math.Pi*f/float64(rate))
	}
	return r, nil
}

// StreamText implements tts.TextStreamer: sentences are synthesized one by one as they
// complete, at opts.SampleRate or the native rate.
func (t *Tone) StreamText(ctx context.Context, opts tts.Options) (tts.TextStream, error) {
	rate, err := t.check(opts)
	if err != nil {
		return nil, err
	}
	opts.SampleRate = rate
	return tts.NewSentenceStream(ctx, t, opts)
}

// Voices implements tts.VoiceLister.
func (t *Tone) Voices(ctx context.Context) ([]tts.Voice, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ttstest: tone voices: %w", err)
	}
	return []tts.Voice{{Name: ToneVoice, Languages: []string{"en", "und"}, SampleRate: t.rate()}}, nil
}

type toneReader struct {
	ctx   context.Context
	rate  int
	steps []float64 // phase increment per sample of each word's burst
	word  int       // burst length in samples
	gap   int       // silence after each burst in samples
	ramp  int       // fade in and out, in samples
	amp   float64
	out   []int16
	idx   int // current word
	pos   int // sample within the current word and its gap

	delay     time.Duration
	done      chan struct{}
	closeOnce sync.Once
	closed    atomic.Bool
}

func (r *toneReader) SampleRate() int { return r.rate }

func (r *toneReader) String() string { return fmt.Sprintf("tone(%d Hz)", r.rate) }

func (r *toneReader) ReadFrame() (media.Frame, error) {
	if r.closed.Load() {
		return media.Frame{}, fmt.Errorf("ttstest: tone: read: %w", media.ErrClosed)
	}
	if err := r.ctx.Err(); err != nil {
		return media.Frame{}, fmt.Errorf("ttstest: tone: %w", err)
	}
	if r.delay > 0 {
		tm := time.NewTimer(r.delay)
		r.delay = 0
		select {
		case <-tm.C:
		case <-r.ctx.Done():
			tm.Stop()
			return media.Frame{}, fmt.Errorf("ttstest: tone: %w", r.ctx.Err())
		case <-r.done:
			tm.Stop()
			return media.Frame{}, fmt.Errorf("ttstest: tone: read: %w", media.ErrClosed)
		}
	}
	n := 0
	for n < len(r.out) && r.idx < len(r.steps) {
		if r.pos < r.word {
			env := 1.0
			if d := min(r.pos, r.word-1-r.pos); d < r.ramp {
				env = 0.5 - 0.5*math.Cos(math.Pi*float64(d)/float64(r.ramp))
			}
			r.out[n] = int16(r.amp * env * math.Sin(r.steps[r.idx]*float64(r.pos)))
		} else {
			r.out[n] = 0
		}
		n++
		r.pos++
		if r.pos == r.word+r.gap {
			r.idx++
			r.pos = 0
		}
	}
	if n == 0 {
		return media.Frame{}, io.EOF
	}
	return media.Frame{Samples: r.out[:n], SampleRate: r.rate}, nil
}

func (r *toneReader) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		close(r.done)
	})
	return nil
}
