package resample

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// ErrUnsupported is returned by [New] when a conversion cannot be built: a rate that is
// not positive or above [MaxRate], a ratio whose reduced form needs more than
// [MaxPhases] filter phases, a filter that would need more than [MaxTaps] coefficients,
// or an option out of range.
var ErrUnsupported = errors.New("resample: unsupported conversion")

// Limits on what [New] accepts. They keep the filter tables bounded (a few MB at most).
const (
	// MaxRate is the highest sample rate accepted, in Hz.
	MaxRate = 384000
	// MaxPhases is the largest interpolation factor L of the reduced ratio L/M.
	MaxPhases = 1024
	// MaxTaps is the largest prototype filter length, in coefficients.
	MaxTaps = 1 << 20
)

// Filter defaults. See [WithPassband] and [WithAttenuation].
const (
	// DefaultPassband is the passband edge as a fraction of the lower Nyquist frequency.
	DefaultPassband = 0.9
	// DefaultAttenuation is the design stopband attenuation in dB.
	DefaultAttenuation = 80.0
)

// chunk bounds the number of input samples converted per inner pass, so the history
// buffer has a fixed size whatever the caller's block length.
const chunk = 1024

type config struct {
	passband    float64
	attenuation float64
}

// Option adjusts the filter designed by [New].
type Option func(*config)

// WithPassband sets the passband edge as a fraction of the lower Nyquist frequency
// (min(from, to)/2), in (0, 1). The stopband always starts at the lower Nyquist
// frequency; a lower passband widens the transition band and shortens the filter.
// The default is [DefaultPassband].
func WithPassband(frac float64) Option { return func(c *config) { c.passband = frac } }

// WithAttenuation sets the design stopband attenuation in dB, in [20, 160]. The filter
// length grows linearly with it. The default is [DefaultAttenuation].
func WithAttenuation(dB float64) Option { return func(c *config) { c.attenuation = dB } }

// Resampler converts a stream of 16-bit mono PCM from one rate to another with a
// polyphase windowed-sinc FIR filter. It keeps the filter history between calls, so a
// stream cut into blocks of any size converts to exactly the same samples as the
// stream in one block.
//
// A Resampler is not safe for concurrent use; make one per stream.
type Resampler struct {
	from, to int
	l, m     int // reduced ratio to/from = l/m
	mq, mr   int // m / l and m % l: input advance per output sample
	taps     int // coefficients per phase
	phases   []float32
	hist     []float32 // recent input; cap = taps-1+chunk
	next     int       // index in hist of the newest input the next output needs
	phase    int       // prototype phase of the next output
	skip     int       // inputs to drop before they reach hist (decimation past its end)
	nIn      int64     // inputs consumed since Reset
	nOut     int64     // outputs produced since Reset
	name     string
}

// New returns a Resampler from fromRate to toRate Hz. Any pair of rates whose reduced
// ratio has at most [MaxPhases] phases works (8000, 16000, 48000, 11025, 22050, 44100 …);
// equal rates give a pass-through copy with zero delay.
//
// The filter is designed here, once: passband flat to [DefaultPassband] of the lower
// Nyquist frequency, stopband from the lower Nyquist frequency up, attenuated by
// [DefaultAttenuation] dB. Options change both.
func New(fromRate, toRate int, opts ...Option) (*Resampler, error) {
	cfg := config{passband: DefaultPassband, attenuation: DefaultAttenuation}
	for _, o := range opts {
		o(&cfg)
	}
	if fromRate <= 0 || toRate <= 0 || fromRate > MaxRate || toRate > MaxRate {
		return nil, fmt.Errorf("resample: rates %d→%d Hz: %w", fromRate, toRate, ErrUnsupported)
	}
	if !(cfg.passband > 0 && cfg.passband < 1) {
		return nil, fmt.Errorf("resample: passband %v not in (0, 1): %w", cfg.passband, ErrUnsupported)
	}
	if !(cfg.attenuation >= 20 && cfg.attenuation <= 160) {
		return nil, fmt.Errorf("resample: attenuation %v dB not in [20, 160]: %w", cfg.attenuation, ErrUnsupported)
	}
	g := gcd(fromRate, toRate)
	r := &Resampler{from: fromRate, to: toRate, l: toRate / g, m: fromRate / g}
	r.name = "resample(" + kHz(fromRate) + "→" + kHz(toRate) + ")"
	if r.l == 1 && r.m == 1 {
		return r, nil
	}
	if r.l > MaxPhases {
		return nil, fmt.Errorf("resample: %d→%d Hz needs %d phases (max %d): %w",
			fromRate, toRate, r.l, MaxPhases, ErrUnsupported)
	}
	// Estimate the length before designing, so absurd requests fail cheaply.
	fn := float64(min(fromRate, toRate)) / 2
	dw := 2 * math.Pi * (1 - cfg.passband) * fn / (float64(r.l) * float64(fromRate))
	if est := (cfg.attenuation-7.95)/(2.285*dw) + float64(r.l); est > MaxTaps {
		return nil, fmt.Errorf("resample: %d→%d Hz needs a %.0f-tap filter (max %d): %w",
			fromRate, toRate, est, MaxTaps, ErrUnsupported)
	}
	r.phases, r.taps = design(r.l, fromRate, toRate, cfg.passband, cfg.attenuation)
	r.mq, r.mr = r.m/r.l, r.m%r.l
	r.hist = make([]float32, 0, r.taps-1+chunk)
	r.Reset()
	return r, nil
}

// Reset clears the filter history, as if the Resampler were new.
func (r *Resampler) Reset() {
	r.nIn, r.nOut, r.phase, r.skip = 0, 0, 0, 0
	if r.phases == nil {
		return
	}
	// The stream is preceded by silence: taps-1 zeros make the first output well defined.
	r.hist = r.hist[:r.taps-1]
	clear(r.hist)
	r.next = r.taps - 1
}

// FromRate is the input sample rate in Hz.
func (r *Resampler) FromRate() int { return r.from }

// ToRate is the output sample rate in Hz.
func (r *Resampler) ToRate() int { return r.to }

// Taps is the length of the prototype filter (0 for a pass-through). Each output sample
// costs Taps()/L multiply-adds, where L = ToRate/gcd(FromRate, ToRate).
func (r *Resampler) Taps() int { return r.taps * r.l }

// Delay is the group delay of the filter, in output samples: an input event at time t
// appears in the output at t + Delay()/ToRate() seconds. The filter is linear-phase, so
// the delay is the same at every frequency. A pass-through has zero delay.
func (r *Resampler) Delay() float64 {
	if r.phases == nil {
		return 0
	}
	return float64(r.taps*r.l-1) / float64(2*r.m)
}

// String describes the conversion, e.g. "resample(8k→16k)".
func (r *Resampler) String() string { return r.name }

// OutputLen is the number of samples the next Process call with n input samples will
// append. Over a whole stream, n inputs give ceil(n·to/from) outputs.
func (r *Resampler) OutputLen(n int) int {
	if r.phases == nil {
		return n
	}
	return int(r.outputsAfter(r.nIn+int64(n)) - r.nOut)
}

// outputsAfter is the number of outputs a stream of n inputs produces: output k needs
// input floor(k·m/l), so the count is ceil(n·l/m).
func (r *Resampler) outputsAfter(n int64) int64 {
	return (n*int64(r.l) + int64(r.m) - 1) / int64(r.m)
}

// Process converts src and appends the result to dst, returning the extended slice.
// It allocates only when dst lacks capacity for [Resampler.OutputLen](len(src)) more
// samples. Output is delayed by [Resampler.Delay]; call [Resampler.Flush] at the end of
// the stream to get the tail.
func (r *Resampler) Process(dst, src []int16) []int16 {
	if r.phases == nil {
		return append(dst, src...)
	}
	dst = slices.Grow(dst, r.OutputLen(len(src)))
	for len(src) > 0 {
		if r.skip > 0 {
			n := min(r.skip, len(src))
			r.skip -= n
			r.nIn += int64(n)
			src = src[n:]
			continue
		}
		h := r.hist
		n := min(len(src), cap(h)-len(h))
		base := len(h)
		h = h[:base+n]
		for i, s := range src[:n] {
			h[base+i] = float32(s)
		}
		r.hist = h
		r.nIn += int64(n)
		src = src[n:]
		dst = r.run(dst)
	}
	return dst
}

// Flush appends the tail still inside the filter, so that the whole output is the input
// delayed by [Resampler.Delay] (rounded up to whole samples), then resets the
// Resampler for a new stream.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.phases == nil {
		return dst
	}
	// Outputs k with k·m < nIn·l + (N−1)/2 cover the delayed input; doubled to stay integral.
	n := int64(r.taps*r.l - 1)
	target := (2*r.nIn*int64(r.l) + n + 2*int64(r.m) - 1) / (2 * int64(r.m))
	for r.nOut < target {
		if r.skip > 0 {
			k := min(int64(r.skip), (target-r.nOut)*int64(r.mq+1))
			r.skip -= int(k)
			r.nIn += k
			continue
		}
		h := r.hist
		base := len(h)
		k := min(cap(h)-base, int((target-r.nOut)*int64(r.mq+1)))
		h = h[:base+k]
		clear(h[base:])
		r.hist = h
		r.nIn += int64(k)
		dst = r.run(dst)
	}
	dst = dst[:len(dst)-int(r.nOut-target)]
	r.Reset()
	return dst
}

// run produces every output whose input is in hist, then keeps only the history the
// next output needs.
func (r *Resampler) run(dst []int16) []int16 {
	h, t := r.hist, r.taps
	next, phase := r.next, r.phase
	start := len(dst)
	for next < len(h) {
		c := r.phases[phase*t : phase*t+t]
		dst = append(dst, toInt16(dot(c, h[next-t+1:next+1])))
		phase += r.mr
		next += r.mq
		if phase >= r.l {
			phase -= r.l
			next++
		}
	}
	r.nOut += int64(len(dst) - start)
	r.phase = phase
	keep := next - (t - 1)
	if keep >= len(h) {
		r.skip = keep - len(h)
		r.hist = h[:0]
	} else {
		r.hist = h[:copy(h, h[keep:])]
	}
	r.next = t - 1
	return dst
}

// dot is the inner product of c and x (len(x) >= len(c)), with four partial sums to
// shorten the dependency chain.
func dot(c, x []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		s0 += c[i] * x[i]
		s1 += c[i+1] * x[i+1]
		s2 += c[i+2] * x[i+2]
		s3 += c[i+3] * x[i+3]
	}
	for ; i < len(c); i++ {
		s0 += c[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func toInt16(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// kHz formats a rate the way stage names print it: 8000 → "8k", 22050 → "22.05k".
func kHz(rate int) string {
	return strconv.FormatFloat(float64(rate)/1000, 'f', -1, 64) + "k"
}
