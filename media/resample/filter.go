package resample

import "math"

// design returns the prototype low-pass filter for an L/M converter, flattened into
// l phases of taps coefficients each, stored time-reversed so that each output sample
// is a forward dot product with the most recent taps input samples.
//
// The prototype runs at the virtual rate l·fromRate. It is a Kaiser-windowed sinc whose
// passband ends at passband·fn and whose stopband starts at fn, where fn is the lower of
// the two Nyquist frequencies. Putting the stopband edge exactly at fn (rather than at
// 2fn−passband·fn, which would let the transition band fold onto itself) means nothing
// above the new Nyquist frequency aliases back with less than the design attenuation.
func design(l, fromRate, toRate int, passband, atten float64) (phases []float32, taps int) {
	proto := float64(l) * float64(fromRate)
	fn := float64(min(fromRate, toRate)) / 2
	fPass := passband * fn
	fStop := fn
	dw := 2 * math.Pi * (fStop - fPass) / proto
	n := int(math.Ceil((atten-7.95)/(2.285*dw))) + 1
	taps = (n + l - 1) / l
	if taps < 2 {
		taps = 2
	}
	n = taps * l
	beta := kaiserBeta(atten)
	fc := (fPass + fStop) / 2 / proto // cycles per prototype sample
	centre := float64(n-1) / 2
	h := make([]float64, n)
	i0b := besselI0(beta)
	var sum float64
	// The response is symmetric about its centre, so compute half and mirror it.
	for i := range (n + 1) / 2 {
		x := float64(i) - centre
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		r := 2*float64(i)/float64(n-1) - 1
		w := besselI0(beta*math.Sqrt(math.Max(0, 1-r*r))) / i0b
		h[i] = s * w
		h[n-1-i] = h[i]
	}
	for _, v := range h {
		sum += v
	}
	// Unity gain at DC for every phase on average: each output is built from one phase,
	// and the L phases together hold the whole prototype.
	g := float64(l) / sum
	phases = make([]float32, n)
	for p := range l {
		for k := range taps {
			phases[p*taps+k] = float32(h[(taps-1-k)*l+p] * g)
		}
	}
	return phases, taps
}

// kaiserBeta is Kaiser's empirical window shape for a stopband attenuation in dB.
func kaiserBeta(atten float64) float64 {
	switch {
	case atten > 50:
		return 0.1102 * (atten - 8.7)
	case atten >= 21:
		return 0.5842*math.Pow(atten-21, 0.4) + 0.07886*(atten-21)
	default:
		return 0
	}
}

// besselI0 is the zeroth-order modified Bessel function of the first kind, by its power
// series, which converges quickly for the arguments a Kaiser window uses (< 20).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
