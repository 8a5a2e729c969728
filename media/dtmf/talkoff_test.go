package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Talk-off: speech must never be taken for a digit. The speech is synthesised at
// test time by espeak-ng in several languages, voices and speeds, so no audio is
// committed; the same program and data give the same audio on every run.

// talkOffTexts are long enough that the configurations below total well over a
// minute of speech. The English ones are dense with digit names, menu phrases
// and vowels held long, which is where talk-off usually happens.
var talkOffTexts = map[string]string{
	"en1": `Thank you for calling. For account balances, press one. To speak with an agent,
press zero or stay on the line. Please enter your sixteen digit card number followed by
the pound key. Your call is important to us, and will be answered in the order received.
Our office hours are Monday to Friday, nine A M to five thirty P M, Eastern time.`,
	"en2": `The quick brown fox jumps over the lazy dog, while seven singing sailors
sailed slowly south. Oh no, I do not know how long the road is, but we will go anyway.
Would you believe it? Eight hundred and eighty eight ants arrived at noon, all at once.
Hmm, well, yes, maybe. Mmm. Ahhh. Eeee. Oooh. Wow, wonderful weather we are having.`,
	"en3": `One two three four five six seven eight nine zero. Star. Pound. Hash.
Four one five, five five five, two three six eight. My number is oh seven seven
double nine, one two three, four five six. Repeat: nine one one, eight hundred,
twenty twenty four, three point one four one five nine two six five three five.`,
	"de": `Guten Tag und herzlich willkommen. Bitte wählen Sie die Eins für den Verkauf,
die Zwei für den Kundendienst und die Drei für alle anderen Anliegen. Unsere
Mitarbeiter sind zurzeit alle im Gespräch. Bitte haben Sie einen Moment Geduld.
Vier, fünf, sechs, sieben, acht, neun, null. Auf Wiederhören.`,
	"fr": `Bonjour et bienvenue. Pour le service commercial, tapez un. Pour le service
client, tapez deux. Tous nos conseillers sont actuellement en ligne, merci de
patienter. Trois, quatre, cinq, six, sept, huit, neuf, zéro. Au revoir et à bientôt.`,
	"es": `Buenos días y bienvenido. Para ventas, marque uno. Para atención al cliente,
marque dos. Todos nuestros agentes están ocupados, por favor espere. Tres, cuatro,
cinco, seis, siete, ocho, nueve, cero. Muchas gracias por su llamada, hasta luego.`,
}

// talkOffVoices lists the espeak-ng configurations: voice (with variant), words
// per minute, text.
var talkOffVoices = []struct {
	voice string
	wpm   int
	text  string
}{
	{"en-us", 175, "en1"},
	{"en-us+f3", 190, "en2"},
	{"en-us+m7", 140, "en3"},
	{"en-gb", 160, "en2"},
	{"en-gb+f1", 210, "en3"},
	{"en-us+klatt2", 165, "en1"},
	{"de", 160, "de"},
	{"de+f2", 185, "de"},
	{"fr", 160, "fr"},
	{"fr+m5", 140, "fr"},
	{"es", 170, "es"},
	{"es+f4", 150, "es"},
}

// minTalkOffSpeech is the least speech the test must run through; maxClip caps
// each configuration.
const (
	minTalkOffSpeech = 60 * time.Second
	maxClip          = 9 * time.Second
)

func TestTalkOff(t *testing.T) {
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatalf("talk-off test needs espeak-ng (Debian package espeak-ng: apt-get install espeak-ng): %v", err)
	}
	dir := t.TempDir()
	type clip struct {
		name string
		pcm  map[int][]int16 // by sample rate
	}
	var clips []clip
	var total time.Duration
	// The espeak-ng runs dominate the test's wall time: run them side by side.
	type synth struct {
		out []byte
		err error
	}
	results := make([]synth, len(talkOffVoices))
	var wg sync.WaitGroup
	for i, v := range talkOffVoices {
		wg.Go(func() {
			path := filepath.Join(dir, fmt.Sprintf("speech%d.wav", i))
			results[i].out, results[i].err = exec.Command(bin, "-v", v.voice, "-s", fmt.Sprint(v.wpm), "-w", path, talkOffTexts[v.text]).CombinedOutput()
		})
	}
	wg.Wait()
	for i, v := range talkOffVoices {
		require.NoError(t, results[i].err, "espeak-ng -v %s: %s", v.voice, results[i].out)
		raw, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("speech%d.wav", i)))
		require.NoError(t, err)
		pcm, rate, err := parseWAV(raw)
		require.NoError(t, err, "voice %s", v.voice)
		require.NotEmpty(t, pcm, "voice %s produced no audio", v.voice)
		// Keep the test fast (it runs under -race).
		pcm = pcm[:min(len(pcm), int(maxClip.Seconds()*float64(rate)))]
		c := clip{name: fmt.Sprintf("%s@%dwpm", v.voice, v.wpm), pcm: map[int][]int16{}}
		for _, to := range []int{8000, 16000} {
			c.pcm[to] = resample(pcm, rate, to)
		}
		clips = append(clips, c)
		total += time.Duration(len(pcm)) * time.Second / time.Duration(rate)
	}
	require.GreaterOrEqual(t, total, minTalkOffSpeech, "not enough speech generated")

	falseDigits := 0
	for _, rate := range []int{8000, 16000} {
		gains := []float64{1}
		if rate == 8000 {
			gains = append(gains, 0.25) // and 12 dB down, nearer the sensitivity floor
		}
		for _, gain := range gains {
			for _, c := range clips {
				// Frame size does not matter (TestDetectorFrameSizeIndependent).
				dets := detect(t, rate, scale(c.pcm[rate], gain), 20*time.Millisecond)
				if got := digits(dets); got != "" {
					falseDigits += len(got)
					t.Errorf("talk-off: %s at %d Hz, gain %.2f: false digits %q", c.name, rate, gain, got)
				}
			}
		}
	}
	t.Logf("talk-off: %d false digits in %v of speech (%d voices) at 8 kHz (0 and -12 dB) and 16 kHz",
		falseDigits, total.Round(100*time.Millisecond), len(clips))
}

// parseWAV decodes a mono 16-bit PCM WAV file, enough for espeak-ng output.
func parseWAV(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE file")
	}
	rate := 0
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8:]
		if size > len(body) {
			size = len(body) // streamed files may carry a placeholder size
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			channels := binary.LittleEndian.Uint16(body[2:4])
			bits := binary.LittleEndian.Uint16(body[14:16])
			if format != 1 || channels != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("want mono 16-bit PCM, got format %d, %d channels, %d bits", format, channels, bits)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
		case "data":
			if rate == 0 {
				return nil, 0, errors.New("data before fmt")
			}
			pcm := make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, rate, nil
		}
		p += 8 + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// resample converts pcm from rate in to rate out with a Blackman-windowed sinc
// low-pass (cut-off at 45% of the lower rate), as a polyphase filter: out/in
// rates here reduce to small fractions (22050→8000 is 441/160).
func resample(pcm []int16, in, out int) []int16 {
	g := gcd(in, out)
	up, down := out/g, in/g                          // output n is at input position n*down/up
	const half = 24                                  // taps on each side of the centre
	fc := 0.45 * float64(min(in, out)) / float64(in) // cut-off, cycles per input sample
	taps := make([][2 * half]float64, up)
	for ph := range taps {
		frac := float64(ph) / float64(up)
		sum := 0.0
		for k := range 2 * half {
			u := float64(k-half+1) - frac // distance from the output position
			w := 0.42 + 0.5*math.Cos(math.Pi*u/half) + 0.08*math.Cos(2*math.Pi*u/half)
			if math.Abs(u) >= half {
				w = 0
			}
			h := 2 * fc
			if u != 0 {
				h = math.Sin(2*math.Pi*fc*u) / (math.Pi * u)
			}
			taps[ph][k] = h * w
			sum += h * w
		}
		for k := range taps[ph] {
			taps[ph][k] /= sum // unity gain at DC for every phase
		}
	}
	n := len(pcm) * up / down
	res := make([]int16, n)
	for i := range res {
		pos := i * down
		base, ph := pos/up, pos%up
		acc := 0.0
		for k := range 2 * half {
			j := base + k - half + 1
			if j >= 0 && j < len(pcm) {
				acc += float64(pcm[j]) * taps[ph][k]
			}
		}
		res[i] = int16(math.Round(min(max(acc, -32768), 32767)))
	}
	return res
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func scale(pcm []int16, gain float64) []int16 {
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(math.Round(float64(v) * gain))
	}
	return out
}
