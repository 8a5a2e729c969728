package resample

import "math"

// standardPairs are the conversions a telephony stack uses: 8, 16 and 48 kHz both ways.
var standardPairs = [][2]int{
	{8000, 16000}, {16000, 8000},
	{8000, 48000}, {48000, 8000},
	{16000, 48000}, {48000, 16000},
}

// tone returns n samples of amp·sin(2πf·t + phi) at rate.
func tone(n, rate int, f, amp, phi float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)+phi)))
	}
	return s
}

// fitSine fits a·sin(2πf·t) + b·cos(2πf·t) to x by least squares and returns the
// amplitude and the phase of the fitted sinusoid, sin(2πf·t + phase).
func fitSine(x []int16, rate int, f float64) (amp, phase float64) {
	var ss, cc, sc, xs, xc float64
	for i, v := range x {
		w := 2 * math.Pi * f * float64(i) / float64(rate)
		s, c := math.Sin(w), math.Cos(w)
		ss += s * s
		cc += c * c
		sc += s * c
		xs += float64(v) * s
		xc += float64(v) * c
	}
	det := ss*cc - sc*sc
	a := (xs*cc - xc*sc) / det
	b := (xc*ss - xs*sc) / det
	return math.Hypot(a, b), math.Atan2(b, a)
}

// zeroCrossingFreq estimates the frequency of a tone from its rising zero crossings,
// interpolated between samples.
func zeroCrossingFreq(x []int16, rate int) float64 {
	first, last := -1.0, -1.0
	n := 0
	for i := 1; i < len(x); i++ {
		if x[i-1] < 0 && x[i] >= 0 {
			t := float64(i-1) + float64(-x[i-1])/float64(int(x[i])-int(x[i-1]))
			if first < 0 {
				first = t
			}
			last = t
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) * float64(rate) / (last - first)
}

func meanSquare(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s / float64(len(x))
}

func db(p float64) float64 { return 10 * math.Log10(p) }
