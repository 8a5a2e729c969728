package dsp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Power agrees with a direct DFT on every bin, the DC and Nyquist bins included.
func TestRealFFTMatchesDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{4, 8, 256, 512} {
		f := NewRealFFT(n)
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		out := make([]float64, n/2+1)
		f.Power(x, 0, n/2, out)
		for k, got := range out {
			var re, im float64
			for i, v := range x {
				a := -2 * math.Pi * float64(k*i) / float64(n)
				re += v * math.Cos(a)
				im += v * math.Sin(a)
			}
			want := re*re + im*im
			require.InDelta(t, want, got, 1e-9*max(1, want), "n=%d bin %d", n, k)
		}
		sub := make([]float64, 2)
		f.Power(x, 1, 2, sub)
		require.InDeltaSlice(t, out[1:3], sub, 1e-9, "a sub-range")
	}
}

func TestRealFFTNoAllocs(t *testing.T) {
	f := NewRealFFT(256)
	x, out := make([]float64, 256), make([]float64, 129)
	require.Zero(t, testing.AllocsPerRun(100, func() { f.Power(x, 0, 128, out) }))
	require.Panics(t, func() { NewRealFFT(100) })
}

func BenchmarkRealFFT256(b *testing.B) {
	f := NewRealFFT(256)
	x, out := make([]float64, 256), make([]float64, 129)
	b.ReportAllocs()
	for b.Loop() {
		f.Power(x, 0, 128, out)
	}
}
