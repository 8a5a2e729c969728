package dtmf

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// signal builds test audio: tone pairs, pauses and noise, at one rate.
type signal struct {
	t    *testing.T
	rate int
	gen  *Generator
	pcm  []int16
}

func newSignal(t *testing.T, rate int) *signal {
	t.Helper()
	g, err := NewGenerator(rate)
	require.NoError(t, err)
	return &signal{t: t, rate: rate, gen: g}
}

func (s *signal) samples(d time.Duration) int {
	return int(int64(d) * int64(s.rate) / int64(time.Second))
}

// pause appends silence.
func (s *signal) pause(d time.Duration) *signal {
	s.pcm = append(s.pcm, make([]int16, s.samples(d))...)
	return s
}

// pauseSamples appends n samples of silence.
func (s *signal) pauseSamples(n int) *signal {
	s.pcm = append(s.pcm, make([]int16, n)...)
	return s
}

// tones appends two sinusoids with the given frequencies and levels.
func (s *signal) tones(lowHz, highHz, lowDB, highDB float64, d time.Duration) *signal {
	require.NoError(s.t, s.gen.SetTones(lowHz, highHz, lowDB, highDB))
	buf := make([]int16, s.samples(d))
	s.gen.Generate(buf)
	s.pcm = append(s.pcm, buf...)
	return s
}

// key appends a key's nominal tone pair at level dBFS per component.
func (s *signal) key(digit rune, levelDB float64, d time.Duration) *signal {
	lo, hi, ok := Frequencies(digit)
	require.True(s.t, ok, "key %q", digit)
	return s.tones(lo, hi, levelDB, levelDB, d)
}

// addNoise adds seeded white Gaussian noise with the given RMS (in sample units)
// to the whole signal.
func (s *signal) addNoise(rms float64, seed uint64) *signal {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i, v := range s.pcm {
		x := float64(v) + rng.NormFloat64()*rms
		s.pcm[i] = int16(math.Round(min(max(x, -32768), 32767)))
	}
	return s
}

// dbAmp is the peak amplitude of a sine at level dBFS.
func dbAmp(db float64) float64 { return fullScale * math.Pow(10, db/20) }

// detect runs a fresh detector over pcm in frames of frameDur and returns all
// detections, including the end of a digit still active at the end.
func detect(t *testing.T, rate int, pcm []int16, frameDur time.Duration) []Detection {
	t.Helper()
	d, err := NewDetector(DetectorConfig{SampleRate: rate})
	require.NoError(t, err)
	n := int(int64(frameDur) * int64(rate) / int64(time.Second))
	var out []Detection
	for len(pcm) > 0 {
		k := min(n, len(pcm))
		out = d.Detect(out, pcm[:k])
		pcm = pcm[k:]
	}
	return d.Flush(out)
}

// digits returns the keys of the DigitStart detections, in order.
func digits(dets []Detection) string {
	var b strings.Builder
	for _, d := range dets {
		if d.Kind == DigitStart {
			b.WriteRune(d.Digit)
		}
	}
	return b.String()
}

// allKeys are the sixteen DTMF keys.
const allKeys = "123A456B789C*0#D"
