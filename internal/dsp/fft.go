// Package dsp holds signal-processing pieces shared by the audio analysers (voice
// activity detection, answering machine and beep detection).
package dsp

import "math"

// RealFFT computes power spectra of n real samples (n a power of two, at least 4) with
// one complex FFT of n/2 points: the even samples as real parts, the odd ones as
// imaginary parts, separated afterwards. Twiddle factors and the bit-reversal table are
// computed once, so Power allocates nothing. A RealFFT is not safe for concurrent use.
type RealFFT struct {
	n        int
	cos, sin []float64 // e^{-2πik/n}, k < n/2; the half-size FFT uses every other one
	rev      []int32   // bit reversal for n/2 points
	re, im   []float64 // n/2 working points
}

// NewRealFFT prepares a transform of n points. It panics unless n is a power of two ≥ 4
// (a programming error: sizes are constants of the analysers).
func NewRealFFT(n int) *RealFFT {
	if n < 4 || n&(n-1) != 0 {
		panic("dsp: FFT size must be a power of two >= 4")
	}
	m := n / 2
	f := &RealFFT{n: n, cos: make([]float64, m), sin: make([]float64, m), rev: make([]int32, m),
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

// Size is n, the number of input samples.
func (f *RealFFT) Size() int { return f.n }

// Power writes |X[k]|² into dst[k-lo] for every bin k in [lo, hi], where X is the DFT
// of x (len n) and 0 ≤ lo ≤ hi ≤ n/2; dst must hold hi-lo+1 values.
func (f *RealFFT) Power(x []float64, lo, hi int, dst []float64) {
	m := f.n / 2
	re, im := f.re, f.im
	for i, r := range f.rev {
		re[r], im[r] = x[2*i], x[2*i+1]
	}
	for size := 2; size <= m; size <<= 1 {
		half, step := size/2, 2*m/size
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
	// X[k] = E[k] + e^{−2πik/n}·O[k] (indices of Z taken modulo m).
	for k := lo; k <= hi; k++ {
		zr, zi := re[k%m], im[k%m]
		cr, ci := re[(m-k)%m], -im[(m-k)%m]
		er, ei := (zr+cr)/2, (zi+ci)/2
		or, oi := (zi-ci)/2, -(zr-cr)/2
		wr, wi := -1.0, 0.0 // e^{−iπ} at the Nyquist bin
		if k < m {
			wr, wi = f.cos[k], f.sin[k]
		}
		xr := er + wr*or - wi*oi
		xi := ei + wr*oi + wi*or
		dst[k-lo] = xr*xr + xi*xi
	}
}
