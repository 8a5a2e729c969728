package vad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRealFFT checks the packed real FFT against a direct DFT.
func TestRealFFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{256, 512} {
		f := newRealFFT(n)
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		out := make([]float64, n/2-1)
		f.power(x, 1, out)
		for j, got := range out {
			k := j + 1
			var re, im float64
			for i, v := range x {
				a := -2 * math.Pi * float64(k*i) / float64(n)
				re += v * math.Cos(a)
				im += v * math.Sin(a)
			}
			want := re*re + im*im
			require.InDelta(t, want, got, 1e-9*max(1, want), "n=%d bin %d", n, k)
		}
	}
}
