package amd

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Greeting: 2 * time.Second}.WithDefaults()
	assert.Equal(t, 2*time.Second, c.Greeting, "set fields are kept")
	assert.Equal(t, 2500*time.Millisecond, c.InitialSilence)
	assert.Equal(t, 800*time.Millisecond, c.AfterGreetingSilence)
	assert.Equal(t, 5*time.Second, c.TotalAnalysis)
	assert.Equal(t, 100*time.Millisecond, c.MinWord)
	assert.Equal(t, 50*time.Millisecond, c.BetweenWords)
	assert.Equal(t, 3, c.MaxWords)
	assert.Equal(t, 5*time.Second, c.MaxWordLength)
	assert.Equal(t, 256, c.SilenceThreshold)
	assert.Equal(t, 30*time.Second, c.BeepTimeout)
	assert.Equal(t, 1500*time.Millisecond, c.GreetingSilence)
	assert.Equal(t, 400.0, c.Beep.MinFrequency)
	assert.Equal(t, 2000.0, c.Beep.MaxFrequency)
	assert.Equal(t, 100*time.Millisecond, c.Beep.MinDuration)
	assert.Equal(t, "machine", Machine.String())
	assert.Equal(t, "not_sure", NotSure.String())
	assert.Equal(t, "detect_beep", DetectBeep.String())
	assert.Equal(t, "cadence", Cadence.String())
	assert.Equal(t, "beep_detected", GreetingBeep.String())
	assert.Equal(t, "after-greeting-silence", ReasonAfterGreetingSilence.String())
}

// The analyser's level and frequency measures are calibrated: a sine of amplitude A
// reads A²/2 and its own frequency.
func TestAnalyserCalibration(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		a := newAnalyser(rate, BeepConfig{}.WithDefaults())
		for _, hz := range []float64{440, 1000, 1850} {
			a.reset()
			s := make([]int16, rate/5)
			for i := range s {
				s[i] = int16(16384 * sin(hz, i, rate))
			}
			for len(s) > 0 {
				n, _ := a.feed(s)
				s = s[n:]
			}
			assert.InDelta(t, -6.02, dB(a.h.level), 0.2, "%d Hz at %d Hz", int(hz), rate)
			assert.InDelta(t, hz, a.h.freq, 2, "%d Hz at %d Hz", int(hz), rate)
			assert.Greater(t, a.h.ratio, 0.98)
		}
	}
}
