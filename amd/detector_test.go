package amd_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/media"
)

// sig builds synthetic 8 kHz test audio piece by piece.
type sig struct {
	rate int
	s    []float64
	r    *rand.Rand
}

func newSig(rate int) *sig { return &sig{rate: rate, r: rand.New(rand.NewPCG(1, 2))} }

func (g *sig) n(d time.Duration) int { return media.SamplesPer(g.rate, d) }

func (g *sig) silence(d time.Duration) *sig {
	g.s = append(g.s, make([]float64, g.n(d))...)
	return g
}

// talk appends voiced syllables: a 140 Hz buzz with 20 harmonics, 200 ms on, 60 ms
// off, at amp (peak of the fundamental, full scale 1).
func (g *sig) talk(d time.Duration, amp float64) *sig {
	on, period := g.n(200*time.Millisecond), g.n(260*time.Millisecond)
	for i := range g.n(d) {
		if i%period >= on {
			g.s = append(g.s, 0)
			continue
		}
		var v float64
		for h := 1; h <= 20; h++ {
			v += math.Sin(2*math.Pi*140*float64(h)*float64(i)/float64(g.rate)) / float64(h)
		}
		g.s = append(g.s, amp*v)
	}
	return g
}

func (g *sig) tone(hz float64, d time.Duration, amp float64) *sig {
	for i := range g.n(d) {
		g.s = append(g.s, amp*math.Sin(2*math.Pi*hz*float64(i)/float64(g.rate)))
	}
	return g
}

// noise adds white noise of RMS level rms over everything so far.
func (g *sig) noise(rms float64) *sig {
	for i := range g.s {
		g.s[i] += rms * g.r.NormFloat64()
	}
	return g
}

func (g *sig) pcm() []int16 {
	out := make([]int16, len(g.s))
	for i, v := range g.s {
		out[i] = int16(max(-32768, min(32767, math.Round(v*32768))))
	}
	return out
}

// feed writes s in frames of frame samples until the detector is done, collecting
// events, then calls Finish.
func feed(t *testing.T, d *amd.Detector, s []int16, frame int) []amd.Event {
	t.Helper()
	var evs []amd.Event
	for len(s) > 0 && !d.Done() {
		n := min(frame, len(s))
		require.NoError(t, d.WriteFrame(media.Frame{Samples: s[:n], SampleRate: d.SampleRate()}))
		s = s[n:]
		for e, ok := d.Next(); ok; e, ok = d.Next() {
			evs = append(evs, e)
		}
	}
	d.Finish()
	for e, ok := d.Next(); ok; e, ok = d.Next() {
		evs = append(evs, e)
	}
	return evs
}

func TestNewErrors(t *testing.T) {
	_, err := amd.New(44100, amd.Config{})
	require.ErrorIs(t, err, amd.ErrConfig)
	_, err = amd.New(8000, amd.Config{Greeting: -time.Second})
	require.ErrorIs(t, err, amd.ErrConfig)
	_, err = amd.New(8000, amd.Config{Mode: 9})
	require.ErrorIs(t, err, amd.ErrConfig)
	_, err = amd.NewBeepDetector(8000, amd.BeepConfig{MinFrequency: 3000, MaxFrequency: 2000})
	require.ErrorIs(t, err, amd.ErrConfig)
	_, err = amd.NewBeepDetector(22050, amd.BeepConfig{})
	require.ErrorIs(t, err, amd.ErrConfig)

	d, err := amd.New(8000, amd.Config{})
	require.NoError(t, err)
	err = d.WriteFrame(media.Frame{Samples: make([]int16, 320), SampleRate: 16000})
	require.ErrorIs(t, err, media.ErrRateMismatch)
	b, err := amd.NewBeepDetector(16000, amd.BeepConfig{})
	require.NoError(t, err)
	require.ErrorIs(t, b.WriteFrame(media.Frame{Samples: make([]int16, 160), SampleRate: 8000}), media.ErrRateMismatch)
}

func TestVerdicts(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		audio []int16
		rules amd.Rules
		want  amd.Verdict
		at    [2]time.Duration // decision window
	}{
		{"silence/classic", newSig(8000).silence(6 * time.Second).pcm(), amd.Classic, amd.Silence, [2]time.Duration{2500 * ms, 2510 * ms}},
		{"silence/cadence", newSig(8000).silence(6 * time.Second).pcm(), amd.Cadence, amd.Silence, [2]time.Duration{2500 * ms, 2510 * ms}},
		// "Hello?" (one word, 400 ms): the shorter pause applies.
		{"hello/cadence", newSig(8000).silence(500*ms).talk(400*ms, 0.05).silence(5 * time.Second).pcm(), amd.Cadence, amd.Human, [2]time.Duration{1300 * ms, 1500 * ms}},
		{"hello/classic", newSig(8000).silence(500*ms).talk(400*ms, 0.05).silence(5 * time.Second).pcm(), amd.Classic, amd.Human, [2]time.Duration{1600 * ms, 1800 * ms}},
		// Two seconds of speech, then a pause: a person who says a little more.
		{"sentence/cadence", newSig(8000).silence(500*ms).talk(1500*ms, 0.05).silence(5 * time.Second).pcm(), amd.Cadence, amd.Human, [2]time.Duration{2700 * ms, 2900 * ms}},
		{"sentence/classic", newSig(8000).silence(500*ms).talk(1500*ms, 0.05).silence(5 * time.Second).pcm(), amd.Classic, amd.Machine, [2]time.Duration{1000 * ms, 2200 * ms}},
		{"greeting/cadence", newSig(8000).silence(300*ms).talk(6*time.Second, 0.05).pcm(), amd.Cadence, amd.Machine, [2]time.Duration{2200 * ms, 2400 * ms}},
		{"greeting/classic", newSig(8000).silence(300*ms).talk(6*time.Second, 0.05).pcm(), amd.Classic, amd.Machine, [2]time.Duration{1000 * ms, 2200 * ms}},
		// Line noise alone, loud enough for the fixed threshold to take it for speech.
		{"noise/cadence", newSig(8000).silence(6 * time.Second).noise(0.02).pcm(), amd.Cadence, amd.Silence, [2]time.Duration{2500 * ms, 2510 * ms}},
		{"noise/classic", newSig(8000).silence(6 * time.Second).noise(0.02).pcm(), amd.Classic, amd.Machine, [2]time.Duration{0, 2000 * ms}},
		// A short greeting and a beep: the beep gives it away before any pause can.
		{"beep/cadence", newSig(8000).silence(300*ms).talk(900*ms, 0.05).silence(300*ms).tone(1000, 400*ms, 0.1).silence(2 * time.Second).pcm(), amd.Cadence, amd.Machine, [2]time.Duration{1800 * ms, 2000 * ms}},
		// A quiet "hello" in noise, 12 dB above it.
		{"hello-in-noise/cadence", newSig(8000).silence(500*ms).talk(400*ms, 0.02).silence(5 * time.Second).noise(0.002).pcm(), amd.Cadence, amd.Human, [2]time.Duration{1300 * ms, 1500 * ms}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := amd.New(8000, amd.Config{Rules: c.rules})
			require.NoError(t, err)
			evs := feed(t, d, c.audio, 160)
			require.Len(t, evs, 1)
			det := evs[0].Detection
			assert.Equal(t, amd.EventDetection, evs[0].Type)
			assert.Equal(t, c.want, det.Verdict, "%v", det)
			assert.True(t, det.At >= c.at[0] && det.At <= c.at[1], "decided at %v, want %v..%v (%v)", det.At, c.at[0], c.at[1], det)
			got, ok := d.Detection()
			assert.True(t, ok)
			assert.Equal(t, det, got)
		})
	}
}

func TestEvidence(t *testing.T) {
	ms := time.Millisecond
	d, err := amd.New(8000, amd.Config{})
	require.NoError(t, err)
	feed(t, d, newSig(8000).silence(700*ms).talk(400*ms, 0.05).silence(3*time.Second).pcm(), 160)
	det, ok := d.Detection()
	require.True(t, ok)
	ev := det.Evidence
	assert.InDelta(t, float64(700*ms), float64(ev.InitialSilence), float64(40*ms))
	assert.InDelta(t, float64(400*ms), float64(ev.Greeting), float64(60*ms))
	assert.InDelta(t, float64(500*ms), float64(ev.AfterGreetingSilence), float64(20*ms))
	assert.Equal(t, 1, ev.Words, "two syllables 60 ms apart: one word once the 32 ms window smears the gap")
	assert.False(t, ev.Beep)
}

func TestGreetingModes(t *testing.T) {
	ms := time.Millisecond
	greeting := func() *sig { return newSig(8000).silence(300*ms).talk(3*time.Second, 0.05) }
	speechEnd := 300*ms + 3*time.Second // 11 syllables and 140 ms of a twelfth
	cases := []struct {
		name     string
		mode     amd.Mode
		audio    []int16
		want     amd.GreetingResult
		at       time.Duration // when the greeting ended in the audio
		detected [2]time.Duration
	}{
		{"beep", amd.DetectBeep, greeting().silence(500*ms).tone(800, 300*ms, 0.1).silence(time.Second).pcm(),
			amd.GreetingBeep, 4100 * ms, [2]time.Duration{4100 * ms, 4160 * ms}},
		{"no-beep", amd.DetectBeep, greeting().silence(5 * time.Second).pcm(),
			amd.GreetingNoBeep, 0, [2]time.Duration{0, 0}},
		{"greeting-end-silence", amd.GreetingEnd, greeting().silence(3 * time.Second).pcm(),
			amd.GreetingEnded, speechEnd, [2]time.Duration{speechEnd + 1500*ms, speechEnd + 1560*ms}},
		{"greeting-end-beep", amd.GreetingEnd, greeting().silence(900*ms).tone(1400, 200*ms, 0.1).silence(2 * time.Second).pcm(),
			amd.GreetingBeep, 4400 * ms, [2]time.Duration{4400 * ms, 4460 * ms}},
		{"words", amd.DetectWords, greeting().silence(900*ms).tone(1400, 200*ms, 0.1).silence(2 * time.Second).pcm(),
			amd.GreetingEnded, speechEnd, [2]time.Duration{speechEnd + 800*ms, speechEnd + 860*ms}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := amd.New(8000, amd.Config{Mode: c.mode, BeepTimeout: 4 * time.Second})
			require.NoError(t, err)
			evs := feed(t, d, c.audio, 160)
			require.Len(t, evs, 2)
			assert.Equal(t, amd.Machine, evs[0].Detection.Verdict)
			require.Equal(t, amd.EventGreeting, evs[1].Type)
			g := evs[1].Greeting
			assert.Equal(t, c.want, g.Result, "%v", g)
			if c.want == amd.GreetingNoBeep {
				assert.Equal(t, evs[0].Detection.At+4*time.Second, g.Detected, "BeepTimeout after the verdict")
				return
			}
			assert.InDelta(t, float64(c.at), float64(g.At), float64(40*ms), "%v", g)
			assert.True(t, g.Detected >= c.detected[0] && g.Detected <= c.detected[1], "detected at %v", g.Detected)
			assert.True(t, d.Done())
		})
	}
}

// A beep heard before the verdict decides Machine and is reported right after.
func TestBeepBeforeVerdict(t *testing.T) {
	ms := time.Millisecond
	d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
	require.NoError(t, err)
	evs := feed(t, d, newSig(8000).silence(300*ms).talk(500*ms, 0.05).silence(200*ms).tone(1000, 250*ms, 0.1).silence(3*time.Second).pcm(), 160)
	require.Len(t, evs, 2)
	assert.Equal(t, amd.Machine, evs[0].Detection.Verdict)
	assert.Equal(t, amd.ReasonBeep, evs[0].Detection.Reason)
	assert.True(t, evs[0].Detection.Evidence.Beep)
	assert.Equal(t, amd.GreetingBeep, evs[1].Greeting.Result)
	assert.InDelta(t, float64(1250*ms), float64(evs[1].Greeting.At), float64(10*ms))
}

func TestFinish(t *testing.T) {
	ms := time.Millisecond
	d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
	require.NoError(t, err)
	evs := feed(t, d, newSig(8000).silence(300*ms).talk(1000*ms, 0.05).pcm(), 160)
	require.Len(t, evs, 1)
	assert.Equal(t, amd.NotSure, evs[0].Detection.Verdict)
	assert.Equal(t, amd.ReasonStreamEnded, evs[0].Detection.Reason)

	d.Reset()
	evs = feed(t, d, newSig(8000).silence(time.Second).pcm(), 160)
	require.Len(t, evs, 1)
	assert.Equal(t, amd.Silence, evs[0].Detection.Verdict)

	// Machine decided, beep still awaited: Finish reports no beep.
	d.Reset()
	evs = feed(t, d, newSig(8000).silence(300*ms).talk(3*time.Second, 0.05).pcm(), 160)
	require.Len(t, evs, 2)
	assert.Equal(t, amd.Machine, evs[0].Detection.Verdict)
	assert.Equal(t, amd.GreetingNoBeep, evs[1].Greeting.Result)
	assert.True(t, d.Done())
	d.Finish()
	_, ok := d.Next()
	assert.False(t, ok, "Finish after Done adds nothing")
}

// Frame boundaries do not matter: the analysis runs on the sample stream.
func TestFrameSizeInvariance(t *testing.T) {
	ms := time.Millisecond
	audio := newSig(8000).silence(400*ms).talk(2500*ms, 0.03).silence(400*ms).tone(1000, 300*ms, 0.05).silence(time.Second).noise(0.001).pcm()
	var ref []amd.Event
	for i, frame := range []int{160, 80, 240, 1, 333, 1600} {
		d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
		require.NoError(t, err)
		evs := feed(t, d, audio, frame)
		if i == 0 {
			ref = evs
			require.Len(t, ref, 2)
			continue
		}
		assert.Equal(t, ref, evs, "frames of %d samples", frame)
	}
}

// 16 kHz streams get the same verdicts.
func TestWideband(t *testing.T) {
	ms := time.Millisecond
	d, err := amd.New(16000, amd.Config{Mode: amd.DetectBeep})
	require.NoError(t, err)
	evs := feed(t, d, newSig(16000).silence(300*ms).talk(3*time.Second, 0.05).silence(400*ms).tone(1850, 150*ms, 0.05).silence(time.Second).pcm(), 320)
	require.Len(t, evs, 2)
	assert.Equal(t, amd.Machine, evs[0].Detection.Verdict)
	assert.Equal(t, amd.GreetingBeep, evs[1].Greeting.Result)
	assert.InDelta(t, 1850, evs[1].Greeting.Beep.Frequency, 5)
	assert.InDelta(t, float64(3850*ms), float64(evs[1].Greeting.At), float64(10*ms))

	d, err = amd.New(16000, amd.Config{})
	require.NoError(t, err)
	evs = feed(t, d, newSig(16000).silence(600*ms).talk(400*ms, 0.05).silence(3*time.Second).pcm(), 320)
	require.Len(t, evs, 1)
	assert.Equal(t, amd.Human, evs[0].Detection.Verdict)
}

func TestDetectorZeroAllocs(t *testing.T) {
	d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep, BeepTimeout: time.Hour})
	require.NoError(t, err)
	audio := newSig(8000).silence(300*time.Millisecond).talk(4*time.Second, 0.05).tone(1000, 300*time.Millisecond, 0.05).noise(0.001).pcm()
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		if i+160 > len(audio) {
			i = 0
		}
		if err := d.WriteFrame(media.Frame{Samples: audio[i : i+160], SampleRate: 8000}); err != nil {
			t.Fatal(err)
		}
		for _, ok := d.Next(); ok; _, ok = d.Next() {
		}
		i += 160
	})
	assert.Zero(t, allocs)
}

// Random audio in random frame sizes: never a panic, exactly one verdict, at most one
// greeting end, after it.
func TestRandomFrames(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for iter := range 60 {
		rate := []int{8000, 16000}[iter%2]
		cfg := amd.Config{Mode: amd.Mode(r.IntN(4)), Rules: amd.Rules(r.IntN(2)), BeepTimeout: time.Duration(1+r.IntN(3)) * time.Second}
		d, err := amd.New(rate, cfg)
		require.NoError(t, err)
		var det, greet int
		total := r.IntN(10 * rate)
		for total > 0 {
			n := min(total, 1+r.IntN(rate/10))
			total -= n
			s := make([]int16, n)
			switch r.IntN(4) {
			case 0: // silence
			case 1:
				for i := range s {
					s[i] = int16(r.IntN(65536) - 32768)
				}
			case 2:
				hz := 100 + r.Float64()*3000
				for i := range s {
					s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
				}
			default:
				for i := range s {
					s[i] = int16(r.NormFloat64() * 300)
				}
			}
			require.NoError(t, d.WriteFrame(media.Frame{Samples: s, SampleRate: rate}))
			for e, ok := d.Next(); ok; e, ok = d.Next() {
				switch e.Type {
				case amd.EventDetection:
					det++
				case amd.EventGreeting:
					require.Equal(t, 1, det, "greeting after the verdict")
					greet++
				}
			}
		}
		d.Finish()
		for e, ok := d.Next(); ok; e, ok = d.Next() {
			if e.Type == amd.EventDetection {
				det++
			} else {
				greet++
			}
		}
		require.Equal(t, 1, det, "iteration %d: exactly one verdict", iter)
		require.LessOrEqual(t, greet, 1)
		require.True(t, d.Done())
		got, ok := d.Detection()
		require.True(t, ok)
		if cfg.Mode != amd.Detect && got.Verdict == amd.Machine {
			require.Equal(t, 1, greet, "a Machine verdict in a beep mode ends with a greeting result")
		}
	}
}

func TestResetReuse(t *testing.T) {
	audio := newSig(8000).silence(300*time.Millisecond).talk(3*time.Second, 0.05).silence(300*time.Millisecond).tone(440, 500*time.Millisecond, 0.05).silence(time.Second).pcm()
	d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
	require.NoError(t, err)
	first := feed(t, d, audio, 160)
	d.Reset()
	assert.Equal(t, first, feed(t, d, audio, 160))
	assert.False(t, errors.Is(nil, amd.ErrConfig))
}
