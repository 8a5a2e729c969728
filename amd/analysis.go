package amd

import (
	"math"
	"time"

	"github.com/switchboard-go/switchboard/internal/dsp"
)

// Analysis runs on 10 ms hops whatever the caller's frame length, with a 32 ms Hann
// window (256 points at 8 kHz): 31.25 Hz bins, fine enough to follow a beep's
// frequency to a few hertz by interpolation, short enough to place its end within
// a few milliseconds.
const (
	hopDuration    = 10 * time.Millisecond
	windowDuration = 32 * time.Millisecond
	bandLoHz       = 250  // speech band used for levels and tonality
	bandHiHz       = 3600 //
	toneHalfWidth  = 2    // bins either side of a peak that hold a windowed sine's energy
)

// hop is what the analyser learns from one 10 ms hop.
type hop struct {
	end     int64   // stream offset, in samples, of the hop's end
	absMean float64 // mean |sample| over the hop, in 16-bit units (for Classic)
	level   float64 // mean square of the windowed signal in the speech band (linear, sine A → A²/2)
	peakBin int     // strongest bin in the beep range
	freq    float64 // interpolated frequency of that peak, Hz
	tone    float64 // power around the peak, same units as level
	ratio   float64 // tone / level: near 1 for a pure tone
	full    bool    // the window holds only stream samples (no start-up zeros)
}

// analyser cuts the stream into hops and measures each one.
type analyser struct {
	rate, hopLen, n int
	win             []float64
	buf             []float64 // the last n samples, scaled to ±1
	fill            int       // samples of the current hop received
	absSum          float64
	re, pow         []float64
	fft             *dsp.RealFFT
	norm            float64 // converts Σ|X|² over bins to a mean square
	binHz           float64
	bandLo, bandHi  int
	toneLo, toneHi  int
	pos             int64
	h               hop
}

func newAnalyser(rate int, beep BeepConfig) analyser {
	a := analyser{rate: rate}
	a.hopLen = rate * int(hopDuration/time.Millisecond) / 1000
	a.n = 256 * rate / 8000
	a.win = make([]float64, a.n)
	var wsum float64
	for i := range a.win {
		a.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(a.n))
		wsum += a.win[i] * a.win[i]
	}
	a.buf = make([]float64, a.n)
	a.re = make([]float64, a.n)
	a.pow = make([]float64, a.n/2+1)
	a.fft = dsp.NewRealFFT(a.n)
	a.norm = 2 / (float64(a.n) * wsum)
	a.binHz = float64(rate) / float64(a.n)
	a.bandLo = int(math.Round(bandLoHz / a.binHz))
	a.bandHi = int(math.Round(bandHiHz / a.binHz))
	a.toneLo = max(a.bandLo+toneHalfWidth, int(math.Floor(beep.MinFrequency/a.binHz)))
	a.toneHi = min(a.bandHi-toneHalfWidth, int(math.Ceil(beep.MaxFrequency/a.binHz)))
	return a
}

func (a *analyser) reset() {
	clear(a.buf)
	a.fill, a.absSum, a.pos = 0, 0, 0
	a.h = hop{}
}

// feed takes samples up to the end of the current hop and reports how many it took
// and whether a hop was completed (its measures are then in a.h).
func (a *analyser) feed(s []int16) (int, bool) {
	n := min(len(s), a.hopLen-a.fill)
	base := a.n - a.hopLen + a.fill
	for i, v := range s[:n] {
		x := float64(v)
		a.buf[base+i] = x / 32768
		a.absSum += math.Abs(x)
	}
	a.fill += n
	a.pos += int64(n)
	if a.fill < a.hopLen {
		return n, false
	}
	a.measure()
	copy(a.buf, a.buf[a.hopLen:])
	a.fill, a.absSum = 0, 0
	return n, true
}

func (a *analyser) measure() {
	for i, v := range a.buf {
		a.re[i] = v * a.win[i]
	}
	lo, hi := a.bandLo-toneHalfWidth, a.bandHi+toneHalfWidth
	a.fft.Power(a.re, lo, hi, a.pow[lo:hi+1])
	var level float64
	for k := lo; k <= hi; k++ {
		a.pow[k] *= a.norm
		if k >= a.bandLo && k <= a.bandHi {
			level += a.pow[k]
		}
	}
	peak := a.toneLo
	for k := a.toneLo + 1; k <= a.toneHi; k++ {
		if a.pow[k] > a.pow[peak] {
			peak = k
		}
	}
	var tone float64
	for k := peak - toneHalfWidth; k <= peak+toneHalfWidth; k++ {
		tone += a.pow[k]
	}
	a.h = hop{
		end:     a.pos,
		absMean: a.absSum / float64(a.hopLen),
		level:   level,
		peakBin: peak,
		freq:    a.interpolate(peak),
		tone:    tone,
		full:    a.pos >= int64(a.n),
	}
	if level > 0 {
		a.h.ratio = tone / level
	}
}

// interpolate refines the frequency of the peak at bin k by fitting a parabola to the
// log power of it and its neighbours (exact for a Gaussian, within a hertz or two for
// a Hann-windowed sine).
func (a *analyser) interpolate(k int) float64 {
	l, c, r := a.pow[k-1], a.pow[k], a.pow[k+1]
	if l <= 0 || c <= 0 || r <= 0 {
		return float64(k) * a.binHz
	}
	ll, lc, lr := math.Log(l), math.Log(c), math.Log(r)
	den := ll - 2*lc + lr
	d := 0.0
	if den < 0 {
		d = 0.5 * (ll - lr) / den
	}
	return (float64(k) + max(-0.5, min(0.5, d))) * a.binHz
}

// powerAround is the power now at bins k±toneHalfWidth.
func (a *analyser) powerAround(k int) float64 {
	var p float64
	for i := k - toneHalfWidth; i <= k+toneHalfWidth; i++ {
		p += a.pow[i]
	}
	return p
}

// dB converts a mean square to dBFS, referenced to a full-scale sine (0 dBFS).
func dB(ms float64) float64 {
	return 10*math.Log10(ms+1e-20) + 3
}

// fromDB is the mean square of a level in dBFS.
func fromDB(db float64) float64 {
	return math.Pow(10, (db-3)/10)
}

// ratioDB is the power ratio of db decibels.
func ratioDB(db float64) float64 {
	return math.Pow(10, db/10)
}
