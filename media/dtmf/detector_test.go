package dtmf

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

var detectorRates = []int{8000, 16000}

const ms = time.Millisecond

// TestDetectorFrequencyTolerance is Q.24's frequency test: each component within
// ±1.5% of nominal must be accepted, beyond ±3.5% rejected.
func TestDetectorFrequencyTolerance(t *testing.T) {
	cases := []struct {
		low, high float64 // relative deviation of each component
		accept    bool
	}{
		{0, 0, true},
		{-0.015, 0, true},
		{+0.015, 0, true},
		{0, -0.015, true},
		{0, +0.015, true},
		{+0.015, +0.015, true},
		{-0.015, -0.015, true},
		{+0.015, -0.015, true},
		{-0.015, +0.015, true},
		{-0.035, 0, false},
		{+0.035, 0, false},
		{0, -0.035, false},
		{0, +0.035, false},
		{-0.045, 0, false},
		{+0.045, 0, false},
		{0, -0.045, false},
		{0, +0.045, false},
		{+0.035, +0.035, false},
		{-0.035, -0.035, false},
		{+0.035, -0.015, false},
		{-0.015, +0.035, false},
	}
	for _, rate := range detectorRates {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%d/low%+.1f%%/high%+.1f%%", rate, tc.low*100, tc.high*100), func(t *testing.T) {
				for _, k := range allKeys {
					lo, hi, _ := Frequencies(k)
					s := newSignal(t, rate).pause(50*ms).tones(lo*(1+tc.low), hi*(1+tc.high), -10, -10, 60*ms).pause(60 * ms)
					got := digits(detect(t, rate, s.pcm, 20*ms))
					if tc.accept {
						assert.Equal(t, string(k), got, "key %c", k)
					} else {
						assert.Empty(t, got, "key %c", k)
					}
				}
			})
		}
	}
}

// TestDetectorDuration is Q.24's timing test: 40 ms tones must be detected and
// 20 ms tones rejected, wherever they fall relative to the analysis blocks.
func TestDetectorDuration(t *testing.T) {
	cases := []struct {
		dur    time.Duration
		accept bool
	}{
		{10 * ms, false},
		{20 * ms, false},
		{40 * ms, true},
	}
	for _, rate := range detectorRates {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%d/%v", rate, tc.dur), func(t *testing.T) {
				step := rate / 8000 * 13 // 16 placements across two blocks
				for off := 0; off < 2*int(float64(rate)*blockSeconds); off += step {
					for _, k := range allKeys {
						s := newSignal(t, rate).pauseSamples(off).key(k, -10, tc.dur).pause(60 * ms)
						got := digits(detect(t, rate, s.pcm, 20*ms))
						if tc.accept {
							require.Equal(t, string(k), got, "key %c after %d samples", k, off)
						} else {
							require.Empty(t, got, "key %c after %d samples", k, off)
						}
					}
				}
			})
		}
	}
}

// TestDetectorPauses is Q.24's pause test: 40 ms tones separated by 40 ms pauses
// are separate digits (the same key repeated, too), at any frame size.
func TestDetectorPauses(t *testing.T) {
	cases := []struct {
		name, keys string
		on, off    time.Duration
	}{
		{"all keys 40/40", allKeys, 40 * ms, 40 * ms},
		{"repeated key 40/40", "5555555555", 40 * ms, 40 * ms},
		{"repeated key 100/40", "0000", 100 * ms, 40 * ms},
		{"all keys 100/100", allKeys, 100 * ms, 100 * ms},
	}
	for _, rate := range detectorRates {
		for _, tc := range cases {
			for _, frame := range []time.Duration{10 * ms, 20 * ms, 30 * ms} {
				t.Run(fmt.Sprintf("%d/%s/%v", rate, tc.name, frame), func(t *testing.T) {
					s := newSignal(t, rate).pause(tc.off)
					for _, k := range tc.keys {
						s.key(k, -10, tc.on).pause(tc.off)
					}
					dets := detect(t, rate, s.pcm, frame)
					assert.Equal(t, tc.keys, digits(dets))
					assert.Len(t, dets, 2*len(tc.keys), "one start and one end per key")
				})
			}
		}
	}
}

// TestDetectorInterruption: a drop-out of up to 10 ms inside a tone does not
// split it into two digits.
func TestDetectorInterruption(t *testing.T) {
	for _, rate := range detectorRates {
		for _, gap := range []time.Duration{2 * ms, 5 * ms, 10 * ms} {
			for _, k := range allKeys {
				s := newSignal(t, rate).pause(50*ms).key(k, -10, 60*ms).pause(gap).key(k, -10, 60*ms).pause(60 * ms)
				assert.Equal(t, string(k), digits(detect(t, rate, s.pcm, 20*ms)), "rate %d gap %v key %c", rate, gap, k)
			}
		}
	}
}

// TestDetectorTwist: Q.24's twist tolerance, as level(high group) - level(low
// group): +4 dB (high group louder) and -8 dB (low group louder) are accepted;
// well beyond is rejected.
func TestDetectorTwist(t *testing.T) {
	cases := []struct {
		twist  float64
		accept bool
	}{
		{0, true},
		{+4, true},
		{-8, true},
		{+8, false},
		{-12, false},
	}
	for _, rate := range detectorRates {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%d/%+.0fdB", rate, tc.twist), func(t *testing.T) {
				// The louder component is at -8 dBFS.
				lowDB, highDB := -8.0, -8.0+tc.twist
				if tc.twist > 0 {
					lowDB, highDB = -8.0-tc.twist, -8.0
				}
				for _, k := range allKeys {
					lo, hi, _ := Frequencies(k)
					s := newSignal(t, rate).pause(50*ms).tones(lo, hi, lowDB, highDB, 60*ms).pause(60 * ms)
					got := digits(detect(t, rate, s.pcm, 20*ms))
					if tc.accept {
						assert.Equal(t, string(k), got, "key %c", k)
					} else {
						assert.Empty(t, got, "key %c", k)
					}
				}
			})
		}
	}
}

// TestDetectorNoise: every key is detected, once, in white Gaussian noise at
// 15 dB SNR (signal power of both components over the full-band noise power),
// for several seeds; and noise alone gives nothing.
func TestDetectorNoise(t *testing.T) {
	const level = -10.0
	for _, rate := range detectorRates {
		for seed := uint64(1); seed <= 5; seed++ {
			t.Run(fmt.Sprintf("%d/seed%d", rate, seed), func(t *testing.T) {
				a := dbAmp(level)
				signalPower := 2 * a * a / 2
				rms := math.Sqrt(signalPower / math.Pow(10, 15.0/10))
				s := newSignal(t, rate).pause(50 * ms)
				for _, k := range allKeys {
					s.key(k, level, 50*ms).pause(50 * ms)
				}
				s.addNoise(rms, seed)
				dets := detect(t, rate, s.pcm, 20*ms)
				assert.Equal(t, allKeys, digits(dets))

				noise := newSignal(t, rate).pause(5*time.Second).addNoise(rms, seed)
				assert.Empty(t, digits(detect(t, rate, noise.pcm, 20*ms)), "digits in noise alone")
			})
		}
	}
}

// TestDetectorLevels: keys are detected from -6.5 to -30 dBFS per component and
// ignored below the sensitivity floor.
func TestDetectorLevels(t *testing.T) {
	cases := []struct {
		level  float64
		accept bool
	}{
		{-6.5, true},
		{-10, true},
		{-20, true},
		{-30, true},
		{-42, false},
		{-60, false},
	}
	for _, rate := range detectorRates {
		for _, tc := range cases {
			for _, k := range allKeys {
				s := newSignal(t, rate).pause(50*ms).key(k, tc.level, 60*ms).pause(60 * ms)
				got := digits(detect(t, rate, s.pcm, 20*ms))
				if tc.accept {
					assert.Equal(t, string(k), got, "rate %d level %v key %c", rate, tc.level, k)
				} else {
					assert.Empty(t, got, "rate %d level %v key %c", rate, tc.level, k)
				}
			}
		}
	}
}

// TestDetectorTiming: reported start, end and duration are close to the truth.
func TestDetectorTiming(t *testing.T) {
	const tolerance = 5 * ms
	for _, rate := range []int{8000, 16000, 48000} {
		for _, dur := range []time.Duration{40 * ms, 70 * ms, 250 * ms, 2 * time.Second} {
			for lead := 30 * ms; lead < 45*ms; lead += 3 * ms {
				s := newSignal(t, rate).pause(lead).key('7', -10, dur).pause(100 * ms)
				dets := detect(t, rate, s.pcm, 20*ms)
				require.Len(t, dets, 2, "rate %d dur %v lead %v", rate, dur, lead)
				assert.Equal(t, Detection{Kind: DigitStart, Digit: '7', At: dets[0].At}, dets[0])
				assert.Equal(t, DigitEnd, dets[1].Kind)
				assert.InDelta(t, float64(lead), float64(dets[0].At), float64(tolerance), "start, rate %d dur %v lead %v", rate, dur, lead)
				assert.InDelta(t, float64(lead+dur), float64(dets[1].At), float64(tolerance), "end, rate %d dur %v lead %v", rate, dur, lead)
				assert.InDelta(t, float64(dur), float64(dets[1].Duration), float64(2*tolerance), "duration, rate %d dur %v lead %v", rate, dur, lead)
			}
		}
	}
}

// TestDetectorFrameSizeIndependent: the analysis runs on its own blocks, so any
// split of the same audio into frames gives exactly the same detections.
func TestDetectorFrameSizeIndependent(t *testing.T) {
	for _, rate := range detectorRates {
		s := newSignal(t, rate).pause(30 * ms)
		for i, k := range allKeys {
			s.key(k, -12, time.Duration(40+5*i)*ms).pause(time.Duration(40+3*i) * ms)
		}
		s.addNoise(300, 7)
		want := detect(t, rate, s.pcm, 20*ms)
		require.Equal(t, allKeys, digits(want))
		for _, n := range []int{1, 7, rate / 100, rate / 50 * 3 / 2, rate / 1000 * 30, 333, len(s.pcm)} {
			d, err := NewDetector(DetectorConfig{SampleRate: rate})
			require.NoError(t, err)
			var got []Detection
			for p := 0; p < len(s.pcm); p += n {
				got = d.Detect(got, s.pcm[p:min(p+n, len(s.pcm))])
			}
			got = d.Flush(got)
			assert.Equal(t, want, got, "rate %d, %d-sample frames", rate, n)
		}
	}
}

type frameSink struct {
	rate   int
	frames int
	err    error
}

func (s *frameSink) WriteFrame(f media.Frame) error { s.frames++; return s.err }
func (s *frameSink) SampleRate() int                { return s.rate }

// TestDetectorStage: WriteFrame reports through OnDigit, forwards frames to Next
// and rejects frames at another rate.
func TestDetectorStage(t *testing.T) {
	sink := &frameSink{rate: 16000}
	var got []Detection
	d, err := NewDetector(DetectorConfig{SampleRate: 16000, OnDigit: func(x Detection) { got = append(got, x) }, Next: sink})
	require.NoError(t, err)
	assert.Equal(t, "dtmf-detect(16000)", d.String())
	assert.Equal(t, 16000, d.SampleRate())

	tone, err := Tone('#', 100*ms, 16000, -10)
	require.NoError(t, err)
	n := 0
	for {
		f, err := tone.ReadFrame()
		if err != nil {
			break
		}
		require.NoError(t, d.WriteFrame(f))
		n++
	}
	silence := media.Frame{Samples: make([]int16, 320), SampleRate: 16000}
	for range 5 {
		require.NoError(t, d.WriteFrame(silence))
	}
	assert.Equal(t, n+5, sink.frames)
	require.Len(t, got, 2)
	assert.Equal(t, '#', got[0].Digit)
	assert.Equal(t, DigitStart, got[0].Kind)
	assert.Equal(t, DigitEnd, got[1].Kind)

	err = d.WriteFrame(media.Frame{Samples: make([]int16, 160), SampleRate: 8000})
	require.ErrorIs(t, err, media.ErrRateMismatch)

	sink.err = errors.New("downstream")
	assert.ErrorIs(t, d.WriteFrame(silence), sink.err)

	_, err = NewDetector(DetectorConfig{SampleRate: 4000})
	require.ErrorIs(t, err, ErrSampleRate)
}

// TestDetectorReset: Reset restarts time and forgets a digit in progress.
func TestDetectorReset(t *testing.T) {
	s := newSignal(t, 8000).pause(20*ms).key('1', -10, 100*ms)
	d, err := NewDetector(DetectorConfig{})
	require.NoError(t, err)
	dets := d.Detect(nil, s.pcm)
	require.Equal(t, "1", digits(dets))
	d.Reset()
	assert.Empty(t, d.Flush(nil), "no end after Reset")
	s2 := newSignal(t, 8000).pause(20*ms).key('2', -10, 100*ms).pause(60 * ms)
	dets = d.Flush(d.Detect(nil, s2.pcm))
	require.Equal(t, "2", digits(dets))
	assert.InDelta(t, float64(20*ms), float64(dets[0].At), float64(5*ms))
}

// TestDetectorNoAllocs: the per-frame path allocates nothing.
func TestDetectorNoAllocs(t *testing.T) {
	for _, rate := range detectorRates {
		d, err := NewDetector(DetectorConfig{SampleRate: rate, OnDigit: func(Detection) {}})
		require.NoError(t, err)
		s := newSignal(t, rate).key('5', -10, 100*ms).pause(100 * ms)
		n := rate / 50
		i := 0
		allocs := testing.AllocsPerRun(200, func() {
			p := i % (len(s.pcm) / n) * n
			i++
			if err := d.WriteFrame(media.Frame{Samples: s.pcm[p : p+n], SampleRate: rate}); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "rate %d", rate)
	}
}
