package vad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media/wav"
)

// The labelled test set: utterances synthesised by espeak-ng in several voices,
// separated by pauses, at 8 or 16 kHz (resampled from espeak's 22.05 kHz by
// media/resample through media/wav), optionally mixed with SoX-generated noise at a
// given SNR. Truth labels come from the clean signal.

var voices = []string{"en-us", "en-us+f3", "en-gb-scotland", "en-gb-x-rp+f5", "en-029+m2", "en+klatt"}

var sentences = []string{
	"Please hold while I transfer your call to the next available agent.",
	"Your account balance is one hundred and twenty three dollars.",
	"Press one for sales, two for support, or stay on the line.",
	"Thank you for calling. How can I help you today?",
	"I'm sorry, I didn't catch that. Could you say it again?",
	"The meeting has been moved to Thursday at half past four.",
	"Say yes to confirm, or no to hear the options again.",
	"We have received your payment, thank you.",
	"Fifty seven, thirty two, eighty nine.",
	"Is there anything else I can help you with?",
	"Goodbye.",
	"Hello?",
}

const (
	frameMS     = 20
	truthGateDB = -50.0 // clean frames louder than this (dBFS) are speech
)

type testSet struct {
	rate   int
	clean  []int16
	truth  []bool  // per 20 ms frame
	starts []int   // frame index of each truth segment start (segments split by ≥ 300 ms of silence)
	active float64 // mean power of truth frames (linear, int16 scale)
	dir    string
}

// requireTool fails (never skips) when a command the tests rely on is missing.
func requireTool(t testing.TB, name, debPackage string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found in PATH: install the Debian package %q (apt-get install %s)", name, debPackage, debPackage)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
}

// readWAV reads a whole file at rate through media/wav (and so media/resample).
func readWAV(t testing.TB, path string, rate int) []int16 {
	t.Helper()
	r, err := wav.Open(path, wav.Options{SampleRate: rate})
	require.NoError(t, err)
	defer r.Close()
	var out []int16
	for {
		f, err := r.ReadFrame()
		if err != nil {
			break
		}
		out = append(out, f.Samples...)
	}
	return out
}

func frameDB(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return 10*math.Log10(e/float64(len(x))/(32768*32768)+1e-20) + 3
}

// buildSet synthesises the clean test signal at rate.
func buildSet(t *testing.T, rate int) *testSet {
	t.Helper()
	requireTool(t, "espeak-ng", "espeak-ng")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(42, uint64(rate)))
	frame := rate * frameMS / 1000
	s := &testSet{rate: rate, dir: dir}
	pause := func(sec float64) {
		n := int(sec*float64(rate)) / frame * frame
		s.clean = append(s.clean, make([]int16, n)...)
	}
	pause(1.0)
	for i, text := range sentences {
		v := voices[i%len(voices)]
		path := filepath.Join(dir, fmt.Sprintf("u%02d.wav", i))
		run(t, "espeak-ng", "-v", v, "-s", strconv.Itoa(150+rng.IntN(30)), "-w", path, text)
		u := readWAV(t, path, rate)
		u = append(u, make([]int16, (frame-len(u)%frame)%frame)...)
		s.clean = append(s.clean, u...)
		pause(0.7 + 1.1*rng.Float64())
	}
	nf := len(s.clean) / frame
	s.truth = make([]bool, nf)
	var p float64
	n := 0
	for i := range nf {
		x := s.clean[i*frame : (i+1)*frame]
		if frameDB(x) > truthGateDB {
			s.truth[i] = true
			for _, v := range x {
				p += float64(v) * float64(v)
			}
			n += len(x)
		}
	}
	s.active = p / float64(n)
	// Utterance starts: speech after at least 500 ms of silence (the pauses between
	// utterances are 0.7 s or more; pauses within them are shorter).
	silent := 1 << 30
	for i, on := range s.truth {
		if on {
			if silent*frameMS >= 500 {
				s.starts = append(s.starts, i)
			}
			silent = 0
		} else {
			silent++
		}
	}
	return s
}

// noiseOnly returns SoX noise of the given colour as long as the clean set, at the
// level that gives 0 dB SNR against the active speech level.
func (s *testSet) noiseOnly(t *testing.T, colour string) []int16 {
	t.Helper()
	requireTool(t, "sox", "sox")
	path := filepath.Join(s.dir, colour+".wav")
	dur := strconv.FormatFloat(float64(len(s.clean))/float64(s.rate)+0.1, 'f', 3, 64)
	run(t, "sox", "-R", "-n", "-r", strconv.Itoa(s.rate), "-b", "16", "-e", "signed-integer", path,
		"synth", dur, colour+"noise", "vol", "0.3")
	return readWAV(t, path, s.rate)[:len(s.clean)]
}

// noisy returns the clean set mixed with SoX noise of the given colour at snr dB
// (relative to the active speech level). colour "" returns the clean signal.
func (s *testSet) noisy(t *testing.T, colour string, snr float64) []int16 {
	t.Helper()
	if colour == "" {
		return s.clean
	}
	noise := s.noiseOnly(t, colour)
	var np float64
	for _, v := range noise {
		np += float64(v) * float64(v)
	}
	np /= float64(len(noise))
	g := math.Sqrt(s.active / np / math.Pow(10, snr/10))
	out := make([]int16, len(s.clean))
	for i := range out {
		out[i] = int16(clampF(math.Round(float64(s.clean[i])+g*float64(noise[i])), -32768, 32767))
	}
	return out
}
