package corpus

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
)

// Rate is the sample rate of rendered audio.
const Rate = 8000

// ErrEngine is returned when a speech engine is missing or fails.
var ErrEngine = errors.New("corpus: speech engine")

// DebianPackage names the Debian package that provides engine.
func DebianPackage(engine string) string {
	return engine // espeak-ng and flite are packaged under their own names
}

// CheckEngines reports a missing engine, naming its Debian package.
func CheckEngines() error {
	for _, e := range []string{"espeak-ng", "flite"} {
		if _, err := exec.LookPath(e); err != nil {
			return fmt.Errorf("%w: %s not found (install the Debian package %s): %w", ErrEngine, e, DebianPackage(e), err)
		}
	}
	return nil
}

// Truth is what a detector should find in a rendered case. Offsets are in samples.
type Truth struct {
	SpeechStart int // first speech sample, -1 without speech
	SpeechEnd   int // last speech sample + 1
	BeepStart   int // -1 without a beep
	BeepEnd     int
	BeepHz      float64
}

// Audio is a rendered case.
type Audio struct {
	Samples []int16
	Truth   Truth
}

// Synth speaks p.Text with p's engine and voice and returns the speech at Rate with
// the silence before and after it trimmed. Results are cached in dir by content.
func Synth(dir string, p Part) ([]int16, error) {
	h := sha256.Sum256([]byte(p.Engine + "\x00" + p.Voice + "\x00" + strconv.Itoa(p.Speed) + "\x00" + p.Text))
	key := filepath.Join(dir, hex.EncodeToString(h[:12])+".s16")
	if b, err := os.ReadFile(key); err == nil {
		s := make([]int16, len(b)/2)
		for i := range s {
			s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return s, nil
	}
	tmp, err := os.CreateTemp(dir, "tts-*.wav")
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	var cmd *exec.Cmd
	switch p.Engine {
	case "espeak-ng":
		cmd = exec.Command("espeak-ng", "-v", p.Voice, "-s", strconv.Itoa(p.Speed), "-w", tmp.Name(), p.Text)
	case "flite":
		cmd = exec.Command("flite", "-voice", p.Voice, "--setf", fmt.Sprintf("duration_stretch=%.2f", float64(p.Speed)/100),
			"-t", p.Text, "-o", tmp.Name())
	default:
		return nil, fmt.Errorf("%w: unknown engine %q", ErrEngine, p.Engine)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: %s (Debian package %s): %w: %s", ErrEngine, p.Engine, DebianPackage(p.Engine), err, out)
	}
	s, err := readWAV(tmp.Name())
	if err != nil {
		return nil, err
	}
	s = trim(s)
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: %s produced no speech for %q", ErrEngine, p.Engine, p.Text)
	}
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := writeAtomic(key, b); err != nil {
		return nil, err
	}
	return s, nil
}

func readWAV(path string) ([]int16, error) {
	r, err := wav.Open(path, wav.Options{SampleRate: Rate})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer r.Close()
	var s []int16
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		s = append(s, f.Samples...)
	}
}

// trim cuts the engine's leading and trailing silence: everything before the first
// and after the last 10 ms whose peak is within 40 dB of the utterance's peak.
func trim(s []int16) []int16 {
	var peak int
	for _, v := range s {
		peak = max(peak, abs(int(v)))
	}
	thr := peak / 100
	const blk = Rate / 100
	first, last := -1, -1
	for i := 0; i+blk <= len(s); i += blk {
		m := 0
		for _, v := range s[i : i+blk] {
			m = max(m, abs(int(v)))
		}
		if m > thr {
			if first < 0 {
				first = i
			}
			last = i + blk
		}
	}
	if first < 0 {
		return nil
	}
	return s[first:last]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Render builds the audio of c, synthesizing (or reading from dir) its speech. The
// result is cached in dir too, by the content of c.
func Render(dir string, c Case) (Audio, error) {
	key, err := cacheKey(dir, c)
	if err != nil {
		return Audio{}, err
	}
	if b, err := os.ReadFile(key); err == nil && len(b) >= 40 && len(b)%2 == 0 {
		var a Audio
		f := func(i int) int { return int(int64(binary.LittleEndian.Uint64(b[8*i:]))) }
		a.Truth = Truth{SpeechStart: f(0), SpeechEnd: f(1), BeepStart: f(2), BeepEnd: f(3),
			BeepHz: math.Float64frombits(binary.LittleEndian.Uint64(b[32:]))}
		a.Samples = make([]int16, (len(b)-40)/2)
		for i := range a.Samples {
			a.Samples[i] = int16(binary.LittleEndian.Uint16(b[40+2*i:]))
		}
		return a, nil
	}
	a, err := render(dir, c)
	if err != nil {
		return a, err
	}
	b := make([]byte, 40+2*len(a.Samples))
	for i, v := range []int{a.Truth.SpeechStart, a.Truth.SpeechEnd, a.Truth.BeepStart, a.Truth.BeepEnd} {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(int64(v)))
	}
	binary.LittleEndian.PutUint64(b[32:], math.Float64bits(a.Truth.BeepHz))
	for i, v := range a.Samples {
		binary.LittleEndian.PutUint16(b[40+2*i:], uint16(v))
	}
	if err := writeAtomic(key, b); err != nil {
		return Audio{}, err
	}
	return a, nil
}

// Cached reports whether Render would find c in dir without rendering it.
func Cached(dir string, c Case) bool {
	key, err := cacheKey(dir, c)
	if err != nil {
		return false
	}
	_, err = os.Stat(key)
	return err == nil
}

func cacheKey(dir string, c Case) (string, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("corpus: %w", err)
	}
	h := sha256.Sum256(append([]byte("render-v1\x00"), js...))
	return filepath.Join(dir, "case-"+hex.EncodeToString(h[:12])+".bin"), nil
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("corpus: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("corpus: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}

func render(dir string, c Case) (Audio, error) {
	r := rand.New(rand.NewPCG(c.Seed, 0xa0d10))
	var (
		x     []float64
		truth = Truth{SpeechStart: -1, BeepStart: -1}
		beeps []struct {
			at, n  int
			hz, db float64
		}
	)
	ms := func(n int) int { return n * Rate / 1000 }
	x = append(x, make([]float64, ms(c.LeadMS))...)
	for _, p := range c.Parts {
		switch {
		case p.Text != "":
			s, err := Synth(dir, p)
			if err != nil {
				return Audio{}, err
			}
			if truth.SpeechStart < 0 {
				truth.SpeechStart = len(x)
			}
			for _, v := range s {
				x = append(x, float64(v)/32768)
			}
			truth.SpeechEnd = len(x)
		case p.BeepHz > 0:
			beeps = append(beeps, struct {
				at, n  int
				hz, db float64
			}{len(x), ms(p.BeepMS), p.BeepHz, p.BeepDB})
			x = append(x, make([]float64, ms(p.BeepMS))...)
		default:
			x = append(x, make([]float64, ms(p.PauseMS))...)
		}
	}
	x = append(x, make([]float64, ms(c.TailMS))...)

	// Speech to its level.
	if truth.SpeechStart >= 0 {
		g := math.Pow(10, c.LevelDB/20) / activeRMS(x)
		for i := range x {
			x[i] *= g
		}
	}
	speechRMS := math.Pow(10, c.LevelDB/20)
	for _, b := range beeps {
		// A sine at the speech's RMS level plus BeepDB, with 5 ms ramps.
		amp := speechRMS * math.Sqrt2 * math.Pow(10, b.db/20)
		ramp := ms(5)
		for i := range b.n {
			g := 1.0
			if i < ramp {
				g = float64(i) / float64(ramp)
			} else if b.n-1-i < ramp {
				g = float64(b.n-1-i) / float64(ramp)
			}
			x[b.at+i] += g * amp * math.Sin(2*math.Pi*b.hz*float64(i)/Rate)
		}
		truth.BeepStart, truth.BeepEnd, truth.BeepHz = b.at, b.at+b.n, b.hz
	}

	// Telephone-band noise.
	noiseRMS := 0.0
	switch {
	case c.NoiseDB != 0:
		noiseRMS = math.Pow(10, c.NoiseDB/20)
	case c.SNR > 0:
		noiseRMS = speechRMS / math.Pow(10, c.SNR/20)
	}
	if noiseRMS > 0 {
		n := bandNoise(r, len(x))
		for i := range x {
			x[i] += noiseRMS * n[i]
		}
	}

	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(v*32768))))
	}
	if c.ULaw {
		enc := media.PCMU().NewEncoder()
		dec := media.PCMU().NewDecoder()
		out = dec.Decode(nil, enc.Encode(nil, out))
	}
	return Audio{Samples: out, Truth: truth}, nil
}

// activeRMS is the RMS level of the 20 ms blocks within 35 dB of the loudest block:
// roughly the active speech level, ignoring the pauses.
func activeRMS(x []float64) float64 {
	const blk = Rate / 50
	var es []float64
	maxE := 0.0
	for i := 0; i+blk <= len(x); i += blk {
		e := 0.0
		for _, v := range x[i : i+blk] {
			e += v * v
		}
		e /= blk
		es = append(es, e)
		maxE = max(maxE, e)
	}
	var sum float64
	var n int
	for _, e := range es {
		if e > maxE*math.Pow(10, -3.5) {
			sum += e
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return math.Sqrt(sum / float64(n))
}

// bandNoise is unit-RMS Gaussian noise limited to 300-3400 Hz by two second-order
// high-pass and two second-order low-pass sections.
func bandNoise(r *rand.Rand, n int) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = r.NormFloat64()
	}
	for range 2 {
		biquad(y, 300, true)
		biquad(y, 3400, false)
	}
	var e float64
	for _, v := range y {
		e += v * v
	}
	g := 1 / math.Sqrt(e/float64(n)+1e-30)
	for i := range y {
		y[i] *= g
	}
	return y
}

// biquad filters y in place with an RBJ Butterworth high- or low-pass at fc.
func biquad(y []float64, fc float64, high bool) {
	w := 2 * math.Pi * fc / Rate
	alpha := math.Sin(w) / math.Sqrt2
	cw := math.Cos(w)
	var b0, b1, b2 float64
	if high {
		b0, b1, b2 = (1+cw)/2, -(1 + cw), (1+cw)/2
	} else {
		b0, b1, b2 = (1-cw)/2, 1-cw, (1-cw)/2
	}
	a0, a1, a2 := 1+alpha, -2*cw, 1-alpha
	b0, b1, b2, a1, a2 = b0/a0, b1/a0, b2/a0, a1/a0, a2/a0
	var x1, x2, y1, y2 float64
	for i, x := range y {
		v := b0*x + b1*x1 + b2*x2 - a1*y1 - a2*y2
		x2, x1 = x1, x
		y2, y1 = y1, v
		y[i] = v
	}
}
