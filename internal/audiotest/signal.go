package audiotest

import (
	"math"
	"time"
)

// NumSamples is the number of samples d lasts at rate Hz (rounded to the nearest).
func NumSamples(rate int, d time.Duration) int {
	return int(math.Round(d.Seconds() * float64(rate)))
}

// Sine returns a sine tone of freq Hz lasting d at rate Hz, with its peak at dBFS
// (0 is full scale, -6 is half of it). It starts at phase zero.
func Sine(rate int, freq float64, d time.Duration, dBFS float64) []int16 {
	return MultiTone(rate, []float64{freq}, d, dBFS)
}

// MultiTone returns the sum of sine tones at freqs, each with its peak at dBFS, lasting
// d at rate Hz. The sum is clipped to full scale, so keep dBFS at or below
// -20·log10(len(freqs)) to avoid clipping.
func MultiTone(rate int, freqs []float64, d time.Duration, dBFS float64) []int16 {
	n := NumSamples(rate, d)
	out := make([]int16, n)
	amp := 32767 * math.Pow(10, dBFS/20)
	for i := range out {
		t := float64(i) / float64(rate)
		v := 0.0
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*t)
		}
		out[i] = clip(v)
	}
	return out
}

// Silence returns d of digital silence at rate Hz.
func Silence(rate int, d time.Duration) []int16 {
	return make([]int16, NumSamples(rate, d))
}

// Cut returns the samples between from and to (offsets from the start at rate Hz),
// clamped to the slice. It shares memory with samples.
func Cut(samples []int16, rate int, from, to time.Duration) []int16 {
	a := min(max(NumSamples(rate, from), 0), len(samples))
	b := min(max(NumSamples(rate, to), a), len(samples))
	return samples[a:b]
}

func clip(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// ActiveSpan finds the first run of consecutive blocks (each block long) whose RMS level
// is above thresholdDBFS and returns it as sample offsets [from, to). ok is false when
// no block is that loud. Tests use it to find where a tone sits in a recording whose
// start is not known exactly.
func ActiveSpan(samples []int16, rate int, block time.Duration, thresholdDBFS float64) (from, to int, ok bool) {
	n := max(NumSamples(rate, block), 1)
	for i := 0; i+n <= len(samples); i += n {
		loud := RMSdBFS(samples[i:i+n]) > thresholdDBFS
		switch {
		case loud && !ok:
			from, ok = i, true
		case !loud && ok:
			return from, i, true
		}
	}
	if ok {
		return from, len(samples) - len(samples)%n, true
	}
	return 0, 0, false
}
