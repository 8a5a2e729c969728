package resample

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

// processFrames runs src through r in 20 ms frames, as a media pipeline would.
func processFrames(r *Resampler, src []int16) []int16 {
	n := media.SamplesPer(r.FromRate(), media.DefaultFrameDuration)
	var out []int16
	for len(src) > 0 {
		k := min(n, len(src))
		out = r.Process(out, src[:k])
		src = src[k:]
	}
	return out
}

// TestTone sends tones through every standard conversion and checks that each comes
// out at the same frequency, amplitude (within ±0.5 dB; the filter is flatter than
// that) and at the phase Delay predicts.
func TestTone(t *testing.T) {
	const amp = 16000.0
	for _, p := range standardPairs {
		fn := float64(min(p[0], p[1])) / 2
		for _, f := range []float64{100, 440, 1000, 0.5 * fn, 0.85 * fn} {
			r, err := New(p[0], p[1])
			require.NoError(t, err)
			in := tone(p[0], p[0], f, amp, 0) // 1 s
			out := processFrames(r, in)
			require.Len(t, out, p[1])
			// Skip the start-up transient: the filter is full after Taps()/L outputs.
			steady := out[int(r.Delay())*2+r.Taps()/r.l:]
			gotAmp, phase := fitSine(steady, p[1], f)
			gain := 20 * math.Log10(gotAmp/amp)
			gotF := zeroCrossingFreq(steady, p[1])
			// Expected phase at output sample 0 of the steady window.
			off := float64(len(out) - len(steady))
			want := 2 * math.Pi * f * (off - r.Delay()) / float64(p[1])
			dphi := math.Remainder(phase-want, 2*math.Pi)
			delayErr := dphi / (2 * math.Pi * f) * float64(p[1]) // in output samples
			t.Logf("%v %6.0f Hz: gain %+.4f dB, freq %.3f Hz, delay error %+.4f samples",
				r, f, gain, gotF, delayErr)
			assert.InDelta(t, 0, gain, 0.5, "%v %v Hz gain dB", r, f)
			assert.InDelta(t, f, gotF, f*1e-3, "%v %v Hz frequency", r, f)
			assert.InDelta(t, 0, delayErr, 0.05, "%v %v Hz group delay", r, f)
		}
	}
}

// TestIdealReconstruction compares the output for band-limited inputs (a multi-tone
// and a linear sweep, both inside the passband) with the same signals computed
// analytically at the output rate and delayed by Delay. Any imaging, aliasing, ripple
// or timing error shows up in the difference.
func TestIdealReconstruction(t *testing.T) {
	pairs := append([][2]int{{22050, 8000}, {22050, 16000}, {44100, 48000}}, standardPairs...)
	for _, p := range pairs {
		r, err := New(p[0], p[1])
		require.NoError(t, err)
		fn := float64(min(p[0], p[1])) / 2
		rng := rand.New(rand.NewPCG(uint64(p[0]), uint64(p[1])))
		type part struct{ f, phi float64 }
		var parts []part
		for _, k := range []float64{0.07, 0.31, 0.55, 0.73, 0.89} {
			parts = append(parts, part{k * fn, rng.Float64() * 2 * math.Pi})
		}
		f0, f1, dur := 0.01*fn, 0.89*fn, 1.0
		signals := map[string]func(t float64) float64{
			"multitone": func(t float64) float64 {
				var s float64
				for _, q := range parts {
					s += 5000 * math.Sin(2*math.Pi*q.f*t+q.phi)
				}
				return s
			},
			"sweep": func(t float64) float64 {
				return 16000 * math.Sin(2*math.Pi*(f0*t+(f1-f0)/(2*dur)*t*t))
			},
		}
		for name, sig := range signals {
			r.Reset()
			in := make([]int16, int(dur*float64(p[0])))
			for i := range in {
				in[i] = int16(math.Round(sig(float64(i) / float64(p[0]))))
			}
			out := processFrames(r, in)
			var errP, sigP float64
			// Compare away from both ends, where the ideal signal starts and stops abruptly.
			for n := r.Taps() / r.l * 2; n < len(out)-int(r.Delay())-p[1]/50; n++ {
				ts := (float64(n) - r.Delay()) / float64(p[1])
				if ts < 0.02 {
					continue
				}
				want := sig(ts)
				d := float64(out[n]) - want
				errP += d * d
				sigP += want * want
			}
			snr := db(sigP / errP)
			t.Logf("%v %s: output vs ideal SNR %.1f dB", r, name, snr)
			assert.Greater(t, snr, 70.0, "%v %s", r, name)
		}
	}
}

// TestAliasing downsamples a linear sweep that lies wholly above the new Nyquist
// frequency. Everything that comes out has folded back, so the output to input power
// ratio is the aliasing rejection. The sweep fades in and out over 50 ms so that its
// abrupt start and end do not splatter energy into the passband (a hard onset alone
// would measure about -40 dB and hide the filter). Bound: the design attenuation is
// 80 dB and the prototype measures at most -80.6 dB anywhere in its stopband, so the
// test allows 75 dB.
func TestAliasing(t *testing.T) {
	for _, p := range [][2]int{{48000, 8000}, {48000, 16000}, {16000, 8000}, {22050, 8000}} {
		r, err := New(p[0], p[1])
		require.NoError(t, err)
		f0, f1 := float64(p[1])/2, float64(p[0])/2
		const dur, fade = 2.0, 0.05
		in := make([]int16, int(dur*float64(p[0])))
		for i := range in {
			ts := float64(i) / float64(p[0])
			env := 1.0
			if e := min(ts, dur-ts); e < fade {
				env = 0.5 - 0.5*math.Cos(math.Pi*e/fade)
			}
			in[i] = int16(math.Round(16000 * env * math.Sin(2*math.Pi*(f0*ts+(f1-f0)/(2*dur)*ts*ts))))
		}
		out := r.Flush(processFrames(r, in))
		rej := db(meanSquare(in) / (meanSquare(out) * float64(len(out)) / float64(len(in)) * float64(p[0]) / float64(p[1])))
		t.Logf("%v: sweep %.0f–%.0f Hz, folded output %.1f dB below input", r, f0, f1, rej)
		assert.Greater(t, rej, 75.0, "%v aliasing rejection (dB)", r)
	}
}

// TestBlockBoundaries checks that any cutting of the input (20 ms frames, random block
// sizes, single samples) gives bit-exactly the output of one block, and that the
// output length is always ceil(n·to/from).
func TestBlockBoundaries(t *testing.T) {
	pairs := append([][2]int{{22050, 8000}, {8000, 22050}, {44100, 48000}, {8000, 8000}}, standardPairs...)
	for _, p := range pairs {
		rng := rand.New(rand.NewPCG(7, uint64(p[0]*p[1])))
		in := make([]int16, p[0]/2)
		for i := range in {
			in[i] = int16(rng.IntN(65536) - 32768)
		}
		ref, err := New(p[0], p[1])
		require.NoError(t, err)
		whole := ref.Process(nil, in)
		require.Len(t, whole, (len(in)*p[1]+p[0]-1)/p[0], "%v length", ref)
		whole = ref.Flush(whole)

		cuts := map[string]func() int{
			"20ms":   func() int { return media.SamplesPer(p[0], media.DefaultFrameDuration) },
			"random": func() int { return rng.IntN(700) },
			"single": func() int { return 1 },
		}
		for name, next := range cuts {
			r, err := New(p[0], p[1])
			require.NoError(t, err)
			var got []int16
			src := in
			for len(src) > 0 {
				k := min(next(), len(src))
				want := r.OutputLen(k)
				before := len(got)
				got = r.Process(got, src[:k])
				require.Equal(t, want, len(got)-before, "%v %s OutputLen", r, name)
				src = src[k:]
			}
			got = r.Flush(got)
			require.Equal(t, whole, got, "%v cut %s", r, name)
		}
	}
}

// TestFlush checks the tail: after Flush the output is the whole input delayed by
// Delay, rounded up, the tail matches the ideal delayed signal, and the Resampler
// starts afresh.
func TestFlush(t *testing.T) {
	for _, p := range standardPairs {
		r, err := New(p[0], p[1])
		require.NoError(t, err)
		const dur, fade, f = 0.1, 0.02, 300.0
		sig := func(ts float64) float64 {
			if ts < 0 || ts > dur {
				return 0
			}
			env := 1.0
			if e := min(ts, dur-ts); e < fade {
				env = 0.5 - 0.5*math.Cos(math.Pi*e/fade)
			}
			return 10000 * env * math.Sin(2*math.Pi*f*ts)
		}
		in := make([]int16, int(dur*float64(p[0])))
		for i := range in {
			in[i] = int16(math.Round(sig(float64(i) / float64(p[0]))))
		}
		out := r.Flush(r.Process(nil, in))
		want := math.Ceil(float64(len(in))*float64(p[1])/float64(p[0]) + r.Delay())
		require.Len(t, out, int(want), "%v", r)
		// The last Delay samples come only from Flush; they must carry the fade-out.
		var errP, sigP float64
		for n := len(out) - int(r.Delay()) - p[1]/100; n < len(out); n++ {
			w := sig((float64(n) - r.Delay()) / float64(p[1]))
			d := float64(out[n]) - w
			errP += d * d
			sigP += w * w
		}
		assert.Greater(t, db(sigP/errP), 60.0, "%v tail SNR", r)
		// Reset state: the same input gives the same output again.
		again := r.Flush(r.Process(nil, in))
		require.Equal(t, out, again, "%v after Flush", r)
		// A flush with nothing consumed still empties the (silent) filter.
		require.Len(t, r.Flush(nil), int(math.Ceil(r.Delay())), "%v empty flush", r)
	}
}

func TestIdentity(t *testing.T) {
	r, err := New(16000, 16000)
	require.NoError(t, err)
	in := tone(320, 16000, 1000, 1000, 0)
	require.Equal(t, in, r.Process(nil, in))
	assert.Zero(t, r.Delay())
	assert.Zero(t, r.Taps())
	assert.Empty(t, r.Flush(nil))
	assert.Equal(t, "resample(16k→16k)", r.String())
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name     string
		from, to int
		opts     []Option
	}{
		{"zero rate", 0, 8000, nil},
		{"negative rate", 8000, -1, nil},
		{"too high", 8000, MaxRate + 1, nil},
		{"too many phases", 8000, 8001, nil},
		{"passband 0", 8000, 16000, []Option{WithPassband(0)}},
		{"passband 1", 8000, 16000, []Option{WithPassband(1)}},
		{"passband NaN", 8000, 16000, []Option{WithPassband(math.NaN())}},
		{"attenuation low", 8000, 16000, []Option{WithAttenuation(10)}},
		{"attenuation high", 8000, 16000, []Option{WithAttenuation(200)}},
		{"filter too long", 48000, 1001, []Option{WithPassband(0.999)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.from, c.to, c.opts...)
			require.ErrorIs(t, err, ErrUnsupported)
		})
	}
}

func TestOptions(t *testing.T) {
	def, err := New(8000, 16000)
	require.NoError(t, err)
	short, err := New(8000, 16000, WithPassband(0.8), WithAttenuation(60))
	require.NoError(t, err)
	assert.Less(t, short.Taps(), def.Taps()/2, "lower quality gives a shorter filter")
	require.Less(t, short.Delay(), def.Delay())
	// The shorter filter still meets its own specification.
	h := short.prototype()
	for f := 4000.0; f <= 8000; f += 10 {
		require.Less(t, short.response(h, f), -58.0, "stopband at %v Hz", f)
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		from, to int
		want     string
	}{
		{8000, 16000, "resample(8k→16k)"},
		{48000, 8000, "resample(48k→8k)"},
		{22050, 16000, "resample(22.05k→16k)"},
		{11025, 8000, "resample(11.025k→8k)"},
	} {
		r, err := New(c.from, c.to)
		require.NoError(t, err)
		assert.Equal(t, c.want, r.String())
	}
}

// sink collects frames, copying samples as the FrameWriter contract requires.
type sink struct {
	rate   int
	frames []media.Frame
	keep   bool
}

func (s *sink) SampleRate() int { return s.rate }
func (s *sink) WriteFrame(f media.Frame) error {
	if s.keep {
		s.frames = append(s.frames, f.Clone())
	}
	return nil
}

func TestWriter(t *testing.T) {
	dst := &sink{rate: 16000, keep: true}
	w, err := NewWriter(dst, 8000)
	require.NoError(t, err)
	assert.Equal(t, 8000, w.SampleRate())
	assert.Equal(t, "resample(8k→16k)", w.String())
	in := tone(8000, 8000, 700, 12000, 0)
	for i := 0; i < len(in); i += 160 {
		require.NoError(t, w.WriteFrame(media.Frame{
			Samples: in[i : i+160], SampleRate: 8000,
			Timestamp: uint32(i), Sequence: uint16(i / 160), Flags: media.FlagRTP,
		}))
	}
	require.Len(t, dst.frames, 50)
	var all []int16
	for i, f := range dst.frames {
		require.Equal(t, 16000, f.SampleRate)
		require.Len(t, f.Samples, 320)
		require.Equal(t, uint32(i*160), f.Timestamp, "metadata passes through")
		require.Equal(t, uint16(i), f.Sequence)
		require.True(t, f.Has(media.FlagRTP))
		all = append(all, f.Samples...)
	}
	require.NoError(t, w.Flush())
	require.Len(t, dst.frames, 51)
	assert.False(t, dst.frames[50].Has(media.FlagRTP), "the tail frame is not an RTP packet")
	assert.Len(t, dst.frames[50].Samples, int(math.Ceil(w.Resampler().Delay())))

	ref, _ := New(8000, 16000)
	require.Equal(t, ref.Process(nil, in), all, "stage output equals Process output")

	err = w.WriteFrame(media.Frame{Samples: in[:320], SampleRate: 16000})
	require.ErrorIs(t, err, media.ErrRateMismatch)
}

// sliceReader returns fixed frames then io.EOF.
type sliceReader struct {
	rate   int
	frames []media.Frame
}

func (s *sliceReader) SampleRate() int { return s.rate }
func (s *sliceReader) ReadFrame() (media.Frame, error) {
	if len(s.frames) == 0 {
		return media.Frame{}, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f, nil
}

func TestReader(t *testing.T) {
	in := tone(48000, 48000, 1000, 12000, 0)
	src := &sliceReader{rate: 48000}
	for i := 0; i < len(in); i += 960 {
		src.frames = append(src.frames, media.Frame{Samples: in[i : i+960], SampleRate: 48000})
	}
	rd, err := NewReader(src, 8000)
	require.NoError(t, err)
	assert.Equal(t, 8000, rd.SampleRate())
	assert.Equal(t, "resample(48k→8k)", rd.String())
	var out []int16
	frames := 0
	for {
		f, err := rd.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, 8000, f.SampleRate)
		out = append(out, f.Samples...)
		frames++
	}
	require.Equal(t, 51, frames, "50 frames and the tail")
	require.Len(t, out, 8000+int(math.Ceil(rd.Resampler().Delay())))
	_, err = rd.ReadFrame()
	require.ErrorIs(t, err, io.EOF, "EOF is sticky")

	bad := &sliceReader{rate: 48000, frames: []media.Frame{{Samples: in[:160], SampleRate: 8000}}}
	rd, err = NewReader(bad, 8000)
	require.NoError(t, err)
	_, err = rd.ReadFrame()
	require.ErrorIs(t, err, media.ErrRateMismatch)

	_, err = NewReader(src, 7)
	require.ErrorIs(t, err, ErrUnsupported)
	_, err = NewWriter(&sink{rate: 8000}, 8001)
	require.ErrorIs(t, err, ErrUnsupported)
}

// TestZeroAllocs is the per-frame budget: no allocation in steady state.
func TestZeroAllocs(t *testing.T) {
	for _, p := range standardPairs {
		r, err := New(p[0], p[1])
		require.NoError(t, err)
		frame := tone(media.SamplesPer(p[0], media.DefaultFrameDuration), p[0], 440, 8000, 0)
		var out []int16
		out = r.Process(out, frame)
		allocs := testing.AllocsPerRun(50, func() { out = r.Process(out[:0], frame) })
		assert.Zero(t, allocs, "%v Process", r)

		w, err := NewWriter(&sink{rate: p[1]}, p[0])
		require.NoError(t, err)
		f := media.Frame{Samples: frame, SampleRate: p[0]}
		require.NoError(t, w.WriteFrame(f))
		allocs = testing.AllocsPerRun(50, func() { _ = w.WriteFrame(f) })
		assert.Zero(t, allocs, "%v Writer", r)
	}
}
