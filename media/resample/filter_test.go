package resample

import (
	"math"
	"math/cmplx"
	"testing"

	"github.com/stretchr/testify/require"
)

// prototype rebuilds the prototype impulse response from the phase tables.
func (r *Resampler) prototype() []float64 {
	h := make([]float64, r.taps*r.l)
	for p := range r.l {
		for k := range r.taps {
			h[(r.taps-1-k)*r.l+p] = float64(r.phases[p*r.taps+k])
		}
	}
	return h
}

// response is |H(f)|/L in dB for the prototype at frequency f Hz.
func (r *Resampler) response(h []float64, f float64) float64 {
	w := 2 * math.Pi * f / float64(r.l*r.from)
	rot := cmplx.Exp(complex(0, -w))
	z := complex(1, 0)
	var s complex128
	for _, c := range h {
		s += complex(c, 0) * z
		z *= rot
	}
	return 20 * math.Log10(cmplx.Abs(s)/float64(r.l)+1e-300)
}

// TestFilterResponse checks the designed prototype itself: passband flat to
// DefaultPassband of the lower Nyquist frequency and the stopband, from the lower
// Nyquist frequency to half the prototype rate, below the attenuation floor.
func TestFilterResponse(t *testing.T) {
	for _, p := range standardPairs {
		r, err := New(p[0], p[1])
		require.NoError(t, err)
		h := r.prototype()
		fn := float64(min(p[0], p[1])) / 2
		proto := float64(r.l * r.from)
		var ripple float64
		for f := 0.0; f <= DefaultPassband*fn; f += fn / 400 {
			ripple = math.Max(ripple, math.Abs(r.response(h, f)))
		}
		stop := math.Inf(-1)
		for f := fn; f <= proto/2; f += fn / 400 {
			stop = math.Max(stop, r.response(h, f))
		}
		t.Logf("%v: %d taps, delay %.2f samples, passband ripple ±%.4f dB, stopband peak %.1f dB",
			r, r.Taps(), r.Delay(), ripple, stop)
		require.Less(t, ripple, 0.01, "%v passband ripple (dB)", r)
		require.Less(t, stop, -75.0, "%v stopband peak (dB)", r)
	}
}
