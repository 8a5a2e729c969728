package vad

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

// synth builds a deterministic test signal at rate: white noise at -55 dBFS with
// voiced bursts (a 140 Hz harmonic complex up to 3.4 kHz at about -20 dBFS) at the
// given [start, end) times.
func synth(rate int, total time.Duration, bursts ...[2]time.Duration) []int16 {
	n := media.SamplesPer(rate, total)
	rng := rand.New(rand.NewPCG(1, 2))
	noiseAmp := 32768 * math.Pow(10, -55.0/20) * math.Sqrt(3) // uniform noise RMS = amp/√3
	x := make([]float64, n)
	for i := range x {
		x[i] = noiseAmp * (2*rng.Float64() - 1)
	}
	for _, b := range bursts {
		s, e := media.SamplesPer(rate, b[0]), media.SamplesPer(rate, b[1])
		for i := s; i < e && i < n; i++ {
			t := float64(i) / float64(rate)
			var v float64
			for k := 1; float64(k)*140 < 3400; k++ {
				v += math.Sin(2*math.Pi*140*float64(k)*t) / float64(k)
			}
			x[i] += 2500 * v
		}
	}
	out := make([]int16, n)
	for i, v := range x {
		out[i] = int16(clampF(math.Round(v), -32768, 32767))
	}
	return out
}

// runFrames feeds x to d in frames of the given duration and returns per-frame
// results and all events.
func runFrames(d *Detector, x []int16, frame time.Duration) ([]Result, []Event) {
	n := media.SamplesPer(d.SampleRate(), frame)
	var res []Result
	var evs []Event
	for i := 0; i < len(x); i += n {
		r := d.Process(x[i:min(i+n, len(x))])
		res = append(res, r)
		if r.Event.Type != 0 {
			evs = append(evs, r.Event)
		}
	}
	return res, evs
}

const ms = time.Millisecond

// TestEvents checks start and end events, their times, the hangover and the minimum
// speech length on a synthetic signal, at both rates.
func TestEvents(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		var got []Event
		d, err := New(rate, Config{Hangover: 200 * ms, MinSpeech: 100 * ms, OnEvent: func(e Event) { got = append(got, e) }})
		require.NoError(t, err)
		x := synth(rate, 5*time.Second,
			[2]time.Duration{500 * ms, 540 * ms}, // 40 ms click: shorter than MinSpeech
			[2]time.Duration{1000 * ms, 1600 * ms},
			[2]time.Duration{1700 * ms, 2000 * ms}, // 100 ms gap: bridged by the hangover
			[2]time.Duration{3000 * ms, 3080 * ms}, // 80 ms: too short
			[2]time.Duration{3500 * ms, 3700 * ms})
		res, evs := runFrames(d, x, 20*ms)
		require.Equal(t, evs, got, "OnEvent sees every event")
		require.Len(t, evs, 4, "%v", evs)
		near := func(want, got time.Duration) {
			t.Helper()
			assert.InDelta(t, want, got, float64(20*ms), "want %v, got %v", want, got)
		}
		assert.Equal(t, SpeechStart, evs[0].Type)
		near(1000*ms, evs[0].At)
		near(1130*ms, evs[0].Detected) // MinSpeech and the 27 ms analysis smear later
		assert.Equal(t, SpeechEnd, evs[1].Type)
		near(2000*ms, evs[1].At)
		near(2210*ms, evs[1].Detected) // Hangover (+ one hop) later
		assert.Equal(t, SpeechStart, evs[2].Type)
		near(3500*ms, evs[2].At)
		assert.Equal(t, SpeechEnd, evs[3].Type)
		near(3700*ms, evs[3].At)

		// Result.Speech follows the events; Active marks the bursts themselves.
		for i, r := range res {
			at := time.Duration(i) * 20 * ms
			inSpeech := (at >= 1120*ms && at < 2200*ms) || (at >= 3620*ms && at < 3900*ms)
			if (at-1120*ms).Abs() > 30*ms && (at-2200*ms).Abs() > 30*ms &&
				(at-3620*ms).Abs() > 30*ms && (at-3900*ms).Abs() > 30*ms {
				assert.Equal(t, inSpeech, r.Speech, "Speech at %v", at)
			}
			if at >= 520*ms && at < 540*ms {
				assert.True(t, r.Active, "the click is active at %v", at)
			}
		}
		assert.False(t, d.Speaking())
		_, ok := d.Finish()
		assert.False(t, ok, "nothing to finish")
	}
}

// TestDefaults checks the zero Config: 300 ms hangover, 60 ms minimum speech.
func TestDefaults(t *testing.T) {
	d, err := New(8000, Config{})
	require.NoError(t, err)
	x := synth(8000, 2*time.Second, [2]time.Duration{500 * ms, 530 * ms}, [2]time.Duration{1000 * ms, 1200 * ms})
	_, evs := runFrames(d, x, 20*ms)
	require.Len(t, evs, 2, "the 30 ms click is ignored: %v", evs)
	assert.InDelta(t, 1070*ms, evs[0].Detected, float64(10*ms), "MinSpeech and the analysis smear after the onset")
	assert.InDelta(t, 1200*ms+DefaultHangover, evs[1].Detected, float64(20*ms))

	// A negative MinSpeech lets the click through; a negative Hangover ends speech as
	// soon as the sound stops.
	var all []Event
	d, err = New(8000, Config{MinSpeech: -1, OnEvent: func(e Event) { all = append(all, e) }})
	require.NoError(t, err)
	runFrames(d, x, 20*ms)
	require.Len(t, all, 4, "%v", all)
	assert.InDelta(t, 500*ms, all[0].At, float64(10*ms))
	assert.InDelta(t, 530*ms, all[0].Detected, float64(10*ms), "confirmed once the window holds it")
	all = nil
	d, err = New(8000, Config{Hangover: -1, OnEvent: func(e Event) { all = append(all, e) }})
	require.NoError(t, err)
	runFrames(d, x, 20*ms)
	require.Len(t, all, 2, "%v", all)
	assert.InDelta(t, 1200*ms, all[1].At, float64(20*ms))
	assert.InDelta(t, 1230*ms, all[1].Detected, float64(20*ms))
}

// TestFinish ends a stream in the middle of speech.
func TestFinish(t *testing.T) {
	var got []Event
	d, err := New(16000, Config{OnEvent: func(e Event) { got = append(got, e) }})
	require.NoError(t, err)
	runFrames(d, synth(16000, time.Second, [2]time.Duration{500 * ms, time.Second}), 20*ms)
	require.True(t, d.Speaking())
	ev, ok := d.Finish()
	require.True(t, ok)
	assert.Equal(t, SpeechEnd, ev.Type)
	assert.Equal(t, time.Second, ev.At)
	assert.Equal(t, time.Second, ev.Detected)
	assert.Equal(t, time.Second, d.Offset())
	require.Len(t, got, 2)
	assert.Equal(t, ev, got[1])
	d.Reset()
	assert.Zero(t, d.Offset())
	assert.False(t, d.Speaking())
}

// TestFrameSizes checks that the decision does not depend on how the stream is cut:
// the detector analyses fixed 10 ms hops whatever the frame length.
func TestFrameSizes(t *testing.T) {
	x := synth(8000, 3*time.Second, [2]time.Duration{1000 * ms, 2000 * ms})
	var ref []Event
	for _, f := range []time.Duration{10 * ms, 20 * ms, 30 * ms, 7 * ms, 60 * ms} {
		d, err := New(8000, Config{})
		require.NoError(t, err)
		_, evs := runFrames(d, x, f)
		require.Len(t, evs, 2, "frames of %v", f)
		if ref == nil {
			ref = evs
			continue
		}
		for i := range evs {
			assert.InDelta(t, ref[i].At, evs[i].At, float64(f+10*ms), "frames of %v", f)
		}
	}
}

// TestModes checks that higher modes need more evidence: of a series of voiced
// bursts at rising levels in white noise, each mode detects fewer than the one before,
// and Quality detects bursts VeryAggressive misses.
func TestModes(t *testing.T) {
	const rate = 8000
	rng := rand.New(rand.NewPCG(3, 4))
	levels := []float64{-6, -3, 0, 3, 6, 9, 12, 15, 18}
	x := make([]int16, rate*(1+len(levels)))
	for i := range x {
		v := 1000 * (2*rng.Float64() - 1) // −33 dBFS
		if burst := i/rate - 1; burst >= 0 && i%rate < rate*3/10 {
			g := 1000 / math.Sqrt(3) * math.Pow(10, levels[burst]/20) // RMS relative to the noise
			var h float64
			for k := 1; float64(k)*140 < 3400; k++ {
				h += math.Sin(2*math.Pi*140*float64(k)*float64(i)/rate) / float64(k)
			}
			v += g * h / 1.2 // the complex's RMS is about 1.2
		}
		x[i] = int16(v)
	}
	var found []int
	for m := Quality; m <= VeryAggressive; m++ {
		var starts int
		d, err := New(rate, Config{Mode: m, OnEvent: func(e Event) {
			if e.Type == SpeechStart {
				starts++
			}
		}})
		require.NoError(t, err)
		runFrames(d, x, 20*ms)
		t.Logf("%v: %d of %d bursts detected", m, starts, len(levels))
		found = append(found, starts)
	}
	for i := 1; i < len(found); i++ {
		assert.LessOrEqual(t, found[i], found[i-1], "mode %v", Mode(i))
	}
	assert.Greater(t, found[Quality], found[VeryAggressive])
	assert.Positive(t, found[VeryAggressive])
}

func TestNewErrors(t *testing.T) {
	for _, rate := range []int{0, 11025, 44100, 48000} {
		_, err := New(rate, Config{})
		require.ErrorIs(t, err, ErrUnsupported, "%d Hz", rate)
	}
	for _, m := range []Mode{-1, 4} {
		_, err := New(8000, Config{Mode: m})
		require.ErrorIs(t, err, ErrUnsupported, "mode %v", m)
	}
	d, err := New(8000, Config{})
	require.NoError(t, err)
	_, err = d.Detect(media.Frame{Samples: make([]int16, 320), SampleRate: 16000})
	require.ErrorIs(t, err, media.ErrRateMismatch)
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "quality", Quality.String())
	assert.Equal(t, "very-aggressive", VeryAggressive.String())
	assert.Equal(t, "Mode(7)", Mode(7).String())
	assert.Equal(t, "speech-start", SpeechStart.String())
	assert.Equal(t, "speech-end", SpeechEnd.String())
	assert.Equal(t, "speech-start at 1.24s (detected 1.3s)",
		Event{Type: SpeechStart, At: 1240 * ms, Detected: 1300 * ms}.String())
}

// sink records the flags of the frames it receives.
type sink struct {
	rate  int
	flags []bool
}

func (s *sink) SampleRate() int { return s.rate }
func (s *sink) WriteFrame(f media.Frame) error {
	s.flags = append(s.flags, f.Has(media.FlagSpeech))
	return nil
}

func TestWriter(t *testing.T) {
	dst := &sink{rate: 8000}
	var evs []Event
	w, err := NewWriter(dst, Config{OnEvent: func(e Event) { evs = append(evs, e) }})
	require.NoError(t, err)
	assert.Equal(t, "vad", w.String())
	assert.Equal(t, 8000, w.SampleRate())
	x := synth(8000, 2*time.Second, [2]time.Duration{500 * ms, 1000 * ms})
	for i := 0; i < len(x); i += 160 {
		// Upstream flags are replaced, not trusted.
		require.NoError(t, w.WriteFrame(media.Frame{Samples: x[i : i+160], SampleRate: 8000, Flags: media.FlagSpeech | media.FlagRTP}))
	}
	require.Len(t, dst.flags, 100)
	require.Len(t, evs, 2)
	for i, fl := range dst.flags {
		at := time.Duration(i) * 20 * ms
		assert.Equal(t, at >= evs[0].Detected-20*ms && at < evs[1].Detected-20*ms, fl, "frame at %v", at)
	}
	require.ErrorIs(t, w.WriteFrame(media.Frame{Samples: x[:320], SampleRate: 16000}), media.ErrRateMismatch)
	assert.Len(t, dst.flags, 100, "a rejected frame is not passed on")
	assert.NotNil(t, w.Detector())

	_, err = NewWriter(&sink{rate: 44100}, Config{})
	require.ErrorIs(t, err, ErrUnsupported)
}

type source struct {
	rate   int
	frames []media.Frame
}

func (s *source) SampleRate() int { return s.rate }
func (s *source) ReadFrame() (media.Frame, error) {
	if len(s.frames) == 0 {
		return media.Frame{}, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f, nil
}

func TestReader(t *testing.T) {
	x := synth(16000, 2*time.Second, [2]time.Duration{1000 * ms, 2000 * ms})
	src := &source{rate: 16000}
	for i := 0; i < len(x); i += 320 {
		src.frames = append(src.frames, media.Frame{Samples: x[i : i+320], SampleRate: 16000})
	}
	var evs []Event
	r, err := NewReader(src, Config{OnEvent: func(e Event) { evs = append(evs, e) }})
	require.NoError(t, err)
	assert.Equal(t, "vad", r.String())
	assert.Equal(t, 16000, r.SampleRate())
	flagged := 0
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if f.Has(media.FlagSpeech) {
			flagged++
		}
	}
	assert.InDelta(t, 47, flagged, 1, "1 s of speech less the 40+27 ms confirmation")
	require.Len(t, evs, 2, "EOF ends the open segment")
	assert.Equal(t, SpeechEnd, evs[1].Type)
	assert.Equal(t, 2*time.Second, evs[1].At)
	assert.False(t, r.Detector().Speaking())

	bad := &source{rate: 16000, frames: []media.Frame{{Samples: x[:160], SampleRate: 8000}}}
	r, err = NewReader(bad, Config{})
	require.NoError(t, err)
	_, err = r.ReadFrame()
	require.ErrorIs(t, err, media.ErrRateMismatch)
}

// TestZeroAllocs is the per-frame budget: no allocation, with or without events.
func TestZeroAllocs(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		n := 0
		d, err := New(rate, Config{OnEvent: func(Event) { n++ }})
		require.NoError(t, err)
		x := synth(rate, 5*time.Second, [2]time.Duration{1 * time.Second, 2 * time.Second})
		frame := rate / 50
		i := 0
		allocs := testing.AllocsPerRun(199, func() {
			d.Process(x[i*frame : (i+1)*frame])
			i++
		})
		assert.Zero(t, allocs, "%d Hz", rate)
		assert.Positive(t, n, "events fired during the measurement")

		w, err := NewWriter(&nopSink{rate: rate}, Config{})
		require.NoError(t, err)
		f := media.Frame{Samples: x[:frame], SampleRate: rate}
		allocs = testing.AllocsPerRun(100, func() { _ = w.WriteFrame(f) })
		assert.Zero(t, allocs, "%d Hz Writer", rate)
	}
}

type nopSink struct{ rate int }

func (s *nopSink) SampleRate() int              { return s.rate }
func (s *nopSink) WriteFrame(media.Frame) error { return nil }

// TestNoiseLevel checks the reported noise level against a known white noise.
func TestNoiseLevel(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		d, err := New(rate, Config{})
		require.NoError(t, err)
		res, _ := runFrames(d, synth(rate, time.Second), 20*ms)
		// synth's noise has an RMS of −55 dBFS: −52 dBFS on the sine scale.
		assert.InDelta(t, -52, res[len(res)-1].NoiseLevel, 1.5, "%d Hz", rate)
	}
}

// TestExtremes feeds digital silence, DC and a full-scale square wave: no NaN, no
// speech in silence or DC, speech in the square wave.
func TestExtremes(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		n := rate / 50
		cases := []struct {
			name   string
			sample func(i int) int16
			speech bool
		}{
			{"silence", func(int) int16 { return 0 }, false},
			{"DC", func(int) int16 { return 12000 }, false},
			{"square", func(i int) int16 {
				if (i/20)%2 == 0 {
					return 32767
				}
				return -32768
			}, true},
		}
		for _, c := range cases {
			d, err := New(rate, Config{})
			require.NoError(t, err)
			frame := make([]int16, n)
			speech := false
			for f := range 100 {
				// The first second is noise-free silence; the signal follows.
				for i := range frame {
					frame[i] = 0
					if f >= 50 {
						frame[i] = c.sample(f*n + i)
					}
				}
				r := d.Process(frame)
				require.False(t, math.IsNaN(r.Score) || math.IsInf(r.Score, 0), "%s score %v", c.name, r.Score)
				require.False(t, math.IsNaN(r.NoiseLevel), c.name)
				speech = speech || r.Speech
			}
			assert.Equal(t, c.speech, speech, "%s at %d Hz", c.name, rate)
			d.Process(nil) // an empty frame is fine
		}
	}
}
