package flite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/internal/sentence"
)

// errInterrupted is returned by synthesize when the stop flag cut it short.
var errInterrupted = errors.New("flite: synthesis interrupted")

// ErrNoCgo is returned by New in a build without cgo (CGO_ENABLED=0), where the flite
// library cannot be linked. It wraps tts.ErrUnavailable.
var ErrNoCgo = fmt.Errorf("%w: flite: built without cgo (CGO_ENABLED=0): rebuild with cgo and the Debian package flite1-dev", tts.ErrUnavailable)

// DefaultVoice is the voice used when neither Config nor Options name one.
const DefaultVoice = "slt"

// voiceInfo describes a voice linked in.
type voiceInfo struct {
	name   string
	rate   int // native, Hz
	gender string
}

// voiceTable lists the voices of the Debian flite packages, in the order the C side
// registers them. Read-only.
var voiceTable = [...]voiceInfo{
	{name: "kal", rate: 8000, gender: "male"}, // diphone voices
	{name: "kal16", rate: 16000, gender: "male"},
	{name: "slt", rate: 16000, gender: "female"}, // clustergen voices
	{name: "rms", rate: 16000, gender: "male"},
	{name: "awb", rate: 16000, gender: "male"},
}

func voiceID(name string) (int, bool) {
	for i, v := range voiceTable {
		if strings.EqualFold(v.name, name) {
			return i, true
		}
	}
	return 0, false
}

// Config configures a Synthesizer. The zero value speaks with DefaultVoice.
type Config struct {
	// Voice is the voice used when Options.Voice is empty: "kal" (8 kHz), "kal16",
	// "slt", "rms" or "awb" (16 kHz). Empty means DefaultVoice.
	Voice string
}

// Synthesizer speaks with the flite library. It is safe for concurrent use, but
// syntheses run one at a time across the process (see the package documentation).
type Synthesizer struct {
	voice int
}

var (
	_ tts.Synthesizer  = (*Synthesizer)(nil)
	_ tts.TextStreamer = (*Synthesizer)(nil)
	_ tts.VoiceLister  = (*Synthesizer)(nil)
)

// New returns a Synthesizer. It fails with ErrNoCgo in a build without cgo, and with
// tts.ErrUnknownVoice for an unknown Config.Voice.
func New(cfg Config) (*Synthesizer, error) {
	if err := engineAvailable(); err != nil {
		return nil, err
	}
	name := cfg.Voice
	if name == "" {
		name = DefaultVoice
	}
	id, ok := voiceID(name)
	if !ok {
		return nil, unknownVoice(name)
	}
	return &Synthesizer{voice: id}, nil
}

func unknownVoice(name string) error {
	names := make([]string, len(voiceTable))
	for i, v := range voiceTable {
		names[i] = v.name
	}
	return fmt.Errorf("%w: flite has no voice %q (%s)", tts.ErrUnknownVoice, name, strings.Join(names, ", "))
}

// String names the engine, e.g. for cache keys and logs.
func (s *Synthesizer) String() string { return "flite(" + voiceTable[s.voice].name + ")" }

// Voices implements tts.VoiceLister.
func (s *Synthesizer) Voices(ctx context.Context) ([]tts.Voice, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flite: %w", err)
	}
	out := make([]tts.Voice, len(voiceTable))
	for i, v := range voiceTable {
		out[i] = tts.Voice{Name: v.name, Languages: []string{"en-US", "en"}, Gender: v.gender, SampleRate: v.rate}
	}
	return out, nil
}

// plan is a validated request.
type plan struct {
	voice int
	rate  int // output rate
	speed float64
	pitch float64
}

func (s *Synthesizer) plan(opts tts.Options) (plan, error) {
	if err := opts.Validate(); err != nil {
		return plan{}, err
	}
	if opts.SSML {
		return plan{}, fmt.Errorf("%w: flite does not read SSML", tts.ErrUnsupported)
	}
	p := plan{voice: s.voice, speed: opts.SpeakingRate(), pitch: opts.Pitch}
	if opts.Voice != "" {
		id, ok := voiceID(opts.Voice)
		if !ok {
			return plan{}, unknownVoice(opts.Voice)
		}
		p.voice = id
	}
	if l := strings.ToLower(strings.ReplaceAll(opts.Language, "_", "-")); l != "" && l != "en" && !strings.HasPrefix(l, "en-") {
		return plan{}, fmt.Errorf("%w: flite speaks only English, not %q", tts.ErrUnknownVoice, opts.Language)
	}
	p.rate = opts.SampleRate
	if p.rate == 0 {
		p.rate = voiceTable[p.voice].rate
	}
	return p, nil
}

// Synthesize implements tts.Synthesizer. The text is split into sentences, and each is
// synthesized when the reader reaches it, so the first frame comes after the first
// sentence only.
func (s *Synthesizer) Synthesize(ctx context.Context, text string, opts tts.Options) (media.FrameReadCloser, error) {
	p, err := s.plan(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flite: %w", err)
	}
	sentences := sentence.Split(text)
	if len(sentences) == 0 {
		return tts.Empty(p.rate), nil
	}
	r := &reader{ctx: ctx, plan: p, sentences: sentences}
	// Cancelling ctx interrupts a sentence in synthesis.
	r.stopAfter = context.AfterFunc(ctx, func() { atomic.StoreInt32(&r.stop, 1) })
	r.out = make([]int16, media.SamplesPer(p.rate, media.DefaultFrameDuration))
	if native := voiceTable[p.voice].rate; native != p.rate {
		if r.rs, err = resample.New(native, p.rate); err != nil {
			return nil, fmt.Errorf("%w: flite voice %s at %d Hz to %d Hz: %w", tts.ErrUnsupported, voiceTable[p.voice].name, native, p.rate, err)
		}
		r.drop = int(math.Round(r.rs.Delay()))
	}
	return r, nil
}

// StreamText implements tts.TextStreamer through tts.NewSentenceStream: each sentence
// is synthesized once it is complete.
func (s *Synthesizer) StreamText(ctx context.Context, opts tts.Options) (tts.TextStream, error) {
	p, err := s.plan(opts)
	if err != nil {
		return nil, err
	}
	opts.SampleRate = p.rate
	opts.Voice = voiceTable[p.voice].name
	return tts.NewSentenceStream(ctx, s, opts)
}

// reader synthesizes one sentence at a time as frames are read.
type reader struct {
	ctx       context.Context
	plan      plan
	sentences []string
	next      int // next sentence to synthesize

	rs      *resample.Resampler // nil when the voice's rate is the output rate
	drop    int                 // resampler delay still to discard
	scratch []int16             // one sentence at the native rate, when resampling
	pend    []int16             // output samples not yet returned
	head    int                 // first unreturned sample in pend
	out     []int16             // the returned frame
	done    bool                // all sentences synthesized

	mu        sync.Mutex // held by ReadFrame; Close takes it to wait for a synthesis in progress
	closed    atomic.Bool
	stop      int32       // set atomically by Close or ctx: flite polls it while synthesizing
	stopAfter func() bool // unregisters the ctx hook that sets stop
}

func (r *reader) SampleRate() int { return r.plan.rate }

func (r *reader) String() string {
	return fmt.Sprintf("flite(%s %d Hz)", voiceTable[r.plan.voice].name, r.plan.rate)
}

// ReadFrame returns the next 20 ms frame, synthesizing the next sentence when the
// audio of the previous one has been read.
func (r *reader) ReadFrame() (media.Frame, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.out)
	for len(r.pend)-r.head < n && !r.done {
		if err := r.check(); err != nil {
			return media.Frame{}, err
		}
		if err := r.synthNext(); err != nil {
			return media.Frame{}, err
		}
	}
	if err := r.check(); err != nil {
		return media.Frame{}, err
	}
	n = min(n, len(r.pend)-r.head)
	if n == 0 {
		return media.Frame{}, io.EOF
	}
	copy(r.out, r.pend[r.head:r.head+n])
	r.head += n
	return media.Frame{Samples: r.out[:n], SampleRate: r.plan.rate}, nil
}

func (r *reader) check() error {
	if r.closed.Load() {
		return fmt.Errorf("flite: read: %w", media.ErrClosed)
	}
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("flite: %w", err)
	}
	return nil
}

// synthNext synthesizes the next sentence into pend.
func (r *reader) synthNext() error {
	if r.head > 0 { // keep pend within a frame plus one sentence
		r.pend = r.pend[:copy(r.pend, r.pend[r.head:])]
		r.head = 0
	}
	text := r.sentences[r.next]
	r.sentences[r.next] = ""
	r.next++
	last := r.next == len(r.sentences)
	var err error
	if r.rs == nil {
		r.pend, err = synthesize(r.pend, r.plan.voice, text, r.plan.speed, r.plan.pitch, &r.stop)
		r.done = last
		return r.synthErr(err)
	}
	r.scratch, err = synthesize(r.scratch[:0], r.plan.voice, text, r.plan.speed, r.plan.pitch, &r.stop)
	if err != nil {
		return r.synthErr(err)
	}
	start := len(r.pend)
	r.pend = r.rs.Process(r.pend, r.scratch)
	if last {
		r.pend = r.rs.Flush(r.pend)
		r.done = true
	}
	if r.drop > 0 { // the filter delay, so the audio keeps its timing
		k := min(r.drop, len(r.pend)-start)
		r.pend = append(r.pend[:start], r.pend[start+k:]...)
		r.drop -= k
	}
	return nil
}

// synthErr reports an interrupted synthesis as what interrupted it.
func (r *reader) synthErr(err error) error {
	if errors.Is(err, errInterrupted) {
		if cerr := r.check(); cerr != nil {
			return cerr
		}
	}
	return err
}

// Close releases the reader, interrupting a sentence being synthesized by a concurrent
// ReadFrame and waiting for it to return. Close is idempotent.
func (r *reader) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	r.stopAfter()
	atomic.StoreInt32(&r.stop, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pend, r.scratch, r.sentences = nil, nil, nil
	return nil
}
