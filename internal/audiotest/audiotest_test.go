package audiotest_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/audiotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWAVRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000, 44100, 48000} {
		in := audiotest.Sine(rate, 440, 250*time.Millisecond, -3)
		in = append(in, math.MaxInt16, math.MinInt16, 0, -1)
		path := filepath.Join(t.TempDir(), "x.wav")
		require.NoError(t, audiotest.WriteWAV(path, in, rate))
		out, gotRate, err := audiotest.ReadWAV(path)
		require.NoError(t, err)
		assert.Equal(t, rate, gotRate)
		assert.Equal(t, in, out)
	}
}

func TestWAVHeaderLayout(t *testing.T) {
	b := audiotest.EncodeWAV([]int16{1, -2}, 16000)
	require.Len(t, b, 48)
	assert.Equal(t, "RIFF", string(b[0:4]))
	assert.Equal(t, uint32(40), binary.LittleEndian.Uint32(b[4:]))
	assert.Equal(t, uint32(32000), binary.LittleEndian.Uint32(b[28:]), "byte rate")
	assert.Equal(t, uint32(4), binary.LittleEndian.Uint32(b[40:]), "data size")
}

// wavBytes builds a WAV with the given fmt chunk fields, extra chunks before the data,
// and a declared data size (-1: the real size).
func wavBytes(tag, channels, rate, bitsPer int, extra [][2]string, data []byte, declared int) []byte {
	var b []byte
	le16 := func(v int) { b = binary.LittleEndian.AppendUint16(b, uint16(v)) }
	le32 := func(v int) { b = binary.LittleEndian.AppendUint32(b, uint32(v)) }
	b = append(b, "RIFF\x00\x00\x00\x00WAVE"...)
	b = append(b, "fmt "...)
	le32(16)
	le16(tag)
	le16(channels)
	le32(rate)
	le32(rate * channels * bitsPer / 8)
	le16(channels * bitsPer / 8)
	le16(bitsPer)
	for _, c := range extra {
		b = append(b, c[0]...)
		le32(len(c[1]))
		b = append(b, c[1]...)
		if len(c[1])%2 == 1 {
			b = append(b, 0)
		}
	}
	b = append(b, "data"...)
	if declared < 0 {
		declared = len(data)
	}
	le32(declared)
	return append(b, data...)
}

func pcm(frames ...int16) []byte {
	var b []byte
	for _, s := range frames {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func TestDecodeWAV(t *testing.T) {
	t.Run("stereo is averaged to mono", func(t *testing.T) {
		b := wavBytes(1, 2, 8000, 16, nil, pcm(100, 300, -1000, -2000, 7, 8), -1)
		s, f, err := audiotest.DecodeWAV(b)
		require.NoError(t, err)
		assert.Equal(t, audiotest.Format{Rate: 8000, Channels: 2, Bits: 16}, f)
		assert.Equal(t, []int16{200, -1500, 7}, s)
	})
	t.Run("unknown odd-sized chunks are skipped", func(t *testing.T) {
		b := wavBytes(1, 1, 16000, 16, [][2]string{{"LIST", "abc"}, {"fact", "1234"}}, pcm(5, 6), -1)
		s, f, err := audiotest.DecodeWAV(b)
		require.NoError(t, err)
		assert.Equal(t, 16000, f.Rate)
		assert.Equal(t, []int16{5, 6}, s)
	})
	t.Run("oversized data chunk is read to the end", func(t *testing.T) {
		b := wavBytes(1, 1, 8000, 16, nil, pcm(1, 2, 3), 0x7fffffff)
		s, _, err := audiotest.DecodeWAV(append(b, 0xAA)) // plus half a sample
		require.NoError(t, err)
		assert.Equal(t, []int16{1, 2, 3}, s)
	})
	bad := map[string][]byte{
		"empty":         nil,
		"not riff":      []byte("RIFX\x00\x00\x00\x00WAVEfmt "),
		"8-bit":         wavBytes(1, 1, 8000, 8, nil, []byte{1, 2}, -1),
		"float":         wavBytes(3, 1, 8000, 32, nil, make([]byte, 8), -1),
		"a-law":         wavBytes(6, 1, 8000, 8, nil, []byte{1}, -1),
		"zero channels": wavBytes(1, 0, 8000, 16, nil, nil, -1),
		"no data":       wavBytes(1, 1, 8000, 16, nil, nil, -1)[:36],
		"no fmt":        []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"),
	}
	for name, b := range bad {
		t.Run(name, func(t *testing.T) {
			_, _, err := audiotest.DecodeWAV(b)
			require.ErrorIs(t, err, audiotest.ErrFormat)
		})
	}
}

func TestSignalLengthsAndLevels(t *testing.T) {
	s := audiotest.Sine(8000, 1000, time.Second, 0)
	require.Len(t, s, 8000)
	assert.InDelta(t, -3.01, audiotest.RMSdBFS(s), 0.02, "full-scale sine")
	assert.InDelta(t, -9.03, audiotest.RMSdBFS(audiotest.Sine(16000, 440, time.Second, -6)), 0.02)
	assert.Len(t, audiotest.Silence(16000, 250*time.Millisecond), 4000)
	assert.True(t, math.IsInf(audiotest.RMSdBFS(audiotest.Silence(8000, time.Second)), -1))
	assert.True(t, math.IsInf(audiotest.RMSdBFS(nil), -1))

	// Two tones at -12 dBFS each: RMS is the sum of two -15 dBFS powers.
	mt := audiotest.MultiTone(16000, []float64{697, 1209}, time.Second, -12)
	assert.InDelta(t, -15.05+3.01, audiotest.RMSdBFS(mt), 0.05)
	// Loud multi-tones are clipped, not wrapped.
	loud := audiotest.MultiTone(8000, []float64{500, 1000, 1500}, 100*time.Millisecond, 0)
	assert.Contains(t, loud, int16(math.MaxInt16))

	c := audiotest.Cut(s, 8000, 500*time.Millisecond, 2*time.Second)
	assert.Len(t, c, 4000)
	assert.Empty(t, audiotest.Cut(s, 8000, 2*time.Second, 3*time.Second))
}

func TestGoertzelMeasuresTonePower(t *testing.T) {
	for _, tc := range []struct {
		rate int
		freq float64
		dBFS float64
	}{
		{8000, 1000, -6},
		{8000, 697.3, -20}, // not on a bin
		{16000, 5000, -3},  // wideband only
		{16000, 123.4, -30},
		{48000, 17000, -10},
	} {
		s := audiotest.Sine(tc.rate, tc.freq, 500*time.Millisecond, tc.dBFS)
		got := audiotest.PowerDB(audiotest.Goertzel(s, tc.rate, tc.freq))
		assert.InDelta(t, tc.dBFS, got, 0.1, "%v Hz at %d Hz", tc.freq, tc.rate)
		// 100 Hz away the Hann window leaves nothing.
		off := audiotest.PowerDB(audiotest.Goertzel(s, tc.rate, tc.freq+100))
		assert.Less(t, off, tc.dBFS-60, "%v Hz leaks to +100 Hz", tc.freq)
	}
	assert.Zero(t, audiotest.Goertzel(nil, 8000, 1000))
	assert.Zero(t, audiotest.Goertzel([]int16{1, 2}, 0, 1000))
}

func TestSpectrumAgreesWithGoertzel(t *testing.T) {
	s := audiotest.Sine(8000, 1000, 512*time.Millisecond, -6) // 4096 samples: bins of 1.953125 Hz
	spec := audiotest.Spectrum(s, 8000)
	require.Len(t, spec, 2049)
	assert.Equal(t, 4000.0, spec[len(spec)-1].Freq)
	k := int(1000 / spec[1].Freq)
	assert.Equal(t, 1000.0, spec[k].Freq)
	assert.InDelta(t, audiotest.Goertzel(s, 8000, 1000), spec[k].Power, 1e-9)
	assert.InDelta(t, -6, audiotest.PowerDB(spec[k].Power), 0.05)
}

func TestDominantFrequency(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		rate   int
		freqs  []float64
		levels []float64
		want   float64
	}{
		{8000, []float64{1000}, []float64{-6}, 1000},
		{8000, []float64{1003.7}, []float64{-20}, 1003.7},
		{16000, []float64{5000, 1000}, []float64{-6, -12}, 5000},
		{16000, []float64{440, 6500}, []float64{-20, -10}, 6500},
		{48000, []float64{12345}, []float64{-10}, 12345},
	} {
		var sig []int16
		for i, f := range tc.freqs {
			tone := audiotest.Sine(tc.rate, f, 700*time.Millisecond, tc.levels[i])
			if sig == nil {
				sig = tone
				continue
			}
			for j := range sig {
				sig[j] += tone[j]
			}
		}
		for j := range sig { // white noise at about -50 dBFS
			sig[j] += int16(rng.IntN(201) - 100)
		}
		got := audiotest.DominantFrequency(sig, tc.rate, 50, float64(tc.rate)/2, 0.5)
		assert.InDelta(t, tc.want, got, 1, "%v", tc.freqs)
		assert.Greater(t, audiotest.SFDR(sig, tc.rate, tc.want, 50), 5.9, "%v", tc.freqs)
	}
	s := audiotest.Sine(8000, 1000, 200*time.Millisecond, -6)
	assert.InDelta(t, 1000, audiotest.DominantFrequency(s, 8000, 900, 1100, 1), 1)
	assert.Zero(t, audiotest.DominantFrequency(s, 8000, 5000, 6000, 1), "range above Nyquist")
	assert.Zero(t, audiotest.DominantFrequency(nil, 8000, 0, 4000, 1))
}

func TestSFDR(t *testing.T) {
	tone := audiotest.Sine(8000, 1000, time.Second, -6)
	assert.Greater(t, audiotest.SFDR(tone, 8000, 1000, 20), 60.0, "pure tone")
	rng := rand.New(rand.NewPCG(3, 4))
	noise := make([]int16, 8000)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	assert.Less(t, audiotest.SFDR(noise, 8000, 1000, 20), 3.0, "noise has no tone")
}

func TestGoertzelAllocatesNothing(t *testing.T) {
	s := audiotest.Sine(8000, 1000, 20*time.Millisecond, -6)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = audiotest.Goertzel(s, 8000, 1000) }))
}

func BenchmarkGoertzel20ms(b *testing.B) {
	s := audiotest.Sine(8000, 1000, 20*time.Millisecond, -6)
	b.ReportAllocs()
	for b.Loop() {
		_ = audiotest.Goertzel(s, 8000, 1000)
	}
}

func BenchmarkDominantFrequency1s16k(b *testing.B) {
	s := audiotest.Sine(16000, 5000, time.Second, -6)
	b.ReportAllocs()
	for b.Loop() {
		_ = audiotest.DominantFrequency(s, 16000, 50, 8000, 1)
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(audiotest.EncodeWAV([]int16{1, -1, 1000}, 8000))
	f.Add(wavBytes(1, 2, 8000, 16, [][2]string{{"LIST", "x"}}, pcm(1, 2, 3), -1))
	f.Add(wavBytes(1, 1, 8000, 16, nil, pcm(1), 1000))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, format, err := audiotest.DecodeWAV(b)
		if err != nil {
			return
		}
		if format.Bits != 16 || format.Channels < 1 || format.Rate < 1 {
			t.Fatalf("accepted format %+v", format)
		}
		// A decoded mono file re-encodes and decodes to the same samples.
		if format.Channels == 1 {
			again, f2, err := audiotest.DecodeWAV(audiotest.EncodeWAV(s, format.Rate))
			if err != nil || f2.Rate != format.Rate || len(again) != len(s) {
				t.Fatalf("round trip: %v %+v %d/%d", err, f2, len(again), len(s))
			}
		}
	})
}

func TestDecodeWAVExtensible(t *testing.T) {
	var b []byte
	le16 := func(v int) { b = binary.LittleEndian.AppendUint16(b, uint16(v)) }
	le32 := func(v int) { b = binary.LittleEndian.AppendUint32(b, uint32(v)) }
	b = append(b, "RIFF\x00\x00\x00\x00WAVEfmt "...)
	le32(40)
	le16(0xFFFE)
	le16(1)
	le32(16000)
	le32(32000)
	le16(2)
	le16(16)
	le16(22) // cbSize
	le16(16) // valid bits
	le32(4)  // channel mask: front centre
	b = append(b, "\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"...)
	b = append(b, "data\x04\x00\x00\x00"...)
	b = append(b, pcm(-5, 9)...)
	s, f, err := audiotest.DecodeWAV(b)
	require.NoError(t, err)
	assert.Equal(t, audiotest.Format{Rate: 16000, Channels: 1, Bits: 16}, f)
	assert.Equal(t, []int16{-5, 9}, s)
}

func TestActiveSpan(t *testing.T) {
	rate := 8000
	sig := audiotest.Silence(rate, 300*time.Millisecond)
	sig = append(sig, audiotest.Sine(rate, 1000, time.Second, -6)...)
	sig = append(sig, audiotest.Silence(rate, 500*time.Millisecond)...)
	sig = append(sig, audiotest.Sine(rate, 500, 200*time.Millisecond, -6)...)
	from, to, ok := audiotest.ActiveSpan(sig, rate, 20*time.Millisecond, -30)
	require.True(t, ok)
	assert.Equal(t, 2400, from)
	assert.Equal(t, 2400+8000, to)

	// A span that runs to the end stops at the last whole block.
	from, to, ok = audiotest.ActiveSpan(sig[:2400+4090], rate, 20*time.Millisecond, -30)
	require.True(t, ok)
	assert.Equal(t, 2400, from)
	assert.Equal(t, 2400+4000, to)

	_, _, ok = audiotest.ActiveSpan(audiotest.Silence(rate, time.Second), rate, 20*time.Millisecond, -60)
	assert.False(t, ok)
	_, _, ok = audiotest.ActiveSpan(nil, rate, 20*time.Millisecond, -60)
	assert.False(t, ok)
}
