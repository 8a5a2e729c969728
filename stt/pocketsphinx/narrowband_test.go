package pocketsphinx

import (
	"fmt"
	"os"
	"path/filepath"
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

// modelCopy makes a copy of the acoustic model (symbolic links to its files) whose
// feat.params is passed through edit.
func modelCopy(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(DefaultModelDir, "en-us")
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())
		if e.Name() == "feat.params" {
			b, err := os.ReadFile(from)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(to, []byte(edit(string(b))), 0o644))
			continue
		}
		require.NoError(t, os.Symlink(from, to))
	}
	return dir
}

// TestNarrowbandVariants compares narrowband treatments on μ-law audio: by default the
// tuning, each half of it and none, on digits with a grammar for one voice; with -full
// also the alternatives that were rejected, on open vocabulary for every voice. It
// checks only that the chosen treatment beats doing nothing.
func TestNarrowbandVariants(t *testing.T) {
	requireSpeechTools(t)
	tuned := newNarrowSetup(NarrowbandTuned)
	upper := modelCopy(t, func(s string) string { return strings.Replace(s, "-upperf 6800", "-upperf 3800", 1) })
	variants := []struct {
		name  string
		cfg   Config
		setup narrowSetup
	}{
		{"plain", Config{}, narrowSetup{}},
		{"tuned (mirror 0.35 + narrowband CMN)", Config{}, tuned},
		{"narrowband CMN only", Config{}, narrowSetup{cmn: tuned.cmn}},
		{"mirror 0.35 only", Config{}, narrowSetup{bwe: narrowMirror}},
		{"mirror 0.2 + narrowband CMN", Config{}, narrowSetup{cmn: tuned.cmn, bwe: 0.2}},
		{"mirror 0.5 + narrowband CMN", Config{}, narrowSetup{cmn: tuned.cmn, bwe: 0.5}},
		{"-dither yes", Config{Args: []string{"-dither", "yes"}}, narrowSetup{}},
		{"-lw 10", Config{Args: []string{"-lw", "10"}}, narrowSetup{}},
		{"feat.params -upperf 3800", Config{AcousticModel: upper}, narrowSetup{}},
	}
	voices, utts, cfg := []string{"slt"}, digitUtts, stt.Config{Grammar: stt.DigitsGrammar()}
	if !*full {
		variants = variants[:4] // plain, tuned and each half of the tuning
	}
	if *full {
		voices, utts, cfg = []string{"slt", "kal16", "awb"}, allUtts(), stt.Config{}
	}
	errs := map[string]int{}
	for _, v := range variants {
		r := newTestRecognizer(t, v.cfg)
		r.narrow = v.setup // before any narrowband decoder is loaded
		require.NoError(t, r.Preload(1, 8000))
		for _, voice := range voices {
			run := decodeCorpus(t, r, cfg, voice, 8000, utts)
			logRun(t, v.name+", "+voice, run)
			errs[v.name] += run.errs
		}
		require.NoError(t, r.Close())
	}
	t.Logf("word errors over all voices: %v", errs)
	require.Less(t, errs[variants[1].name], errs["plain"])
}
