package media

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// MixerConfig configures a Mixer. The zero value of every field but SampleRate picks
// the documented default.
type MixerConfig struct {
	// SampleRate of every input and output, in Hz. Required.
	SampleRate int
	// FrameDuration is the length of audio each ReadFrame mixes. Defaults to
	// DefaultFrameDuration.
	FrameDuration time.Duration
	// MaxBuffer is how much audio each input queues ahead of the mixer before its
	// oldest samples are dropped (and counted). It bounds the delay an input can
	// build up when its source runs faster than the mixer's clock. Defaults to 100 ms;
	// it is never less than one frame.
	MaxBuffer time.Duration
	// SoftLimit, when true, passes sums through a soft-knee limiter: unchanged up to
	// SoftKnee, then compressed smoothly towards full scale so that loud overlaps do
	// not clip harshly. When false, sums saturate at full scale (hard clipping).
	SoftLimit bool
}

// SoftKnee is the level (about -2.5 dBFS) above which the mixer's soft limiter starts
// to compress.
const SoftKnee = 24576

// ErrMixerConfig is returned by NewMixer for an invalid configuration.
var ErrMixerConfig = errors.New("media: invalid mixer configuration")

// Mixer adds N live streams into one, for conferences, bridges with a third party
// (whisper, recording) and mixing prompts over background audio.
//
// Each participant gets a MixerInput, a FrameWriter that queues its audio. The owner of
// the mixer's clock (a pacer or ticker) calls ReadFrame once per frame: it takes one
// frame of audio from every input (silence where an input has too little), returns
// the mix of all inputs, and writes to each input's own output, if it has one, the mix
// of all the other inputs (an "N-1" mix, so nobody hears their own voice). The sum is
// computed once and each N-1 mix is derived from it, so a tick costs O(N) whatever the
// number of outputs.
//
// Sums are limited per MixerConfig.SoftLimit. ReadFrame allocates nothing in steady
// state.
//
// Concurrency: MixerInput.WriteFrame, AddInput and the Close methods may be called from
// any goroutine. ReadFrame must be called from one goroutine at a time, like any
// FrameReader; the frame it returns is valid until the next call. Output writers are
// called from ReadFrame without any mixer lock held.
type Mixer struct {
	rate      int
	n         int // samples per frame
	maxBuffer int // samples
	soft      bool

	mu     sync.Mutex
	inputs []*MixerInput
	closed bool

	// Owned by ReadFrame.
	active []*MixerInput
	sum    []int32
	out    []int16
}

// NewMixer returns a mixer with no inputs.
func NewMixer(cfg MixerConfig) (*Mixer, error) {
	if cfg.SampleRate <= 0 {
		return nil, fmt.Errorf("%w: sample rate %d", ErrMixerConfig, cfg.SampleRate)
	}
	if cfg.FrameDuration <= 0 {
		cfg.FrameDuration = DefaultFrameDuration
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = 100 * time.Millisecond
	}
	n := SamplesPer(cfg.SampleRate, cfg.FrameDuration)
	if n < 1 {
		return nil, fmt.Errorf("%w: frame duration %v too short at %d Hz", ErrMixerConfig, cfg.FrameDuration, cfg.SampleRate)
	}
	return &Mixer{
		rate:      cfg.SampleRate,
		n:         n,
		maxBuffer: max(SamplesPer(cfg.SampleRate, cfg.MaxBuffer), n),
		soft:      cfg.SoftLimit,
		sum:       make([]int32, n),
		out:       make([]int16, n),
	}, nil
}

// SampleRate is the rate of every input and output.
func (m *Mixer) SampleRate() int { return m.rate }

// AddInput adds a participant. name is used when the input prints. out, if not nil,
// receives on every ReadFrame the mix of all other inputs; it must accept frames at
// the mixer's rate. After Close, AddInput returns an input that is already closed.
func (m *Mixer) AddInput(name string, out FrameWriter) *MixerInput {
	in := &MixerInput{
		m:    m,
		name: name,
		out:  out,
		ring: make([]int16, m.maxBuffer),
		cur:  make([]int16, m.n),
	}
	if out != nil {
		in.mix = make([]int16, m.n)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		in.closed = true
		return in
	}
	m.inputs = append(m.inputs, in)
	return in
}

// ReadFrame advances the mixer by one frame and returns the mix of all inputs; see
// Mixer. After Close it returns ErrClosed.
func (m *Mixer) ReadFrame() (Frame, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return Frame{}, ErrClosed
	}
	m.active = append(m.active[:0], m.inputs...)
	m.mu.Unlock()

	clear(m.sum)
	for _, in := range m.active {
		in.take()
		for i, s := range in.cur {
			m.sum[i] += int32(s)
		}
	}
	for i, s := range m.sum {
		m.out[i] = m.limit(s)
	}
	for _, in := range m.active {
		if in.out == nil {
			continue
		}
		for i, s := range m.sum {
			in.mix[i] = m.limit(s - int32(in.cur[i]))
		}
		if err := in.out.WriteFrame(Frame{Samples: in.mix, SampleRate: m.rate}); err != nil {
			in.mu.Lock()
			in.stats.WriteErrors++
			in.mu.Unlock()
		}
	}
	clear(m.active) // drop references to inputs closed meanwhile
	return Frame{Samples: m.out, SampleRate: m.rate}, nil
}

// limit maps a sum of samples to the int16 range.
func (m *Mixer) limit(s int32) int16 {
	if m.soft {
		return softLimit(s)
	}
	return int16(min(max(s, math.MinInt16), math.MaxInt16))
}

// softLimit is identity up to SoftKnee in magnitude; above it, the excess d is mapped
// to d*R/(R+d) (rounded) with R the headroom left above the knee. The curve is
// continuous with slope 1 at the knee and approaches full scale, never passing it,
// however large the sum.
func softLimit(s int32) int16 {
	const r = math.MaxInt16 - SoftKnee
	switch {
	case s > SoftKnee:
		d := int64(s - SoftKnee)
		return int16(SoftKnee + (d*r+(r+d)/2)/(r+d))
	case s < -SoftKnee:
		d := int64(-s - SoftKnee)
		return int16(-SoftKnee - (d*r+(r+d)/2)/(r+d))
	}
	return int16(s)
}

// Close removes every input and makes ReadFrame return ErrClosed. It is idempotent.
func (m *Mixer) Close() error {
	m.mu.Lock()
	inputs := m.inputs
	m.inputs, m.closed = nil, true
	m.mu.Unlock()
	for _, in := range inputs {
		in.mu.Lock()
		in.closed = true
		in.mu.Unlock()
	}
	return nil
}

// String prints the mixer and its inputs, e.g. "mixer[alice, bob]".
func (m *Mixer) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := "mixer["
	for i, in := range m.inputs {
		if i > 0 {
			s += ", "
		}
		s += in.name
	}
	return s + "]"
}

// MixerInputStats counts what happened to one input's audio.
type MixerInputStats struct {
	// Underruns counts mixer frames for which the input had queued less than a whole
	// frame; the gap was mixed as silence.
	Underruns uint64
	// DroppedSamples counts samples discarded because the input's queue was full
	// (its source ran ahead of the mixer by more than MaxBuffer).
	DroppedSamples uint64
	// WriteErrors counts errors returned by the input's output writer.
	WriteErrors uint64
}

// MixerInput is one participant of a Mixer: a FrameWriter that queues audio for the
// next ReadFrame calls of the mixer. Create it with Mixer.AddInput.
type MixerInput struct {
	m    *Mixer
	name string
	out  FrameWriter

	mu     sync.Mutex
	ring   []int16 // queued audio, a circular buffer
	head   int     // index of the oldest queued sample
	count  int     // number of queued samples
	stats  MixerInputStats
	closed bool

	// Owned by the mixer's ReadFrame.
	cur []int16 // the samples taken for the current frame
	mix []int16 // the N-1 mix for out
}

// WriteFrame queues f's samples. If the queue would exceed the mixer's MaxBuffer, the
// oldest samples are dropped and counted. It returns ErrRateMismatch for a frame at
// another rate and ErrClosed after Close.
func (in *MixerInput) WriteFrame(f Frame) error {
	if f.SampleRate != in.m.rate {
		return fmt.Errorf("media: mixer input %q: %d Hz frame into %d Hz mixer: %w", in.name, f.SampleRate, in.m.rate, ErrRateMismatch)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	s := f.Samples
	size := len(in.ring)
	if len(s) > size { // only the newest MaxBuffer samples can survive
		in.stats.DroppedSamples += uint64(len(s) - size)
		s = s[len(s)-size:]
	}
	if over := in.count + len(s) - size; over > 0 {
		in.head = (in.head + over) % size
		in.count -= over
		in.stats.DroppedSamples += uint64(over)
	}
	tail := (in.head + in.count) % size
	k := copy(in.ring[tail:], s)
	copy(in.ring, s[k:])
	in.count += len(s)
	return nil
}

// take moves one frame of queued audio into cur, padding with silence.
func (in *MixerInput) take() {
	in.mu.Lock()
	defer in.mu.Unlock()
	k := min(in.count, len(in.cur))
	if k < len(in.cur) {
		in.stats.Underruns++
	}
	size := len(in.ring)
	c := copy(in.cur[:k], in.ring[in.head:])
	copy(in.cur[c:k], in.ring)
	clear(in.cur[k:])
	in.head = (in.head + k) % size
	in.count -= k
}

// SampleRate is the mixer's rate.
func (in *MixerInput) SampleRate() int { return in.m.rate }

// Stats returns the input's counters.
func (in *MixerInput) Stats() MixerInputStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stats
}

// Close removes the input from the mixer; its queued audio is discarded. A ReadFrame
// already running may still mix it and write to its output once. Close is idempotent.
func (in *MixerInput) Close() error {
	in.m.mu.Lock()
	for i, x := range in.m.inputs {
		if x == in {
			in.m.inputs = append(in.m.inputs[:i], in.m.inputs[i+1:]...)
			break
		}
	}
	in.m.mu.Unlock()
	in.mu.Lock()
	in.closed = true
	in.count = 0
	in.mu.Unlock()
	return nil
}

// String prints as "mix(name)".
func (in *MixerInput) String() string { return "mix(" + in.name + ")" }
