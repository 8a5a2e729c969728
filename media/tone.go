package media

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Tone describes a generated signal: a sum of sinusoids, optionally switched on and
// off in a cadence, for a total duration or forever. Beep, Ringback and Silence return
// common ones; NewToneReader plays one.
type Tone struct {
	// Frequencies of the sinusoids that are summed, in Hz. Each must be positive and
	// below half the sample rate the tone is played at. None means silence.
	Frequencies []float64
	// Level is the peak amplitude of each sinusoid in dBFS (0 is full scale, -6 half
	// of it). The sum of several components is saturated at full scale, so keep the
	// combined level below 0 dBFS.
	Level float64
	// Cadence is pairs of on and off durations: {2s, 4s} rings for two seconds in every
	// six. It repeats for as long as the tone lasts. Empty means continuously on. Each on period starts at zero phase, so bursts sound alike and
	// begin without a click.
	Cadence []time.Duration
	// Duration is the total length of the tone. Zero means it never ends.
	Duration time.Duration
}

// ErrTone is returned by NewToneReader for a Tone it cannot play.
var ErrTone = errors.New("media: invalid tone")

// Beep is a single sinusoid of freq Hz lasting dur, at -12 dBFS: the "record after the
// beep" tone (1 kHz is the usual choice).
func Beep(freq float64, dur time.Duration) Tone {
	return Tone{Frequencies: []float64{freq}, Level: -12, Duration: dur}
}

// Silence is dur of digital silence (dur zero: endless).
func Silence(dur time.Duration) Tone { return Tone{Duration: dur} }

// Region selects national variants of call progress tones.
type Region string

// Regions known to Ringback.
const (
	// RegionUS is North America (ANSI T1.401): 440+480 Hz, 2 s on, 4 s off.
	RegionUS Region = "US"
	// RegionUK is the United Kingdom (BT SIN 350): 400+450 Hz, 0.4 s on, 0.2 s off,
	// 0.4 s on, 2 s off.
	RegionUK Region = "UK"
)

// Ringback is the audible ringing tone a caller hears while the far end rings, in the
// region's cadence, endless. Each component is at -22 dBFS, which is -19 dBm0 (the
// North American level; G.711 full scale is +3.14 dBm0). Unknown regions get the North
// American tone.
func Ringback(region Region) Tone {
	switch region {
	case RegionUK:
		return Tone{
			Frequencies: []float64{400, 450},
			Level:       -22,
			Cadence:     []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second},
		}
	default:
		return Tone{
			Frequencies: []float64{440, 480},
			Level:       -22,
			Cadence:     []time.Duration{2 * time.Second, 4 * time.Second},
		}
	}
}

// NewToneReader returns a FrameReader that plays t at rate Hz in frames of frameDur
// (DefaultFrameDuration if not positive). The last frame is shorter if Duration is not
// a whole number of frames; then ReadFrame returns io.EOF. Phase runs on across frames,
// and reading allocates nothing: the frame's samples are reused by the next ReadFrame.
func NewToneReader(t Tone, rate int, frameDur time.Duration) (FrameReader, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("%w: sample rate %d", ErrTone, rate)
	}
	if frameDur <= 0 {
		frameDur = DefaultFrameDuration
	}
	if t.Duration < 0 {
		return nil, fmt.Errorf("%w: negative duration %v", ErrTone, t.Duration)
	}
	if t.Level > 0 || math.IsNaN(t.Level) {
		return nil, fmt.Errorf("%w: level %v dBFS above full scale", ErrTone, t.Level)
	}
	g := &toneReader{
		rate:    rate,
		buf:     make([]int16, max(SamplesPer(rate, frameDur), 1)),
		left:    -1,
		amp:     32767 * math.Pow(10, t.Level/20),
		oscs:    make([]oscillator, len(t.Frequencies)),
		cadence: make([]int, len(t.Cadence)),
	}
	if t.Duration > 0 {
		g.left = int64(SamplesPer(rate, t.Duration))
	}
	for i, f := range t.Frequencies {
		if !(f > 0 && f < float64(rate)/2) {
			return nil, fmt.Errorf("%w: frequency %v Hz outside (0, %d) Hz", ErrTone, f, rate/2)
		}
		w := 2 * math.Pi * f / float64(rate)
		g.oscs[i] = oscillator{cw: math.Cos(w), sw: math.Sin(w)}
	}
	var period int
	for i, d := range t.Cadence {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative cadence step %v", ErrTone, d)
		}
		g.cadence[i] = SamplesPer(rate, d)
		period += g.cadence[i]
	}
	if len(t.Cadence)%2 != 0 {
		return nil, fmt.Errorf("%w: cadence %v is not on/off pairs", ErrTone, t.Cadence)
	}
	if len(t.Cadence) > 0 && period == 0 {
		return nil, fmt.Errorf("%w: cadence %v has zero length", ErrTone, t.Cadence)
	}
	g.startStep(0)
	return g, nil
}

// oscillator is a unit phasor (c, s) = (cos, sin) of the current phase, advanced by
// complex multiplication with (cw, sw) per sample. That costs four multiplications per
// sample instead of a math.Sin call, and keeps phase continuous by construction.
type oscillator struct {
	c, s   float64
	cw, sw float64
}

type toneReader struct {
	rate    int
	buf     []int16
	left    int64 // samples still to produce, -1 for endless
	amp     float64
	oscs    []oscillator
	cadence []int // on/off step lengths in samples
	step    int   // current cadence step
	stepN   int   // samples left in the current step
}

func (g *toneReader) SampleRate() int { return g.rate }

func (g *toneReader) String() string { return fmt.Sprintf("tone(%d Hz)", g.rate) }

// startStep enters cadence step i; on steps restart the oscillators at zero phase.
func (g *toneReader) startStep(i int) {
	g.step = i
	if len(g.cadence) > 0 {
		g.stepN = g.cadence[i]
	}
	if i%2 == 0 {
		for k := range g.oscs {
			g.oscs[k].c, g.oscs[k].s = 1, 0
		}
	}
}

func (g *toneReader) ReadFrame() (Frame, error) {
	if g.left == 0 {
		return Frame{}, io.EOF
	}
	n := len(g.buf)
	if g.left > 0 {
		n = int(min(int64(n), g.left))
		g.left -= int64(n)
	}
	out := g.buf[:n]
	for len(out) > 0 {
		k := len(out)
		if len(g.cadence) > 0 {
			for g.stepN == 0 { // skip zero-length steps
				g.startStep((g.step + 1) % len(g.cadence))
			}
			k = min(k, g.stepN)
			g.stepN -= k
		}
		if g.step%2 == 1 || len(g.oscs) == 0 {
			clear(out[:k])
		} else {
			g.synth(out[:k])
		}
		out = out[k:]
	}
	for k := range g.oscs {
		// Renormalise the phasor once per frame so rounding cannot make it drift in
		// amplitude, however long the tone plays.
		o := &g.oscs[k]
		r := 1 / math.Hypot(o.c, o.s)
		o.c, o.s = o.c*r, o.s*r
	}
	return Frame{Samples: g.buf[:n], SampleRate: g.rate}, nil
}

// synth writes the sum of the oscillators into out.
func (g *toneReader) synth(out []int16) {
	for i := range out {
		var v float64
		for k := range g.oscs {
			o := &g.oscs[k]
			v += o.s
			o.c, o.s = o.c*o.cw-o.s*o.sw, o.s*o.cw+o.c*o.sw
		}
		out[i] = int16(max(min(math.Round(g.amp*v), math.MaxInt16), math.MinInt16))
	}
}
