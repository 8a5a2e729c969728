package dtmf

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

func TestFrequencies(t *testing.T) {
	cases := []struct {
		key       rune
		low, high float64
	}{
		{'1', 697, 1209}, {'2', 697, 1336}, {'3', 697, 1477}, {'A', 697, 1633},
		{'4', 770, 1209}, {'5', 770, 1336}, {'6', 770, 1477}, {'B', 770, 1633},
		{'7', 852, 1209}, {'8', 852, 1336}, {'9', 852, 1477}, {'C', 852, 1633},
		{'*', 941, 1209}, {'0', 941, 1336}, {'#', 941, 1477}, {'D', 941, 1633},
		{'d', 941, 1633},
	}
	for _, tc := range cases {
		lo, hi, ok := Frequencies(tc.key)
		require.True(t, ok, "%q", tc.key)
		assert.Equal(t, [2]float64{tc.low, tc.high}, [2]float64{lo, hi}, "%q", tc.key)
	}
	for _, r := range "!xE " {
		_, _, ok := Frequencies(r)
		assert.False(t, ok, "%q", r)
	}
}

// dft returns the amplitude of the component at hz in pcm (a sine of peak A
// gives A when pcm holds whole periods, near A otherwise).
func dft(pcm []int16, rate int, hz float64) float64 {
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	e := goertzel(2*math.Cos(2*math.Pi*hz/float64(rate)), x, nil)
	return 2 * math.Sqrt(e) / float64(len(pcm))
}

func TestToneReader(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		for _, k := range allKeys {
			r, err := Tone(k, 250*ms, rate, -10)
			require.NoError(t, err)
			assert.Equal(t, rate, r.SampleRate())
			var pcm []int16
			var sizes []int
			for {
				f, err := r.ReadFrame()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				assert.Equal(t, rate, f.SampleRate)
				sizes = append(sizes, len(f.Samples))
				pcm = append(pcm, f.Samples...)
			}
			_, err = r.ReadFrame()
			assert.ErrorIs(t, err, io.EOF, "EOF again")
			frame := rate / 50
			assert.Equal(t, []int{frame, frame, frame, frame, frame, frame, frame, frame, frame, frame, frame, frame, frame / 2}, sizes)
			assert.Len(t, pcm, rate/4)

			lo, hi, _ := Frequencies(k)
			want := dbAmp(-10)
			assert.InDelta(t, want, dft(pcm, rate, lo), want*0.02, "low component of %c at %d Hz", k, rate)
			assert.InDelta(t, want, dft(pcm, rate, hi), want*0.02, "high component of %c at %d Hz", k, rate)
			// Nothing else: the residual after both components is quantisation noise.
			var sq float64
			for _, v := range pcm {
				sq += float64(v) * float64(v)
			}
			rms := math.Sqrt(sq / float64(len(pcm)))
			assert.InDelta(t, want, rms, want*0.01, "RMS of two sines of peak A is A")
		}
	}
}

// TestGeneratorPhaseContinuous: generating in pieces of any size gives the same
// signal as generating it at once; and frequency changes keep the phase.
func TestGeneratorPhaseContinuous(t *testing.T) {
	whole, err := NewGenerator(8000)
	require.NoError(t, err)
	require.NoError(t, whole.SetDigit('9', -8))
	want := make([]int16, 8000)
	whole.Generate(want)

	pieces, err := NewGenerator(8000)
	require.NoError(t, err)
	require.NoError(t, pieces.SetDigit('9', -8))
	got := make([]int16, 0, 8000)
	for i, n := 0, 1; len(got) < len(want); i, n = i+1, n*3%251+1 {
		buf := make([]int16, min(n, len(want)-len(got)))
		pieces.Generate(buf)
		got = append(got, buf...)
	}
	for i := range want {
		require.InDelta(t, want[i], got[i], 1, "sample %d", i)
	}

	// Switching keys mid-stream never jumps by more than the two sines can move
	// in one sample.
	require.NoError(t, pieces.SetDigit('1', -8))
	buf := make([]int16, 400)
	pieces.Generate(buf)
	a := dbAmp(-8)
	maxStep := a * 2 * math.Pi * (941 + 1633) / 8000
	prev := float64(got[len(got)-1])
	for i, v := range buf {
		require.LessOrEqual(t, math.Abs(float64(v)-prev), maxStep+1, "sample %d", i)
		prev = float64(v)
	}
	pieces.Off()
	pieces.Generate(buf)
	assert.Equal(t, make([]int16, len(buf)), buf)
}

func TestGeneratorLongRunStable(t *testing.T) {
	g, err := NewGenerator(8000)
	require.NoError(t, err)
	require.NoError(t, g.SetDigit('5', -10))
	buf := make([]int16, 160)
	for range 50 * 60 { // a minute
		g.Generate(buf)
	}
	want := dbAmp(-10)
	pcm := make([]int16, 8000)
	g.Generate(pcm)
	assert.InDelta(t, want, dft(pcm, 8000, 770), want*0.01)
	assert.InDelta(t, want, dft(pcm, 8000, 1336), want*0.01)
}

func TestToneErrors(t *testing.T) {
	_, err := Tone('!', time.Second, 8000, -10)
	assert.ErrorIs(t, err, ErrNoTone)
	_, err = Tone('1', time.Second, 8000, -5)
	assert.ErrorIs(t, err, ErrLevel)
	_, err = Tone('1', time.Second, 100, -10)
	assert.ErrorIs(t, err, ErrSampleRate)
	g, err := NewGenerator(8000)
	require.NoError(t, err)
	assert.ErrorIs(t, g.SetTones(697, 4000, -10, -10), ErrFrequency)
	assert.ErrorIs(t, g.SetTones(0, 1000, -10, -10), ErrFrequency)
	assert.ErrorIs(t, g.SetTones(697, 1209, math.NaN(), -10), ErrLevel)
	assert.NoError(t, g.SetTones(697, 1209, math.Inf(-1), -6.1), "one component off")
	r, err := Tone('1', -time.Second, 8000, -10)
	require.NoError(t, err)
	_, err = r.ReadFrame()
	assert.ErrorIs(t, err, io.EOF)
}

// TestToneDetectRoundTrip: every key generated by Tone is detected, at both
// detector rates, at typical and weak levels.
func TestToneDetectRoundTrip(t *testing.T) {
	for _, rate := range detectorRates {
		for _, level := range []float64{-7, -25} {
			var got []Detection
			d, err := NewDetector(DetectorConfig{SampleRate: rate, OnDigit: func(x Detection) { got = append(got, x) }})
			require.NoError(t, err)
			for _, k := range allKeys {
				r, err := Tone(k, 80*ms, rate, level)
				require.NoError(t, err)
				for {
					f, err := r.ReadFrame()
					if err != nil {
						break
					}
					require.NoError(t, d.WriteFrame(f))
				}
				sil, err := Tone(k, 60*ms, rate, math.Inf(-1))
				require.NoError(t, err)
				for {
					f, err := sil.ReadFrame()
					if err != nil {
						break
					}
					require.NoError(t, d.WriteFrame(f))
				}
			}
			assert.Equal(t, allKeys, digits(got), "rate %d level %v", rate, level)
		}
	}
}

// TestDetectThroughG711: keys survive G.711 (μ-law and A-law) quantisation, as
// they arrive from the network at 8 kHz.
func TestDetectThroughG711(t *testing.T) {
	for _, codec := range []media.Codec{media.PCMU(), media.PCMA()} {
		for _, level := range []float64{-7, -20, -30} {
			s := newSignal(t, 8000).pause(40 * ms)
			for _, k := range allKeys {
				s.key(k, level, 45*ms).pause(45 * ms)
			}
			enc, dec := codec.NewEncoder(), codec.NewDecoder()
			pcm := dec.Decode(nil, enc.Encode(nil, s.pcm))
			assert.Equal(t, allKeys, digits(detect(t, 8000, pcm, 20*ms)), "%s at %v dBFS", codec.Name(), level)
		}
	}
}
