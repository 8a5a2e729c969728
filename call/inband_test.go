package call

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/dtmf"
)

// One key press reported several ways is one digit; separate presses stay separate.
func TestDigitDedup(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	type report struct {
		digit  rune
		source string
		start  time.Duration
		dur    time.Duration
	}
	for _, tc := range []struct {
		name    string
		reports []report
		want    []bool
	}{
		{"RFC 4733 then in-band, the tone's start estimated 60 ms late",
			[]report{{'5', "rfc4733", 0, 100 * ms}, {'5', "inband", 60 * ms, 100 * ms}}, []bool{true, false}},
		{"in-band first, then the events",
			[]report{{'5', "inband", 0, 100 * ms}, {'5', "rfc4733", 30 * ms, 100 * ms}}, []bool{true, false}},
		{"INFO sent at the start of the press, events after",
			[]report{{'7', "info", -100 * ms, 100 * ms}, {'7', "rfc4733", 0, 100 * ms}}, []bool{true, false}},
		{"same key twice from one source is two presses",
			[]report{{'1', "rfc4733", 0, 100 * ms}, {'1', "rfc4733", 160 * ms, 100 * ms}}, []bool{true, true}},
		{"same key twice, both ways: two digits",
			[]report{
				{'1', "rfc4733", 0, 100 * ms}, {'1', "inband", 40 * ms, 90 * ms},
				{'1', "rfc4733", 400 * ms, 100 * ms}, {'1', "inband", 440 * ms, 90 * ms},
			}, []bool{true, false, true, false}},
		{"fast repeats: one-to-one matching",
			[]report{
				{'1', "rfc4733", 0, 80 * ms}, {'1', "rfc4733", 140 * ms, 80 * ms},
				{'1', "inband", 20 * ms, 80 * ms}, {'1', "inband", 160 * ms, 80 * ms},
			}, []bool{true, true, false, false}},
		{"different keys are never merged",
			[]report{{'1', "rfc4733", 0, 100 * ms}, {'2', "inband", 0, 100 * ms}}, []bool{true, true}},
		{"same key from another source much later is a new press",
			[]report{{'9', "rfc4733", 0, 100 * ms}, {'9', "inband", 500 * ms, 100 * ms}}, []bool{true, true}},
		{"three sources, one press",
			[]report{{'#', "rfc4733", 0, 100 * ms}, {'#', "inband", 50 * ms, 100 * ms}, {'#', "info", 0, 100 * ms}},
			[]bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d digitDedup
			var got []bool
			for _, r := range tc.reports {
				start := t0.Add(r.start)
				got = append(got, d.admit(r.digit, r.source, start, start.Add(r.dur)))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// Old presses are forgotten, so memory stays bounded on a long call.
func TestDigitDedupForgets(t *testing.T) {
	var d digitDedup
	t0 := time.Now()
	for i := range 1000 {
		at := t0.Add(time.Duration(i) * 200 * time.Millisecond)
		assert.True(t, d.admit('1', "rfc4733", at, at.Add(100*time.Millisecond)))
	}
	assert.LessOrEqual(t, len(d.recent), 11)
}

// The in-band detector's place in the audio fan-out allocates nothing per frame.
func TestInbandWriterAllocs(t *testing.T) {
	det, err := dtmf.NewDetector(dtmf.DetectorConfig{SampleRate: 8000})
	require.NoError(t, err)
	w := &inbandWriter{det: det}
	r, err := media.NewToneReader(media.Tone{Frequencies: []float64{697, 1209}, Level: -10, Cadence: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}}, 8000, 0)
	require.NoError(t, err)
	var detections int
	det2, err := dtmf.NewDetector(dtmf.DetectorConfig{SampleRate: 8000, OnDigit: func(d dtmf.Detection) {
		if d.Kind == dtmf.DigitEnd {
			detections++
		}
	}})
	require.NoError(t, err)
	w2 := &inbandWriter{det: det2}
	allocs := testing.AllocsPerRun(200, func() {
		f, _ := r.ReadFrame()
		_ = w.WriteFrame(f)
	})
	assert.Zero(t, allocs)
	for range 50 { // 1 s: five key presses of '1'
		f, _ := r.ReadFrame()
		require.NoError(t, w2.WriteFrame(f))
	}
	assert.Equal(t, 5, detections)
	assert.Equal(t, time.Second, w2.consumed)
}

func BenchmarkInbandWriter(b *testing.B) {
	det, err := dtmf.NewDetector(dtmf.DetectorConfig{SampleRate: 8000})
	require.NoError(b, err)
	w := &inbandWriter{det: det}
	r, err := media.NewToneReader(media.Beep(1000, 0), 8000, 0)
	require.NoError(b, err)
	f, _ := r.ReadFrame()
	b.ReportAllocs()
	for b.Loop() {
		_ = w.WriteFrame(f)
	}
}
