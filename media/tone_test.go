package media

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll drains r, returning the samples and the frame sizes.
func readAll(t *testing.T, r FrameReader, limit int) ([]int16, []int) {
	t.Helper()
	var s []int16
	var sizes []int
	for len(s) < limit {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, r.SampleRate(), f.SampleRate)
		s = append(s, f.Samples...)
		sizes = append(sizes, len(f.Samples))
	}
	return s, sizes
}

// goertzel returns the amplitude (in the units of s) of the freq component of s.
func goertzel(s []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range s {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(p) / float64(len(s))
}

func dbfs(amp float64) float64 { return 20 * math.Log10(amp/32767) }

func TestBeep(t *testing.T) {
	r, err := NewToneReader(Beep(1000, 500*time.Millisecond), 8000, 0)
	require.NoError(t, err)
	s, sizes := readAll(t, r, 1<<20)
	assert.Len(t, s, 4000)
	assert.Len(t, sizes, 25)
	assert.InDelta(t, -12, dbfs(goertzel(s, 8000, 1000)), 0.1)
	assert.Less(t, dbfs(goertzel(s, 8000, 1500)), -60.0, "a pure tone")
	assert.Equal(t, int16(0), s[0], "starts at zero phase")
	_, err = r.ReadFrame()
	assert.ErrorIs(t, err, io.EOF, "EOF is sticky")
}

func TestToneMatchesSineAcrossFrames(t *testing.T) {
	// 10 s of a 997 Hz tone in odd-sized frames: every sample matches a directly
	// computed sine, so phase runs on across frames and nothing drifts.
	const rate = 16000
	r, err := NewToneReader(Tone{Frequencies: []float64{997}, Level: -1, Duration: 10 * time.Second}, rate, 7*time.Millisecond)
	require.NoError(t, err)
	s, sizes := readAll(t, r, 1<<30)
	require.Len(t, s, 10*rate)
	assert.Equal(t, 112, sizes[0])
	assert.Equal(t, 160000%112, sizes[len(sizes)-1], "short last frame")
	amp := 32767 * math.Pow(10, -1.0/20)
	for i, x := range s {
		want := amp * math.Sin(2*math.Pi*997*float64(i)/rate)
		if math.Abs(float64(x)-want) > 1 {
			t.Fatalf("sample %d: got %d want %.1f", i, x, want)
		}
	}
}

func TestDualToneAndSaturation(t *testing.T) {
	r, err := NewToneReader(Tone{Frequencies: []float64{440, 480}, Level: -20, Duration: time.Second}, 8000, 0)
	require.NoError(t, err)
	s, _ := readAll(t, r, 1<<20)
	assert.InDelta(t, -20, dbfs(goertzel(s, 8000, 440)), 0.1)
	assert.InDelta(t, -20, dbfs(goertzel(s, 8000, 480)), 0.1)

	// Two full-scale components saturate rather than wrap.
	r, err = NewToneReader(Tone{Frequencies: []float64{100, 100.5}, Level: 0, Duration: time.Second}, 8000, 0)
	require.NoError(t, err)
	s, _ = readAll(t, r, 1<<20)
	var peak int16
	for _, x := range s {
		peak = max(peak, x)
		require.GreaterOrEqual(t, x, int16(-32768))
	}
	assert.Equal(t, int16(32767), peak)
}

// onOff returns, per 10 ms block, whether the block carries signal.
func onOff(s []int16, rate int) []bool {
	n := rate / 100
	var out []bool
	for i := 0; i+n <= len(s); i += n {
		out = append(out, rms(s[i:i+n]) > 100)
	}
	return out
}

// runs compresses a boolean sequence into run lengths, starting with the first value.
func runs(b []bool) []int {
	var r []int
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] == b[i] {
			j++
		}
		r = append(r, j-i)
		i = j
	}
	return r
}

func TestRingbackCadence(t *testing.T) {
	cases := []struct {
		region Region
		freqs  [2]float64
		runs   []int // in 10 ms blocks, starting with on
	}{
		{RegionUS, [2]float64{440, 480}, []int{200, 400, 200, 400, 200}},
		{RegionUK, [2]float64{400, 450}, []int{40, 20, 40, 200, 40, 20, 40, 200, 40, 20, 40, 200, 40, 20, 40, 200, 40, 20}},
		{"unknown", [2]float64{440, 480}, []int{200, 400, 200, 400, 200}},
	}
	for _, tc := range cases {
		t.Run(string(tc.region), func(t *testing.T) {
			r, err := NewToneReader(Ringback(tc.region), 8000, 0)
			require.NoError(t, err)
			s, _ := readAll(t, r, 8000*14) // endless: stop after 14 s
			require.Len(t, s, 8000*14)
			got := runs(onOff(s, 8000))
			assert.Equal(t, tc.runs, got[:len(tc.runs)])
			on := s[:8000*4/10]
			assert.InDelta(t, -22, dbfs(goertzel(on, 8000, tc.freqs[0])), 0.2)
			assert.InDelta(t, -22, dbfs(goertzel(on, 8000, tc.freqs[1])), 0.2)
		})
	}
}

func TestSilence(t *testing.T) {
	r, err := NewToneReader(Silence(50*time.Millisecond), 16000, 0)
	require.NoError(t, err)
	s, sizes := readAll(t, r, 1<<20)
	assert.Equal(t, make([]int16, 800), s)
	assert.Equal(t, []int{320, 320, 160}, sizes)

	r, err = NewToneReader(Silence(0), 8000, 0)
	require.NoError(t, err)
	s, _ = readAll(t, r, 8000*5)
	assert.Len(t, s, 8000*5, "zero duration is endless")
}

func TestToneErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		tone Tone
		rate int
	}{
		"rate":         {Beep(1000, time.Second), 0},
		"nyquist":      {Beep(4000, time.Second), 8000},
		"negative f":   {Beep(-5, time.Second), 8000},
		"NaN f":        {Beep(math.NaN(), time.Second), 8000},
		"level":        {Tone{Frequencies: []float64{100}, Level: 3}, 8000},
		"duration":     {Silence(-time.Second), 8000},
		"odd cadence":  {Tone{Frequencies: []float64{100}, Cadence: []time.Duration{time.Second}}, 8000},
		"neg cadence":  {Tone{Frequencies: []float64{100}, Cadence: []time.Duration{time.Second, -time.Second}}, 8000},
		"zero cadence": {Tone{Frequencies: []float64{100}, Cadence: []time.Duration{0, 0}}, 8000},
	} {
		_, err := NewToneReader(tc.tone, tc.rate, 0)
		assert.ErrorIs(t, err, ErrTone, name)
	}
}

func TestToneZeroAllocs(t *testing.T) {
	r, err := NewToneReader(Ringback(RegionUK), 16000, 0)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() { _, _ = r.ReadFrame() })
	assert.Zero(t, allocs)
}

// BenchmarkTone generates one 20 ms frame of a dual tone at 16 kHz. Budget: zero
// allocations per frame.
func BenchmarkTone(b *testing.B) {
	r, err := NewToneReader(Tone{Frequencies: []float64{440, 480}, Level: -19}, 16000, 0)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = r.ReadFrame()
	}
}
