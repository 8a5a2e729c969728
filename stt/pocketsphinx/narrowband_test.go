package pocketsphinx

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/stt"
)

// learnCMN decodes the corpus spoken by voice through the telephone channel and the
// mirrored band, twice over, and returns the cepstral mean the decoder converged to.
func learnCMN(t *testing.T, r *Recognizer, voice string, mirror float64) []float32 {
	t.Helper()
	d, err := r.newDecoder(wideband)
	require.NoError(t, err)
	defer d.free()
	// The search plays no part in the cepstral mean; a small grammar keeps it cheap.
	require.NoError(t, d.useJSGF(sessionSearch, stt.DigitsGrammar()))
	synthAll(t, voice, allUtts(), 16000)
	var ups [][]int16
	for _, u := range allUtts() {
		rs, err := resample.New(8000, 16000)
		require.NoError(t, err)
		up := rs.Process(nil, telephone(t, synth(t, voice, u, 16000)))
		mirrorBand(up, mirror, 0)
		ups = append(ups, up)
	}
	for range 2 {
		for _, up := range ups {
			require.NoError(t, d.startUtt())
			require.NoError(t, d.process(up))
			require.NoError(t, d.endUtt())
		}
	}
	return d.currentCMN()
}

// TestNarrowbandCMN derives narrowCMN again and checks that the committed constant is
// what the recipe gives.
func TestNarrowbandCMN(t *testing.T) {
	r := newTestRecognizer(t, Config{MaxIdle: -1})
	a := learnCMN(t, r, "rms", narrowMirror)
	b := learnCMN(t, r, "kal", narrowMirror)
	require.Len(t, a, len(narrowCMN))
	var lit []string
	for i := range a {
		m := (a[i] + b[i]) / 2
		lit = append(lit, fmt.Sprintf("%.2f", m))
		require.InDelta(t, float64(narrowCMN[i]), float64(m), 0.05, "component %d (rms %.2f, kal %.2f)", i, a[i], b[i])
	}
	t.Logf("narrowCMN = {%s}", strings.Join(lit, ", "))
}
