package vad

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoiseStep raises the background noise by 12 dB with no speech: the detector
// must learn the new floor quickly instead of calling the louder noise speech.
func TestNoiseStep(t *testing.T) {
	requireTool(t, "sox", "sox")
	for _, colour := range []string{"white", "pink", "brown"} {
		for _, rate := range []int{8000, 16000} {
			path := filepath.Join(t.TempDir(), "n.wav")
			run(t, "sox", "-R", "-n", "-r", strconv.Itoa(rate), "-b", "16", "-e", "signed-integer", path, "synth", "8", colour+"noise", "vol", "0.05")
			x := readWAV(t, path, rate)
			step := 3 * rate
			g := math.Pow(10, 12.0/20)
			for i := step; i < len(x); i++ {
				x[i] = int16(clampF(float64(x[i])*g, -32768, 32767))
			}
			d, err := New(rate, Config{})
			require.NoError(t, err)
			frame := rate / 50
			var before, after int
			for i := 0; i+frame <= len(x); i += frame {
				if d.Process(x[i : i+frame]).Speech {
					if i < step {
						before++
					} else {
						after++
					}
				}
			}
			t.Logf("%s noise at %d Hz: %d ms of false speech before the step, %d ms after", colour, rate, before*20, after*20)
			assert.Zero(t, before)
			assert.LessOrEqual(t, after*20, 1000, "false speech after a 12 dB noise step (ms)")
		}
	}
}
