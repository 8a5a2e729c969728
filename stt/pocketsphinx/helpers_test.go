package pocketsphinx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/media/wav"
)

// requireSpeechTools fails the test, naming the Debian package, when what these tests
// need is missing: the flite synthesiser and the pocketsphinx model.
func requireSpeechTools(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("flite"); err != nil {
		t.Fatalf("flite not found (install the Debian package flite): %v", err)
	}
	for _, p := range []string{filepath.Join(DefaultModelDir, "en-us", "mdef"), filepath.Join(DefaultModelDir, "en-us.lm.bin")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("pocketsphinx model missing (install the Debian package pocketsphinx-en-us): %v", err)
		}
	}
}

// synthCache memoises flite output per (voice, text, rate) within the test binary, so
// that tests sharing utterances synthesise them once.
var synthCache sync.Map

var synthDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "switchboard-stt-flite-") })

// synth speaks text with a flite voice and returns the audio at rate Hz (flite's own
// rate is 16 kHz, or 8 kHz for the voice kal).
func synth(t testing.TB, voice, text string, rate int) []int16 {
	t.Helper()
	requireSpeechTools(t)
	pcm, err := synthesize(voice, text, rate)
	require.NoError(t, err)
	return pcm
}

// synthAll synthesises utterances two at a time (the machine has two cores), to fill
// the cache before a test uses them one by one.
func synthAll(t testing.TB, voice string, texts []string, rate int) {
	t.Helper()
	requireSpeechTools(t)
	sem := make(chan struct{}, 2)
	errs := make([]error, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, errs[i] = synthesize(voice, text, rate)
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

func synthesize(voice, text string, rate int) ([]int16, error) {
	key := fmt.Sprint(voice, "|", text, "|", rate)
	if v, ok := synthCache.Load(key); ok {
		return v.([]int16), nil
	}
	dir, err := synthDir()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "utt-*.wav")
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if out, err := exec.Command("flite", "-voice", voice, "-t", text, "-o", f.Name()).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("flite: %w: %s", err, out)
	}
	r, err := wav.Open(f.Name(), wav.Options{SampleRate: rate})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var pcm []int16
	for {
		fr, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		pcm = append(pcm, fr.Samples...)
	}
	synthCache.Store(key, pcm)
	return pcm, nil
}

// telephone passes 16 kHz audio through a narrowband G.711 μ-law channel: down to
// 8 kHz, encoded and decoded with media.PCMU. The result is at 8 kHz.
func telephone(t testing.TB, pcm16 []int16) []int16 {
	t.Helper()
	rs, err := resample.New(16000, 8000)
	require.NoError(t, err)
	nb := rs.Process(nil, pcm16)
	nb = rs.Flush(nb)
	// Drop the filter delay so the timing matches the wideband audio.
	nb = nb[min(len(nb), int(rs.Delay()+0.5)):]
	enc := media.PCMU().NewEncoder().Encode(nil, nb)
	return media.PCMU().NewDecoder().Decode(nil, enc)
}

// silence returns d seconds of silence at rate Hz.
func silence(rate int, seconds float64) []int16 { return make([]int16, int(seconds*float64(rate))) }
