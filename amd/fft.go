package amd

import "math"

// fft is an in-place radix-2 complex FFT of a fixed power-of-two size. Its twiddle
// factors and bit-reversal table are computed once per detector and only read after.
type fft struct {
	n        int
	cos, sin []float64
	rev      []int32
}

func newFFT(n int) fft {
	f := fft{n: n, cos: make([]float64, n/2), sin: make([]float64, n/2), rev: make([]int32, n)}
	for i := range n / 2 {
		a := -2 * math.Pi * float64(i) / float64(n)
		f.cos[i], f.sin[i] = math.Cos(a), math.Sin(a)
	}
	bits := 0
	for 1<<bits < n {
		bits++
	}
	for i := range n {
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

// transform replaces (re, im) by its discrete Fourier transform.
func (f *fft) transform(re, im []float64) {
	n := f.n
	re, im = re[:n], im[:n]
	for i, r := range f.rev {
		if int(r) > i {
			re[i], re[r] = re[r], re[i]
			im[i], im[r] = im[r], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
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
}

// realFFT is the transform of a real sequence of length n computed with a complex FFT
// of length n/2 (even samples as real parts, odd as imaginary), then separated.
type realFFT struct {
	half   fft
	n      int
	wr, wi []float64 // e^{-2πik/n}, k < n/2
	zr, zi []float64
}

func newRealFFT(n int) realFFT {
	r := realFFT{half: newFFT(n / 2), n: n, wr: make([]float64, n/2), wi: make([]float64, n/2),
		zr: make([]float64, n/2), zi: make([]float64, n/2)}
	for k := range n / 2 {
		a := -2 * math.Pi * float64(k) / float64(n)
		r.wr[k], r.wi[k] = math.Cos(a), math.Sin(a)
	}
	return r
}

// powers writes |X[k]|² for k in [lo, hi] into pow[k], where X is the DFT of x.
func (r *realFFT) powers(x []float64, pow []float64, lo, hi int) {
	h := r.n / 2
	for i := range h {
		r.zr[i], r.zi[i] = x[2*i], x[2*i+1]
	}
	r.half.transform(r.zr, r.zi)
	for k := lo; k <= hi; k++ {
		// E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i, X = E + W^k O.
		j := (h - k) % h
		ar, ai := r.zr[k%h], r.zi[k%h]
		br, bi := r.zr[j], -r.zi[j]
		er, ei := (ar+br)/2, (ai+bi)/2
		or, oi := (ai-bi)/2, -(ar-br)/2
		wr, wi := r.wr[k%h], r.wi[k%h]
		if k == h {
			wr, wi = -1, 0
		}
		xr := er + wr*or - wi*oi
		xi := ei + wr*oi + wi*or
		pow[k] = xr*xr + xi*xi
	}
}
