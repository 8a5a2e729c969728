package dtmf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// The DTMF frequency groups of ITU-T Q.23, in Hz.
var (
	lowGroup  = [4]float64{697, 770, 852, 941}
	highGroup = [4]float64{1209, 1336, 1477, 1633}
)

// keypad maps [row][column] to the key, rows being the low group.
var keypad = [4][4]rune{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// Errors of the tone generator.
var (
	// ErrNoTone means the key has no DTMF tone pair (for example '!', hook flash).
	ErrNoTone = errors.New("dtmf: key has no tone")
	// ErrLevel means a tone level would clip: the sum of both components must fit in
	// 16 bits, so each component is at most -6.02 dBFS.
	ErrLevel = errors.New("dtmf: tone level out of range")
	// ErrSampleRate means a sample rate the generator or detector cannot work at.
	ErrSampleRate = errors.New("dtmf: unsupported sample rate")
	// ErrFrequency means a frequency outside (0, rate/2).
	ErrFrequency = errors.New("dtmf: frequency out of range")
)

// Frequencies returns the low- and high-group frequencies (Hz) of a key.
func Frequencies(digit rune) (low, high float64, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r := range keypad {
		for c := range keypad[r] {
			if keypad[r][c] == digit {
				return lowGroup[r], highGroup[c], true
			}
		}
	}
	return 0, 0, false
}

// fullScale is the peak of a 0 dBFS sine.
const fullScale = 32767.0

// Generator writes dual tones into caller buffers, phase-continuously: each call
// of Generate continues both sinusoids exactly where the previous call stopped,
// also across SetDigit and SetTones, so frame boundaries and frequency changes
// never click. It is not safe for concurrent use.
type Generator struct {
	rate int
	osc  [2]oscillator
}

// oscillator is a unit phasor turned by a fixed rotation each sample; a rotation
// costs four multiplications where a sine call costs far more.
type oscillator struct {
	re, im float64 // current phasor
	cr, ci float64 // per-sample rotation
	amp    float64 // peak amplitude in sample units
}

// NewGenerator returns a silent generator for the given sample rate (Hz).
func NewGenerator(rate int) (*Generator, error) {
	if rate < 4000 || rate > 192000 {
		return nil, fmt.Errorf("%w: %d Hz", ErrSampleRate, rate)
	}
	g := &Generator{rate: rate}
	for i := range g.osc {
		g.osc[i].re = 1
		g.osc[i].cr = 1
	}
	return g, nil
}

// SampleRate returns the rate the generator was made for.
func (g *Generator) SampleRate() int { return g.rate }

// SetDigit switches to the tone pair of a key, each component at levelDBFS
// (0 dBFS being a full-scale sine; with G.711, 0 dBm0 is about -3.14 dBFS, so
// the usual -7 dBm0 per component is about -10 dBFS).
func (g *Generator) SetDigit(digit rune, levelDBFS float64) error {
	lo, hi, ok := Frequencies(digit)
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoTone, digit)
	}
	return g.SetTones(lo, hi, levelDBFS, levelDBFS)
}

// SetTones switches to an arbitrary pair of sinusoids with separate levels, as
// needed to produce twist or off-nominal frequencies. A component with level
// -Inf is off.
func (g *Generator) SetTones(lowHz, highHz, lowDBFS, highDBFS float64) error {
	nyq := float64(g.rate) / 2
	for _, f := range [2]float64{lowHz, highHz} {
		if !(f > 0 && f < nyq) {
			return fmt.Errorf("%w: %g Hz at %d Hz sampling", ErrFrequency, f, g.rate)
		}
	}
	a0 := fullScale * math.Pow(10, lowDBFS/20)
	a1 := fullScale * math.Pow(10, highDBFS/20)
	if math.IsNaN(a0+a1) || a0+a1 > fullScale {
		return fmt.Errorf("%w: %g/%g dBFS (sum of peaks must stay below full scale)", ErrLevel, lowDBFS, highDBFS)
	}
	g.osc[0].set(lowHz, a0, g.rate)
	g.osc[1].set(highHz, a1, g.rate)
	return nil
}

func (o *oscillator) set(hz, amp float64, rate int) {
	w := 2 * math.Pi * hz / float64(rate)
	o.cr, o.ci = math.Cos(w), math.Sin(w)
	o.amp = amp
}

// Off silences the generator; the phasors keep their phase.
func (g *Generator) Off() {
	g.osc[0].amp = 0
	g.osc[1].amp = 0
}

// Generate overwrites dst with the next len(dst) samples.
func (g *Generator) Generate(dst []int16) {
	a, b := &g.osc[0], &g.osc[1]
	ar, ai, br, bi := a.re, a.im, b.re, b.im
	for i := range dst {
		v := a.amp*ai + b.amp*bi
		dst[i] = int16(math.Round(min(max(v, -32768), 32767)))
		ar, ai = ar*a.cr-ai*a.ci, ai*a.cr+ar*a.ci
		br, bi = br*b.cr-bi*b.ci, bi*b.cr+br*b.ci
	}
	// Renormalise once per call: rounding makes the phasor's length drift by about
	// 1e-16 per sample, harmless within a call but not over hours.
	ma, mb := math.Hypot(ar, ai), math.Hypot(br, bi)
	a.re, a.im = ar/ma, ai/ma
	b.re, b.im = br/mb, bi/mb
}

// ToneReader is a media.FrameReader that plays one DTMF key for a fixed duration
// in frames of media.DefaultFrameDuration (the last frame may be shorter), then
// returns io.EOF. Each ReadFrame reuses the same sample buffer.
type ToneReader struct {
	gen       *Generator
	remaining int
	buf       []int16
}

var _ media.FrameReader = (*ToneReader)(nil)

// Tone returns a reader that plays digit for dur at rate Hz, each of the two
// components at levelDBFS (see Generator.SetDigit).
func Tone(digit rune, dur time.Duration, rate int, levelDBFS float64) (*ToneReader, error) {
	g, err := NewGenerator(rate)
	if err != nil {
		return nil, err
	}
	if err := g.SetDigit(digit, levelDBFS); err != nil {
		return nil, err
	}
	if dur < 0 {
		dur = 0
	}
	return &ToneReader{
		gen:       g,
		remaining: media.SamplesPer(rate, dur),
		buf:       make([]int16, media.SamplesPer(rate, media.DefaultFrameDuration)),
	}, nil
}

// ReadFrame returns the next frame of the tone, or io.EOF after the last one.
func (r *ToneReader) ReadFrame() (media.Frame, error) {
	if r.remaining <= 0 {
		return media.Frame{}, io.EOF
	}
	n := min(len(r.buf), r.remaining)
	r.remaining -= n
	r.gen.Generate(r.buf[:n])
	return media.Frame{Samples: r.buf[:n], SampleRate: r.gen.rate}, nil
}

// SampleRate returns the rate of the frames.
func (r *ToneReader) SampleRate() int { return r.gen.rate }
