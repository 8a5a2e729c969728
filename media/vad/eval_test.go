package vad

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type scores struct {
	rawP, rawR     float64 // Result.Active vs clean-energy truth
	flagP, flagR   float64 // Result.Speech vs truth held for the hangover
	startHit       float64 // truth segment starts matched by a SpeechStart within 100 ms
	extraStarts    int     // SpeechStart events matching no utterance start (splits)
	meanOnsetErr   time.Duration
	meanStartDelay time.Duration // Detected − truth start, over hits
}

func (s scores) String() string {
	return fmt.Sprintf("raw P %.3f R %.3f | flagged P %.3f R %.3f | starts %.2f within 100 ms (mean error %v, detected after %v), %d extra",
		s.rawP, s.rawR, s.flagP, s.flagR, s.startHit, s.meanOnsetErr.Round(time.Millisecond), s.meanStartDelay.Round(time.Millisecond), s.extraStarts)
}

// evaluate runs a fresh detector over x in 20 ms frames and scores it against set.
func evaluate(t *testing.T, set *testSet, x []int16, cfg Config) scores {
	t.Helper()
	var events []Event
	cfg.OnEvent = func(e Event) { events = append(events, e) }
	d, err := New(set.rate, cfg)
	require.NoError(t, err)
	frame := set.rate * frameMS / 1000
	hang := int(d.hangover) / frame
	var tpR, fpR, fnR, tpF, fpF, fnF int
	lastTruth := -1 << 30
	for i := range set.truth {
		r := d.Process(x[i*frame : (i+1)*frame])
		truth := set.truth[i]
		if truth {
			lastTruth = i
		}
		held := i-lastTruth <= hang
		switch {
		case r.Active && truth:
			tpR++
		case r.Active:
			fpR++
		case truth:
			fnR++
		}
		switch {
		case r.Speech && held:
			tpF++
		case r.Speech:
			fpF++
		case held:
			fnF++
		}
	}
	var sc scores
	sc.rawP = float64(tpR) / float64(max(1, tpR+fpR))
	sc.rawR = float64(tpR) / float64(max(1, tpR+fnR))
	sc.flagP = float64(tpF) / float64(max(1, tpF+fpF))
	sc.flagR = float64(tpF) / float64(max(1, tpF+fnF))
	matched := make([]bool, len(set.starts))
	hits := 0
	var errSum, delaySum time.Duration
	for _, e := range events {
		if e.Type != SpeechStart {
			continue
		}
		found := false
		for j, st := range set.starts {
			at := time.Duration(st*frameMS) * time.Millisecond
			if !matched[j] && (e.At-at).Abs() <= 100*time.Millisecond {
				matched[j], found = true, true
				hits++
				errSum += (e.At - at).Abs()
				delaySum += e.Detected - at
				break
			}
		}
		if !found {
			sc.extraStarts++
		}
	}
	sc.startHit = float64(hits) / float64(len(set.starts))
	if hits > 0 {
		sc.meanOnsetErr = errSum / time.Duration(hits)
		sc.meanStartDelay = delaySum / time.Duration(hits)
	}
	return sc
}

// floor is the least a condition must score. Each is a little under what was
// measured when the thresholds were set (see the t.Logf table the test prints).
type floor struct {
	rawP, rawR, flagP, flagR, starts float64
}

var qualityFloors = map[float64]floor{
	// SNR (dB; 99 = clean) → floors for Quality mode.
	99: {rawP: 0.95, rawR: 0.90, flagP: 0.95, flagR: 0.93, starts: 0.9},
	20: {rawP: 0.95, rawR: 0.85, flagP: 0.95, flagR: 0.92, starts: 0.9},
	10: {rawP: 0.95, rawR: 0.70, flagP: 0.95, flagR: 0.90, starts: 0.9},
	5:  {rawP: 0.95, rawR: 0.60, flagP: 0.95, flagR: 0.87, starts: 0.75},
	0:  {rawP: 0.95, rawR: 0.45, flagP: 0.95, flagR: 0.75, starts: 0.15},
}

var veryAggressiveFloors = map[float64]floor{
	99: {rawP: 0.95, rawR: 0.80, flagP: 0.95, flagR: 0.90, starts: 0.9},
	20: {rawP: 0.95, rawR: 0.60, flagP: 0.95, flagR: 0.88, starts: 0.9},
}

// TestAccuracy measures the detector on the labelled espeak-ng + SoX test set: frame
// precision and recall of the raw and the flagged (smoothed) decision, and how many
// utterance starts get a SpeechStart event within 100 ms, per noise colour and SNR, at
// 8 and 16 kHz. It also runs on noise alone, where nothing may be flagged.
func TestAccuracy(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			t.Parallel()
			accuracy(t, rate)
		})
	}
}

func accuracy(t *testing.T, rate int) {
	set := buildSet(t, rate)
	t.Logf("%d Hz: %.1f s, %d truth frames of %d, %d utterance starts", rate,
		float64(len(set.clean))/float64(rate), count(set.truth), len(set.truth), len(set.starts))
	for _, colour := range []string{"white", "pink", "brown"} {
		for _, m := range []Mode{Quality, VeryAggressive} {
			fa, starts := falseAlarm(t, set, colour, Config{Mode: m})
			t.Logf("%5d Hz %-5s noise only   %-15v flagged %.4f of frames, %d speech starts", rate, colour, m, fa, starts)
			assert.LessOrEqual(t, fa, 0.01, "%d Hz %s noise %v", rate, colour, m)
		}
	}
	for _, colour := range []string{"", "white", "pink", "brown"} {
		snrs := []float64{20, 10, 5, 0}
		if colour == "" {
			snrs = []float64{99}
		}
		for _, snr := range snrs {
			x := set.noisy(t, colour, snr)
			name := "clean"
			if colour != "" {
				name = fmt.Sprintf("%s %2.0f dB", colour, snr)
			}
			for _, m := range []Mode{Quality, VeryAggressive} {
				floors := qualityFloors
				if m == VeryAggressive {
					floors = veryAggressiveFloors
				}
				fl, ok := floors[snr]
				if !ok {
					continue
				}
				sc := evaluate(t, set, x, Config{Mode: m})
				t.Logf("%5d Hz %-12s %-15v %v", rate, name, m, sc)
				what := fmt.Sprintf("%d Hz %s %v", rate, name, m)
				assert.GreaterOrEqual(t, sc.rawP, fl.rawP, "%s raw precision", what)
				assert.GreaterOrEqual(t, sc.rawR, fl.rawR, "%s raw recall", what)
				assert.GreaterOrEqual(t, sc.flagP, fl.flagP, "%s flagged precision", what)
				assert.GreaterOrEqual(t, sc.flagR, fl.flagR, "%s flagged recall", what)
				assert.GreaterOrEqual(t, sc.startHit, fl.starts, "%s starts within 100 ms", what)
			}
		}
	}
}

// falseAlarm runs a detector over pure noise and returns the fraction of frames
// flagged as speech and the number of speech starts.
func falseAlarm(t *testing.T, set *testSet, colour string, cfg Config) (float64, int) {
	t.Helper()
	x := set.noiseOnly(t, colour)
	d, err := New(set.rate, cfg)
	require.NoError(t, err)
	frame := set.rate * frameMS / 1000
	flagged, starts := 0, 0
	n := len(x) / frame
	for i := range n {
		r := d.Process(x[i*frame : (i+1)*frame])
		if r.Speech {
			flagged++
		}
		if r.Event.Type == SpeechStart {
			starts++
		}
	}
	return float64(flagged) / float64(n), starts
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}
