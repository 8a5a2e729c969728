package audiotest

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// Goertzel returns the power of the component of samples at freq Hz (rate is the
// sample rate), as the squared peak amplitude relative to full scale: a full-scale sine
// at freq gives about 1, a -20 dBFS one about 0.01. A Hann window is applied first, so
// freq need not be a whole number of cycles per block. It allocates nothing.
func Goertzel(samples []int16, rate int, freq float64) float64 {
	n := len(samples)
	if n < 2 || rate <= 0 {
		return 0
	}
	coef := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2, wsum float64
	step := 2 * math.Pi / float64(n-1)
	for i, x := range samples {
		w := 0.5 - 0.5*math.Cos(step*float64(i))
		wsum += w
		s := float64(x)/32768*w + coef*s1 - s2
		s2, s1 = s1, s
	}
	mag2 := s1*s1 + s2*s2 - coef*s1*s2
	// A sine of peak amplitude A contributes A/2·Σw to |X|.
	return max(mag2, 0) * 4 / (wsum * wsum)
}

// PowerDB converts a power from Goertzel or Spectrum to decibels relative to a
// full-scale sine (dBFS of the component's peak). Zero power is -Inf.
func PowerDB(p float64) float64 { return 10 * math.Log10(p) }

// Bin is one frequency of a spectrum.
type Bin struct {
	Freq  float64 // Hz
	Power float64 // squared peak amplitude relative to full scale, as Goertzel
}

// Spectrum returns the Hann-windowed power spectrum of samples from 0 Hz to rate/2,
// computed with a radix-2 FFT after zero-padding to a power of two; bins are
// rate/len(padded) Hz apart. Powers are on the same scale as Goertzel.
func Spectrum(samples []int16, rate int) []Bin {
	n := len(samples)
	if n < 2 || rate <= 0 {
		return nil
	}
	size := 1 << bits.Len(uint(n-1))
	x := make([]complex128, size)
	var wsum float64
	step := 2 * math.Pi / float64(n-1)
	for i, s := range samples {
		w := 0.5 - 0.5*math.Cos(step*float64(i))
		wsum += w
		x[i] = complex(float64(s)/32768*w, 0)
	}
	fft(x)
	out := make([]Bin, size/2+1)
	norm := 4 / (wsum * wsum)
	for k := range out {
		m := cmplx.Abs(x[k])
		out[k] = Bin{Freq: float64(k) * float64(rate) / float64(size), Power: m * m * norm}
	}
	return out
}

// DominantFrequency returns the frequency between lo and hi Hz where samples have the
// most power, to within step Hz: the strongest FFT bin in the range, refined with
// Goertzel in steps of step Hz across the neighbouring bins. It returns 0 when there
// are too few samples or the range holds no bin.
func DominantFrequency(samples []int16, rate int, lo, hi, step float64) float64 {
	spec := Spectrum(samples, rate)
	if len(spec) < 2 || step <= 0 {
		return 0
	}
	best, bestP := -1, -1.0
	for k, b := range spec {
		if b.Freq >= lo && b.Freq <= hi && b.Power > bestP {
			best, bestP = k, b.Power
		}
	}
	if best < 0 {
		return 0
	}
	width := spec[1].Freq
	from := max(spec[best].Freq-width, lo)
	to := min(spec[best].Freq+width, hi)
	freq, power := spec[best].Freq, Goertzel(samples, rate, spec[best].Freq)
	for f := from; f <= to; f += step {
		if p := Goertzel(samples, rate, f); p > power {
			freq, power = f, p
		}
	}
	return freq
}

// SFDR is the spurious-free dynamic range around a tone, in dB: the power at freq
// (Goertzel) over the strongest spectrum bin farther than guard Hz from freq, between
// 0 Hz and rate/2. A clean tone through G.711 measures well over 30 dB; noise or
// speech measures near 0. The DC bin is ignored.
func SFDR(samples []int16, rate int, freq, guard float64) float64 {
	spur := 0.0
	for _, b := range Spectrum(samples, rate) {
		if b.Freq > 0 && math.Abs(b.Freq-freq) > guard {
			spur = max(spur, b.Power)
		}
	}
	return PowerDB(Goertzel(samples, rate, freq)) - PowerDB(spur)
}

// RMSdBFS returns the RMS level of samples relative to full scale (a full-scale sine is
// -3.01 dBFS). Silence and an empty slice give -Inf.
func RMSdBFS(samples []int16) float64 {
	if len(samples) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, s := range samples {
		v := float64(s) / 32768
		sum += v * v
	}
	return 10 * math.Log10(sum/float64(len(samples)))
}

// fft is an in-place iterative radix-2 FFT; len(x) must be a power of two.
func fft(x []complex128) {
	n := len(x)
	shift := 64 - bits.Len(uint(n-1))
	for i := range n {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		wStep := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range half {
				a, b := x[start+k], x[start+k+half]*w
				x[start+k], x[start+k+half] = a+b, a-b
				w *= wStep
			}
		}
	}
}
