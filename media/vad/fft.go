package vad

import "math"

// realFFT computes the spectrum of n real samples with one complex FFT of n/2 points
// (the even samples as real parts, the odd ones as imaginary parts), with its twiddle
// factors and bit-reversal table computed once per detector.
type realFFT struct {
	n        int
	cos, sin []float64 // e^{-2πik/n}, k < n/2: the half-size FFT uses every other one
	rev      []int32   // bit reversal for n/2 points
	re, im   []float64 // n/2 working points
}

func newRealFFT(n int) *realFFT {
	m := n / 2
	f := &realFFT{n: n, cos: make([]float64, m), sin: make([]float64, m), rev: make([]int32, m),
		re: make([]float64, m), im: make([]float64, m)}
	for i := range m {
		a := -2 * math.Pi * float64(i) / float64(n)
		f.cos[i], f.sin[i] = math.Cos(a), math.Sin(a)
	}
	bits := 0
	for 1<<bits < m {
		bits++
	}
	for i := range m {
		r := 0
		for b := range bits {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		f.rev[i] = int32(r)
	}
	return f
}

// power writes |X[k]|² for k in [lo, lo+len(out)) of the real input x (len n),
// with 0 < lo and lo+len(out) <= n/2.
func (f *realFFT) power(x []float64, lo int, out []float64) {
	m := f.n / 2
	re, im := f.re, f.im
	for i, r := range f.rev {
		re[r], im[r] = x[2*i], x[2*i+1]
	}
	for size := 2; size <= m; size <<= 1 {
		half, step := size/2, 2*m/size // twiddles of the n/2-point FFT are every other e^{-2πik/n}
		for start := 0; start < m; start += size {
			for k := range half {
				wr, wi := f.cos[k*step], f.sin[k*step]
				a, b := start+k, start+k+half
				tr := re[b]*wr - im[b]*wi
				ti := re[b]*wi + im[b]*wr
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
	// Split: with Z = FFT(z), E[k] = (Z[k] + conj Z[m−k])/2 is the spectrum of the even
	// samples, O[k] = (Z[k] − conj Z[m−k])/(2i) that of the odd ones, and
	// X[k] = E[k] + e^{−2πik/n}·O[k].
	for j := range out {
		k := lo + j
		zr, zi := re[k], im[k]
		cr, ci := re[m-k], -im[m-k]
		er, ei := (zr+cr)/2, (zi+ci)/2
		or, oi := (zi-ci)/2, -(zr-cr)/2
		wr, wi := f.cos[k], f.sin[k]
		xr := er + wr*or - wi*oi
		xi := ei + wr*oi + wi*or
		out[j] = xr*xr + xi*xi
	}
}
