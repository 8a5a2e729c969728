package media

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestMixer(t *testing.T, soft bool) *Mixer {
	t.Helper()
	m, err := NewMixer(MixerConfig{SampleRate: 8000, FrameDuration: 10 * time.Millisecond, SoftLimit: soft})
	require.NoError(t, err)
	return m
}

func constFrame(n int, v int16) Frame {
	s := make([]int16, n)
	for i := range s {
		s[i] = v
	}
	return Frame{Samples: s, SampleRate: 8000}
}

func TestMixerSumAndNMinusOne(t *testing.T) {
	m := newTestMixer(t, false)
	outA := &collector{rate: 8000}
	outB := &collector{rate: 8000}
	a := m.AddInput("alice", outA)
	b := m.AddInput("bob", outB)
	c := m.AddInput("carol", nil) // listen-less input, e.g. music on hold
	assert.Equal(t, "mixer[alice, bob, carol]", m.String())
	assert.Equal(t, "mix(alice)", a.String())

	require.NoError(t, a.WriteFrame(constFrame(80, 100)))
	require.NoError(t, b.WriteFrame(constFrame(80, 20)))
	require.NoError(t, c.WriteFrame(constFrame(80, 3)))
	f, err := m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, 8000, f.SampleRate)
	assert.Equal(t, constFrame(80, 123).Samples, f.Samples)
	assert.Equal(t, constFrame(80, 23).Samples, outA.samples(), "alice hears everyone but herself")
	assert.Equal(t, constFrame(80, 103).Samples, outB.samples())
}

func TestMixerSilenceAndUnderruns(t *testing.T) {
	m := newTestMixer(t, false)
	a := m.AddInput("a", nil)
	b := m.AddInput("b", nil)
	require.NoError(t, a.WriteFrame(constFrame(50, 7))) // less than the 80-sample frame
	f, err := m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, append(constFrame(50, 7).Samples, make([]int16, 30)...), f.Samples)
	assert.Equal(t, uint64(1), a.Stats().Underruns)
	assert.Equal(t, uint64(1), b.Stats().Underruns)

	// Queued audio carries over frame boundaries in order.
	require.NoError(t, a.WriteFrame(Frame{Samples: ramp(120), SampleRate: 8000}))
	f, err = m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, ramp(120)[:80], f.Samples)
	f, err = m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, append(ramp(120)[80:], make([]int16, 40)...), f.Samples)
}

func TestMixerOverflowDropsOldest(t *testing.T) {
	m, err := NewMixer(MixerConfig{SampleRate: 8000, FrameDuration: 10 * time.Millisecond, MaxBuffer: 20 * time.Millisecond})
	require.NoError(t, err)
	a := m.AddInput("a", nil)
	src := ramp(250)
	// Write in uneven pieces so the ring wraps.
	for _, cut := range [][2]int{{0, 70}, {70, 150}, {150, 250}} {
		require.NoError(t, a.WriteFrame(Frame{Samples: src[cut[0]:cut[1]], SampleRate: 8000}))
	}
	assert.Equal(t, uint64(90), a.Stats().DroppedSamples, "queue holds 160 samples")
	f, err := m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, src[90:170], f.Samples)
	f, err = m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, src[170:250], f.Samples)

	// A single frame larger than the queue keeps its newest part.
	require.NoError(t, a.WriteFrame(Frame{Samples: src, SampleRate: 8000}))
	assert.Equal(t, uint64(90+90), a.Stats().DroppedSamples)
	f, err = m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, src[90:170], f.Samples)
}

func TestMixerClipping(t *testing.T) {
	hard := newTestMixer(t, false)
	soft := newTestMixer(t, true)
	for _, m := range []*Mixer{hard, soft} {
		a, b := m.AddInput("a", nil), m.AddInput("b", nil)
		require.NoError(t, a.WriteFrame(Frame{Samples: []int16{30000, -30000, 1000, 20000}, SampleRate: 8000}))
		require.NoError(t, b.WriteFrame(Frame{Samples: []int16{30000, -30000, 1000, 4000}, SampleRate: 8000}))
	}
	f, err := hard.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, []int16{32767, -32768, 2000, 24000}, f.Samples[:4], "saturating add")

	f, err = soft.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, int16(2000), f.Samples[2], "unchanged below the knee")
	assert.Equal(t, int16(24000), f.Samples[3], "unchanged below the knee")
	assert.Greater(t, f.Samples[0], int16(SoftKnee))
	assert.Less(t, f.Samples[0], int16(32767))
	assert.Equal(t, -f.Samples[0], f.Samples[1], "symmetric")
}

func TestSoftLimitCurve(t *testing.T) {
	prev := softLimit(-1 << 20)
	assert.Greater(t, prev, int16(-32768))
	for s := int32(-1 << 20); s <= 1<<20; s += 17 {
		y := softLimit(s)
		if y < prev {
			t.Fatalf("not monotonic at %d: %d after %d", s, y, prev)
		}
		if s >= -SoftKnee && s <= SoftKnee && y != int16(s) {
			t.Fatalf("below the knee %d changed to %d", s, y)
		}
		prev = y
	}
	assert.Less(t, prev, int16(32767), "never reaches full scale")
	// Continuous with slope about 1 at the knee.
	assert.Equal(t, int16(SoftKnee+1), softLimit(SoftKnee+1))
	assert.InDelta(t, 100, float64(softLimit(SoftKnee+100)-SoftKnee), 2)
}

func TestMixerRateAndClose(t *testing.T) {
	_, err := NewMixer(MixerConfig{})
	assert.ErrorIs(t, err, ErrMixerConfig)
	_, err = NewMixer(MixerConfig{SampleRate: 8000, FrameDuration: time.Microsecond})
	assert.ErrorIs(t, err, ErrMixerConfig)

	m := newTestMixer(t, false)
	assert.Equal(t, 8000, m.SampleRate())
	a := m.AddInput("a", nil)
	assert.Equal(t, 8000, a.SampleRate())
	assert.ErrorIs(t, a.WriteFrame(Frame{Samples: []int16{1}, SampleRate: 16000}), ErrRateMismatch)

	// A closed input leaves the mix at once.
	b := m.AddInput("b", nil)
	require.NoError(t, b.WriteFrame(constFrame(80, 5)))
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	assert.ErrorIs(t, b.WriteFrame(constFrame(80, 5)), ErrClosed)
	assert.Equal(t, "mixer[a]", m.String())
	f, err := m.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, make([]int16, 80), f.Samples)

	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	_, err = m.ReadFrame()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, a.WriteFrame(constFrame(1, 1)), ErrClosed)
	assert.ErrorIs(t, m.AddInput("late", nil).WriteFrame(constFrame(1, 1)), ErrClosed)
}

func TestMixerOutputErrorsCounted(t *testing.T) {
	m := newTestMixer(t, false)
	a := m.AddInput("a", Discard(16000)) // wrong rate: every write fails
	_, err := m.ReadFrame()
	require.NoError(t, err, "one participant's sink does not stop the mix")
	assert.Equal(t, uint64(1), a.Stats().WriteErrors)
}

// TestMixerConcurrent runs writers, a reader and membership changes at once; run with
// -race.
func TestMixerConcurrent(t *testing.T) {
	m := newTestMixer(t, true)
	var wg sync.WaitGroup
	for p := range 4 {
		in := m.AddInput("p", Discard(8000))
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := constFrame(80, int16(p*1000))
			for range 200 {
				_ = in.WriteFrame(f)
			}
			_ = in.Close()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			extra := m.AddInput("extra", nil)
			_ = extra.Close()
		}
	}()
	for range 300 {
		_, err := m.ReadFrame()
		require.NoError(t, err)
	}
	wg.Wait()
	assert.Equal(t, "mixer[]", m.String())
	require.NoError(t, m.Close())
}

func TestMixerZeroAllocs(t *testing.T) {
	m := newTestMixer(t, true)
	f := constFrame(80, 20000)
	var ins []*MixerInput
	for range 5 {
		ins = append(ins, m.AddInput("p", Discard(8000)))
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, in := range ins {
			_ = in.WriteFrame(f)
		}
		_, _ = m.ReadFrame()
	})
	assert.Zero(t, allocs)
}

// BenchmarkMixer mixes five 20 ms inputs at 16 kHz with N-1 outputs for each, per
// frame. Budget: zero allocations per frame.
func BenchmarkMixer(b *testing.B) {
	for _, soft := range []bool{false, true} {
		name := "hard"
		if soft {
			name = "soft"
		}
		b.Run(name, func(b *testing.B) {
			m, err := NewMixer(MixerConfig{SampleRate: 16000, SoftLimit: soft})
			require.NoError(b, err)
			f := Frame{Samples: sineWave(320, 16000, 440, -3), SampleRate: 16000}
			var ins []*MixerInput
			for range 5 {
				ins = append(ins, m.AddInput("p", Discard(16000)))
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, in := range ins {
					_ = in.WriteFrame(f)
				}
				_, _ = m.ReadFrame()
			}
		})
	}
}
