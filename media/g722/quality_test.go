package g722

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// codecDelay is the round-trip delay of G.722 in 16 kHz samples. The transmit and
// receive QMF are 24-tap linear-phase filters; in cascade they form a 47-tap filter with
// a group delay of 23 samples, and because the decoder emits the even-phase output of a
// pair first, the delay measured from input to output sample index is one less.
const codecDelay = 22

// sine returns n samples of a sine of the given frequency (Hz) and level (dBFS).
func sine(n int, freq, dbfs float64) []int16 {
	amp := 32767 * math.Pow(10, dbfs/20)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/16000)))
	}
	return s
}

// sweep returns n samples of a linear chirp from f0 to f1 Hz at the given level.
func sweep(n int, f0, f1, dbfs float64) []int16 {
	amp := 32767 * math.Pow(10, dbfs/20)
	dur := float64(n) / 16000
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / 16000
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*(f0*t+(f1-f0)*t*t/(2*dur)))))
	}
	return s
}

// roundTrip encodes and decodes pcm with fresh codec state.
func roundTrip(pcm []int16) []int16 {
	codes := NewEncoder().Encode(nil, pcm)
	var d Decoder
	return d.Decode(nil, codes)
}

// snr returns the signal-to-noise ratio in dB of out against in delayed by delay
// samples, ignoring the first skip samples (start-up of the adaptation).
func snr(in, out []int16, delay, skip int) float64 {
	var sig, noise float64
	for i := skip; i+delay < len(out) && i < len(in); i++ {
		x, y := float64(in[i]), float64(out[i+delay])
		sig += x * x
		noise += (x - y) * (x - y)
	}
	return 10 * math.Log10(sig/noise)
}

// bestDelay finds the lag (0..63) at which out correlates best with in.
func bestDelay(in, out []int16) int {
	best, bestC := 0, math.Inf(-1)
	for d := range 64 {
		var c float64
		for i := 0; i+d < len(out) && i < len(in); i++ {
			c += float64(in[i]) * float64(out[i+d])
		}
		if c > bestC {
			best, bestC = d, c
		}
	}
	return best
}

func TestDelay(t *testing.T) {
	in := goldenLowpassNoise(8000)
	assert.Equal(t, codecDelay, bestDelay(in, roundTrip(in)))
}

// TestSNR measures round-trip quality with the codec delay compensated. Measured
// values (dB) are 47.7 (1 kHz at -3 dBFS), 47.6 (-10 dBFS), 43.5 (-30 dBFS), 62.4
// (300 Hz), 41.3 (3 kHz), 27.1 (6 kHz, where the higher band has only 2 bits), 27.3
// (50-7000 Hz sweep) and 21.9 (low-pass noise). The thresholds sit a few dB under
// them, so that a real regression (a wrong table entry costs far more) fails.
func TestSNR(t *testing.T) {
	const n = 16000 // 1 s
	const skip = 1600
	cases := []struct {
		name string
		pcm  []int16
		min  float64
	}{
		{"1kHz -3dBFS", sine(n, 1000, -3), 40},
		{"1kHz -10dBFS", sine(n, 1000, -10), 40},
		{"1kHz -30dBFS", sine(n, 1000, -30), 35},
		{"300Hz -10dBFS", sine(n, 300, -10), 50},
		{"3kHz -10dBFS", sine(n, 3000, -10), 35},
		{"6kHz -10dBFS", sine(n, 6000, -10), 20},
		{"sweep 50-7000Hz -10dBFS", sweep(2*n, 50, 7000, -10), 20},
		{"lowpass noise", goldenLowpassNoise(n), 17},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := snr(c.pcm, roundTrip(c.pcm), codecDelay, skip)
			t.Logf("%s: SNR %.1f dB", c.name, got)
			assert.Greater(t, got, c.min)
		})
	}
}

// TestLowerModesDegradeGracefully decodes a mode 1 stream in modes 2 and 3: quality
// drops with each bit taken from the lower band, but the signal survives.
func TestLowerModesDegradeGracefully(t *testing.T) {
	in := sine(16000, 1000, -10)
	codes := NewEncoder().Encode(nil, in)
	var prev float64 = math.Inf(1)
	for _, mode := range []Mode{Mode1, Mode2, Mode3} {
		d, err := NewDecoder(mode)
		require.NoError(t, err)
		got := snr(in, d.Decode(nil, codes), codecDelay, 1600)
		t.Logf("mode %d: SNR %.1f dB", mode, got)
		assert.Greater(t, got, 15.0)
		assert.Less(t, got, prev)
		prev = got
	}
}

// TestStateTracking checks the property ADPCM rests on: the encoder's local decoder and
// the real decoder hold identical predictor and scale-factor state after every octet.
// Decoders in modes 2 and 3 track too, since their predictors use only the 4-bit core.
func TestStateTracking(t *testing.T) {
	for _, in := range [][]int16{goldenLowpassNoise(4000), goldenSquare(4000), goldenNoise(4000), sweep(4000, 100, 7900, -1)} {
		var enc Encoder
		decs := make([]*Decoder, 0, 3)
		for _, mode := range []Mode{Mode1, Mode2, Mode3} {
			d, err := NewDecoder(mode)
			require.NoError(t, err)
			decs = append(decs, d)
		}
		var code []byte
		for i := 0; i+1 < len(in); i += 2 {
			code = enc.Encode(code[:0], in[i:i+2])
			for _, d := range decs {
				d.Decode(nil, code)
				require.Equal(t, enc.low, d.low, "lower band, sample %d, mode %d", i, d.Mode())
				require.Equal(t, enc.high, d.high, "higher band, sample %d, mode %d", i, d.Mode())
			}
		}
	}
}

// TestChunking checks that splitting a stream at any point, including between the two
// samples of a pair, changes nothing.
func TestChunking(t *testing.T) {
	in := goldenLowpassNoise(3200)
	want := NewEncoder().Encode(nil, in)
	var enc Encoder
	var got []byte
	g := lcg(11)
	for rest := in; len(rest) > 0; {
		k := min(int(g.next()%7), len(rest)) // includes empty and odd chunks
		got = enc.Encode(got, rest[:k])
		rest = rest[k:]
	}
	assert.Equal(t, want, got)

	var d1, d2 Decoder
	wantPCM := d1.Decode(nil, want)
	var gotPCM []int16
	for rest := want; len(rest) > 0; {
		k := min(int(g.next()%5), len(rest))
		gotPCM = d2.Decode(gotPCM, rest[:k])
		rest = rest[k:]
	}
	assert.Equal(t, wantPCM, gotPCM)
}

func TestReset(t *testing.T) {
	in := goldenLowpassNoise(321)
	var enc Encoder
	first := enc.Encode(nil, in)
	enc.Reset()
	assert.Equal(t, first, enc.Encode(nil, in))

	d, err := NewDecoder(Mode2)
	require.NoError(t, err)
	out1 := d.Decode(nil, first)
	d.Reset()
	assert.Equal(t, Mode2, d.Mode())
	assert.Equal(t, out1, d.Decode(nil, first))
}

func TestNewDecoder(t *testing.T) {
	var zero Decoder
	assert.Equal(t, Mode1, zero.Mode())
	for _, m := range []Mode{0, 4, -1} {
		_, err := NewDecoder(m)
		require.ErrorIs(t, err, ErrMode)
	}
	// A zero-value decoder and a Mode1 decoder are the same thing.
	codes := goldenCodes(100)
	d1, err := NewDecoder(Mode1)
	require.NoError(t, err)
	assert.Equal(t, zero.Decode(nil, codes), d1.Decode(nil, codes))
}

func TestAppendsToDst(t *testing.T) {
	var enc Encoder
	dst := enc.Encode([]byte{1, 2}, make([]int16, 4))
	assert.Equal(t, []byte{1, 2, 0xFA, 0xFA}, dst)
	var d Decoder
	out := d.Decode([]int16{7}, []byte{0xFA})
	assert.Len(t, out, 3)
	assert.Equal(t, int16(7), out[0])
}

func TestZeroAllocs(t *testing.T) {
	pcm := sine(320, 1000, -10)
	codes := make([]byte, 0, 160)
	out := make([]int16, 0, 320)
	var enc Encoder
	var dec Decoder
	allocs := testing.AllocsPerRun(100, func() {
		codes = enc.Encode(codes[:0], pcm)
		out = dec.Decode(out[:0], codes)
	})
	assert.Zero(t, allocs)
}

// Budget: zero allocations per 20 ms frame (320 samples, 160 octets).
func BenchmarkEncode20ms(b *testing.B) {
	pcm := sine(320, 1000, -10)
	codes := make([]byte, 0, 160)
	var enc Encoder
	b.ReportAllocs()
	for b.Loop() {
		codes = enc.Encode(codes[:0], pcm)
	}
}

func BenchmarkDecode20ms(b *testing.B) {
	codes := NewEncoder().Encode(nil, sine(320, 1000, -10))
	out := make([]int16, 0, 320)
	var dec Decoder
	b.ReportAllocs()
	for b.Loop() {
		out = dec.Decode(out[:0], codes)
	}
}
