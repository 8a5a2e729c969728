package jitter

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// voiced returns a voiced-speech-like test signal at rate: a 200 Hz fundamental
// with a 5 Hz, ±3% vibrato and harmonics up to 1 kHz falling at 6 dB per octave,
// shaped into 400 ms "syllables" by a raised-cosine envelope.
func voiced(rate int, seconds float64) []int16 {
	n := int(seconds * float64(rate))
	out := make([]int16, n)
	phase := 0.0
	for i := range out {
		t := float64(i) / float64(rate)
		f0 := 200 * (1 + 0.03*math.Sin(2*math.Pi*5*t))
		phase += 2 * math.Pi * f0 / float64(rate)
		var v float64
		for k := 1; k <= 5; k++ {
			v += math.Sin(float64(k)*phase) / float64(k)
		}
		env := 0.6 + 0.4*math.Cos(2*math.Pi*t/0.4)
		out[i] = int16(6000 * env * v)
	}
	return out
}

// speech returns espeak-ng's rendering of text, resampled to 8 kHz.
func speech(t *testing.T, text string) []int16 {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatalf("espeak-ng not found: install the Debian package espeak-ng (%v)", err)
	}
	path := filepath.Join(t.TempDir(), "speech.wav")
	out, err := exec.Command(bin, "-v", "en-us", "-s", "150", "-w", path, text).CombinedOutput()
	require.NoError(t, err, "espeak-ng: %s", out)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	pcm, rate, err := parseWAV(data)
	require.NoError(t, err)
	return resampleTo8k(pcm, rate)
}

// parseWAV reads mono 16-bit PCM from a RIFF/WAVE file.
func parseWAV(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a WAVE file")
	}
	rate := 0
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, errors.New("not mono 16-bit PCM")
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			size = min(size, len(body))
			pcm := make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, rate, nil
		}
		p += 8 + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// resampleTo8k converts with a Hann-windowed sinc low-pass at 3.6 kHz.
func resampleTo8k(in []int16, rate int) []int16 {
	const taps = 24
	ratio := float64(rate) / 8000
	cut := 3600 / float64(rate) // cycles per input sample
	out := make([]int16, int(float64(len(in))/ratio))
	for n := range out {
		c := float64(n) * ratio
		var acc, wsum float64
		for k := int(c) - taps; k <= int(c)+taps; k++ {
			if k < 0 || k >= len(in) {
				continue
			}
			x := float64(k) - c
			w := 0.5 + 0.5*math.Cos(math.Pi*x/(taps+1))
			s := 2 * cut
			if x != 0 {
				s = math.Sin(2*math.Pi*cut*x) / (math.Pi * x)
			}
			acc += float64(in[k]) * s * w
			wsum += s * w
		}
		out[n] = clamp16(float32(acc / wsum))
	}
	return out
}

// lossPattern marks frames as lost: 5% at random (single frames), or in bursts
// of two frames, 5% of frames in all.
func lossPattern(frames int, burst bool, seed uint64) []bool {
	r := rand.New(rand.NewPCG(seed, 99))
	lost := make([]bool, frames)
	for i := 2; i < frames-2; i++ {
		if burst {
			if !lost[i-1] && r.Float64() < 0.025 {
				lost[i], lost[i+1] = true, true
				i += 2
			}
		} else if r.Float64() < 0.05 {
			lost[i] = true
		}
	}
	return lost
}

// receive plays x through a loss pattern with 20 ms frames: lost frames are
// zero-filled, or concealed with c when c is not nil.
func receive(x []int16, frame int, lost []bool, c Concealer) []int16 {
	y := make([]int16, len(x))
	for f := range lost {
		seg := y[f*frame : (f+1)*frame]
		if lost[f] {
			if c != nil {
				c.Conceal(seg)
			}
			continue
		}
		copy(seg, x[f*frame:(f+1)*frame])
		if c != nil {
			c.Good(seg)
		}
	}
	return y
}

// quality returns the SNR over the whole signal, which includes the effect of
// cross-fading into the frames after each loss, and the segmental SNR over the
// lost frames (each segment's SNR clamped to [-10, 35] dB as usual; near-silent
// segments skipped), in dB.
func quality(x, y []int16, frame int, lost []bool) (snr, segSNR float64) {
	var sig, noise float64
	for i := range len(lost) * frame {
		d := float64(x[i]) - float64(y[i])
		sig += float64(x[i]) * float64(x[i])
		noise += d * d
	}
	snr = 10 * math.Log10(sig/max(noise, 1))
	var sum float64
	n := 0
	for f := range lost {
		if !lost[f] {
			continue
		}
		var s, e float64
		for i := f * frame; i < (f+1)*frame; i++ {
			d := float64(x[i]) - float64(y[i])
			s += float64(x[i]) * float64(x[i])
			e += d * d
		}
		if s < 1e4*float64(frame) {
			continue // near-silent (below -50 dBFS): its SNR says nothing
		}
		sum += min(max(10*math.Log10(s/max(e, 1)), -10), 35)
		n++
	}
	return snr, sum / float64(max(n, 1))
}

// TestConcealmentQuality compares zero-filling with pitch concealment on a
// voiced-like signal and on synthetic speech, for random and 2-frame burst loss.
func TestConcealmentQuality(t *testing.T) {
	const frame = 160
	// Minimum gains over zero-fill, in dB. Waveform SNR punishes any phase error
	// of the repeated waveform, so on real speech, whose period drifts within
	// tens of milliseconds, pitch repetition wins by less than on the steady
	// signal, and least on the second frame of a burst.
	signals := []struct {
		name                string
		pcm                 []int16
		minGain, minSegGain float64
	}{
		{"harmonic tone with vibrato", voiced(8000, 10), 1, 3},
		{"espeak-ng speech", speech(t, "The quick brown fox jumps over the lazy dog. "+
			"Please hold while your call is transferred to the next available agent. "+
			"Thank you for calling, goodbye."), 0.3, 0.5},
	}
	for _, sig := range signals {
		for _, burst := range []bool{false, true} {
			name := sig.name + ", 5% random"
			if burst {
				name = sig.name + ", 5% in 2-frame bursts"
			}
			t.Run(name, func(t *testing.T) {
				// Average over five loss patterns: a single pattern puts too
				// much weight on which few frames it happens to hit.
				const patterns = 5
				var zSNR, zSeg, pSNR, pSeg float64
				frames, n := len(sig.pcm)/frame, 0
				for seed := range uint64(patterns) {
					lost := lossPattern(frames, burst, seed+1)
					for _, l := range lost {
						if l {
							n++
						}
					}
					zero := receive(sig.pcm, frame, lost, nil)
					plc := receive(sig.pcm, frame, lost, NewPitchConcealer(8000))
					a, b := quality(sig.pcm, zero, frame, lost)
					c, d := quality(sig.pcm, plc, frame, lost)
					zSNR, zSeg, pSNR, pSeg = zSNR+a/patterns, zSeg+b/patterns, pSNR+c/patterns, pSeg+d/patterns
				}
				t.Logf("%s: %.1f%% of %d frames lost (mean of %d patterns); SNR zero-fill %.2f dB, PLC %.2f dB; "+
					"segmental SNR of lost frames zero-fill %.2f dB, PLC %.2f dB",
					name, 100*float64(n)/float64(patterns*frames), frames, patterns, zSNR, pSNR, zSeg, pSeg)
				assert.Greater(t, pSNR, zSNR+sig.minGain, "PLC must beat zero-fill")
				assert.Greater(t, pSeg, zSeg+sig.minSegGain, "PLC must beat zero-fill on the lost frames")
			})
		}
	}
}

func TestPitchEstimate(t *testing.T) {
	for _, tc := range []struct {
		rate int
		f0   float64
	}{{8000, 100}, {8000, 160}, {8000, 200}, {16000, 100}, {16000, 125}} {
		c := NewPitchConcealer(tc.rate)
		x := make([]int16, tc.rate/10)
		for i := range x {
			ph := 2 * math.Pi * tc.f0 * float64(i) / float64(tc.rate)
			x[i] = int16(5000*math.Sin(ph) + 2500*math.Sin(2*ph+1) + 1200*math.Sin(3*ph+2))
		}
		c.Good(x)
		for i, s := range c.hist {
			c.pb[i] = float32(s)
		}
		assert.Equal(t, int(math.Round(float64(tc.rate)/tc.f0)), c.findPitch(), "%v Hz at %d Hz", tc.f0, tc.rate)
	}
}

// A steady periodic signal is continued almost exactly, then attenuated from 10 ms
// and silent from 60 ms; the good frame after the loss joins without a click.
func TestPitchConcealerShape(t *testing.T) {
	const rate = 8000
	x := make([]int16, rate)
	for i := range x {
		ph := 2 * math.Pi * 160 * float64(i) / rate // period of 50 samples
		x[i] = int16(8000*math.Sin(ph) + 3000*math.Sin(2*ph))
	}
	c := NewPitchConcealer(rate)
	for f := 0; f < 20; f++ {
		c.Good(append([]int16(nil), x[f*160:(f+1)*160]...))
	}
	// 80 ms lost.
	y := make([]int16, 640)
	for f := range 4 {
		c.Conceal(y[f*160 : (f+1)*160])
	}
	orig := x[3200:3840]
	var e, s float64
	for i := range 80 { // first 10 ms: plain repetition
		d := float64(y[i]) - float64(orig[i])
		e += d * d
		s += float64(orig[i]) * float64(orig[i])
	}
	assert.Greater(t, 10*math.Log10(s/e), 25.0, "first 10 ms reproduce a periodic signal")
	peak := func(v []int16) float64 {
		m := 0.0
		for _, s := range v {
			m = max(m, math.Abs(float64(s)))
		}
		return m
	}
	p0 := peak(y[:80])
	assert.InDelta(t, 0.8, peak(y[160:240])/p0, 0.12, "20% down per 10 ms after the first 10 ms")
	assert.Less(t, peak(y[400:480])/p0, 0.21, "20% of the level in the last 10 ms")
	assert.Zero(t, peak(y[480:]), "silent after 60 ms")

	// Recovery: the next good frame fades in from the (silent) concealment.
	g := append([]int16(nil), x[3840:4000]...)
	c.Good(g)
	assert.Less(t, math.Abs(float64(g[0])), 1200.0, "no step at the join")
	assert.Equal(t, x[3920:4000], g[80:], "past the 10 ms overlap the frame is untouched")
}

// The first concealed sample continues the last real one.
func TestPitchConcealerContinuity(t *testing.T) {
	x := voiced(8000, 1)
	c := NewPitchConcealer(8000)
	for f := 0; f < 25; f++ {
		c.Good(append([]int16(nil), x[f*160:(f+1)*160]...))
	}
	y := c.Conceal(make([]int16, 160))
	step := math.Abs(float64(y[0]) - float64(x[25*160-1]))
	var maxStep float64
	for i := 1; i < 25*160; i++ {
		maxStep = max(maxStep, math.Abs(float64(x[i])-float64(x[i-1])))
	}
	assert.Less(t, step, maxStep, "join no steeper than the signal itself")
}

func TestConcealWithoutHistory(t *testing.T) {
	for _, c := range []Concealer{NewPitchConcealer(8000), NewFadeConcealer(8000), NewConcealer(48000)} {
		y := c.Conceal(make([]int16, 160))
		assert.Equal(t, make([]int16, 160), y)
		g := []int16{1000, 1000, 1000, 1000}
		c.Good(g)
		assert.Less(t, g[0], int16(1000), "faded in after a loss")
	}
	p := NewPitchConcealer(8000)
	p.Good([]int16{5000, 5000, 5000})
	y := p.Conceal(make([]int16, 160))
	assert.Less(t, y[0], int16(5000))
	assert.Greater(t, y[0], int16(3000), "short history: the last sample fades out")
	assert.Zero(t, y[159])
}

func TestFadeConcealer(t *testing.T) {
	c := NewFadeConcealer(48000)
	g := make([]int16, 960)
	for i := range g {
		g[i] = 8000
	}
	c.Good(g)
	y := c.Conceal(make([]int16, 960))
	assert.InDelta(t, 8000, float64(y[0]), 100)
	assert.Zero(t, y[240], "silent after 5 ms")
	assert.Zero(t, y[959])
	g2 := make([]int16, 960)
	for i := range g2 {
		g2[i] = 8000
	}
	c.Good(g2)
	assert.Less(t, g2[0], int16(100))
	assert.Equal(t, int16(8000), g2[240])
	assert.IsType(t, &PitchConcealer{}, NewConcealer(16000))
	assert.IsType(t, &FadeConcealer{}, NewConcealer(48000))
}

func TestConcealAllocs(t *testing.T) {
	x := voiced(8000, 1)
	for _, c := range []Concealer{NewPitchConcealer(8000), NewPitchConcealer(16000), NewFadeConcealer(48000)} {
		buf := make([]int16, 160)
		f := 0
		allocs := testing.AllocsPerRun(200, func() {
			if f%4 == 3 {
				c.Conceal(buf)
			} else {
				copy(buf, x[(f%40)*160:])
				c.Good(buf)
			}
			f++
		})
		assert.Zero(t, allocs)
	}
}
