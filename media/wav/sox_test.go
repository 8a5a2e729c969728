package wav

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"
)

// runSox runs a SoX command (sox or soxi) and returns its standard output.
func runSox(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	requireTool(t, name, "sox")
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return out
}

// soxCase is a file SoX makes: 0.5 s of 440 Hz at half scale (mono), or 440 Hz left
// and 660 Hz right (stereo).
type soxCase struct {
	name     string
	enc      []string // sox output format options
	rate, ch int
	format   Format
	tag      Format
	bits     int
}

var soxCases = []soxCase{
	{"u8", []string{"-e", "unsigned-integer", "-b", "8"}, 8000, 1, FormatPCM, FormatPCM, 8},
	{"s16", []string{"-e", "signed-integer", "-b", "16"}, 16000, 1, FormatPCM, FormatPCM, 16},
	{"s16 stereo 44.1k", []string{"-e", "signed-integer", "-b", "16"}, 44100, 2, FormatPCM, FormatPCM, 16},
	{"s16 11.025k", []string{"-e", "signed-integer", "-b", "16"}, 11025, 1, FormatPCM, FormatPCM, 16},
	{"s24", []string{"-e", "signed-integer", "-b", "24"}, 48000, 1, FormatPCM, FormatExtensible, 24},
	{"s24 stereo", []string{"-e", "signed-integer", "-b", "24"}, 22050, 2, FormatPCM, FormatExtensible, 24},
	{"s32", []string{"-e", "signed-integer", "-b", "32"}, 8000, 1, FormatPCM, FormatExtensible, 32},
	{"f32", []string{"-e", "floating-point", "-b", "32"}, 16000, 1, FormatFloat, FormatFloat, 32},
	{"f32 stereo", []string{"-e", "floating-point", "-b", "32"}, 48000, 2, FormatFloat, FormatFloat, 32},
	{"f64", []string{"-e", "floating-point", "-b", "64"}, 8000, 1, FormatFloat, FormatFloat, 64},
	{"mu-law", []string{"-e", "mu-law"}, 8000, 1, FormatMuLaw, FormatMuLaw, 8},
	{"mu-law stereo", []string{"-e", "mu-law"}, 8000, 2, FormatMuLaw, FormatMuLaw, 8},
	{"a-law", []string{"-e", "a-law"}, 8000, 1, FormatALaw, FormatALaw, 8},
	{"a-law 16k", []string{"-e", "a-law"}, 16000, 1, FormatALaw, FormatALaw, 8},
}

// makeSoxFile synthesises c's file with SoX (no dither, repeatable) and returns its path.
func makeSoxFile(t *testing.T, dir string, c soxCase, dur float64) string {
	t.Helper()
	path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".wav")
	args := []string{"-D", "-R", "-n", "-r", strconv.Itoa(c.rate), "-c", strconv.Itoa(c.ch)}
	args = append(args, c.enc...)
	args = append(args, path, "synth", strconv.FormatFloat(dur, 'f', -1, 64), "sine", "440")
	if c.ch == 2 {
		args = append(args, "sine", "660")
	}
	runSox(t, "sox", append(args, "vol", "0.5")...)
	return path
}

// soxDecode has SoX decode path to 16-bit mono (channels averaged), for reference.
func soxDecode(t *testing.T, path string, ch int) []int16 {
	t.Helper()
	args := []string{"-D", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-"}
	if ch == 2 {
		args = append(args, "remix", "1v0.5,2v0.5")
	}
	raw := runSox(t, "sox", args...)
	out := make([]int16, len(raw)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return out
}

// checkTones asserts x (at rate) holds 440 Hz at amplitude amp (and 660 Hz too when
// stereo downmixed), measured over 0.4 s from 50 ms in, a whole number of cycles of
// both tones.
func checkTones(t *testing.T, x []int16, rate int, stereo bool, what string) {
	t.Helper()
	start, n := rate/20, rate*2/5
	require.GreaterOrEqual(t, len(x), start+n, what)
	w := x[start : start+n]
	amp := 16384.0
	if stereo {
		amp /= 2
		a660 := goertzel(w, rate, 660)
		assert.InDelta(t, 0, 20*math.Log10(a660/amp), 0.5, "%s: 660 Hz level (dB)", what)
	} else {
		f := zeroCrossingFreq(w, rate)
		assert.InDelta(t, 440, f, 0.5, "%s: frequency", what)
	}
	a440 := goertzel(w, rate, 440)
	assert.InDelta(t, 0, 20*math.Log10(a440/amp), 0.5, "%s: 440 Hz level (dB)", what)
	// Nothing else: the tone(s) carry all the power.
	p := rms(w) * rms(w)
	tonal := a440 * a440 / 2
	if stereo {
		a660 := goertzel(w, rate, 660)
		tonal += a660 * a660 / 2
	}
	snr := 10 * math.Log10(tonal/math.Max(p-tonal, 1e-9))
	assert.Greater(t, snr, 30.0, "%s: tone to residual (dB)", what)
}

// TestSoxFilesReadBack reads files of every encoding made by SoX: headers as SoX wrote
// them, samples equal to SoX's own decoding, the tone intact at the file's rate and
// when resampled to 8 and 16 kHz session rates.
func TestSoxFilesReadBack(t *testing.T) {
	dir := t.TempDir()
	for _, c := range soxCases {
		t.Run(c.name, func(t *testing.T) {
			path := makeSoxFile(t, dir, c, 0.5)
			r, err := Open(path, Options{})
			require.NoError(t, err)
			h := r.Header()
			assert.Equal(t, c.format, h.Format)
			assert.Equal(t, c.tag, h.Tag)
			assert.Equal(t, c.ch, h.Channels)
			assert.Equal(t, c.rate, h.SampleRate)
			assert.Equal(t, c.bits, h.BitsPerSample)
			assert.InDelta(t, 500*time.Millisecond, h.Duration(), float64(time.Second)/float64(c.rate))
			got := readAll(t, r)
			require.NoError(t, r.Close())
			require.Len(t, got, int(h.Frames()))
			require.InDelta(t, c.rate/2, len(got), 1)

			ref := soxDecode(t, path, c.ch)
			require.Len(t, ref, len(got))
			maxDiff := 0
			for i := range got {
				maxDiff = max(maxDiff, abs(int(got[i])-int(ref[i])))
			}
			t.Logf("%v: max difference from SoX's decoding %d LSB", h, maxDiff)
			// Rounding of 24/32-bit and float, and of the stereo average, may differ by one.
			assert.LessOrEqual(t, maxDiff, 1, "samples vs SoX")
			checkTones(t, got, c.rate, c.ch == 2, h.String())

			for _, rate := range []int{8000, 16000} {
				r, err := Open(path, Options{SampleRate: rate, FrameDuration: 20 * time.Millisecond})
				require.NoError(t, err)
				got := readAll(t, r)
				require.NoError(t, r.Close())
				assert.InDelta(t, rate/2, len(got), 1, "length at %d Hz", rate)
				checkTones(t, got, rate, c.ch == 2, h.String()+" at "+strconv.Itoa(rate))
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestSoxAcceptsOurFiles writes files with Writer and has SoX inspect and decode them:
// soxi must report the header we meant, and SoX's decoding must equal the samples.
func TestSoxAcceptsOurFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		enc      Encoding
		rate, ch int
		soxEnc   string
		bits     string
	}{
		{PCM16, 8000, 1, "Signed Integer PCM", "16"},
		{PCM16, 16000, 2, "Signed Integer PCM", "16"},
		{PCM16, 48000, 1, "Signed Integer PCM", "16"},
		{MuLaw, 8000, 1, "u-law", "8"},
		{MuLaw, 8000, 2, "u-law", "8"},
	}
	for _, c := range cases {
		name := c.enc.String() + "_" + strconv.Itoa(c.rate) + "_" + strconv.Itoa(c.ch)
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".wav")
			w, err := Create(path, WriterOptions{SampleRate: c.rate, Channels: c.ch, Encoding: c.enc})
			require.NoError(t, err)
			n := c.rate*3/4 + 1 // odd: exercises the pad byte for μ-law mono
			left, right := tone(n, c.rate, 440, 16000), tone(n, c.rate, 660, 8000)
			frame := c.rate / 50
			for i := 0; i < n; i += frame {
				j := min(i+frame, n)
				if c.ch == 2 {
					require.NoError(t, w.WriteStereo(left[i:j], right[i:j]))
				} else {
					require.NoError(t, w.Write(left[i:j]))
				}
			}
			require.NoError(t, w.Close())

			info := func(flag string) string { return strings.TrimSpace(string(runSox(t, "soxi", flag, path))) }
			assert.Equal(t, "wav", info("-t"))
			assert.Equal(t, strconv.Itoa(c.rate), info("-r"))
			assert.Equal(t, strconv.Itoa(c.ch), info("-c"))
			assert.Equal(t, strconv.Itoa(n), info("-s"))
			assert.Equal(t, c.soxEnc, info("-e"))
			assert.Equal(t, c.bits, info("-b"))

			raw := runSox(t, "sox", "-D", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-")
			require.Len(t, raw, n*c.ch*2)
			for i := range n {
				for ch, src := range [][]int16{left, right}[:c.ch] {
					want := src[i]
					if c.enc == MuLaw {
						want = g711.DecodeUlawFrame(g711.EncodeUlawFrame(want))
					}
					got := int16(binary.LittleEndian.Uint16(raw[2*(i*c.ch+ch):]))
					if got != want {
						t.Fatalf("sample %d channel %d: SoX decodes %d, want %d", i, ch, got, want)
					}
				}
			}
		})
	}
}

// TestSoxReadsLiveFile has SoX read a recording mid-stream, before Close.
func TestSoxReadsLiveFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.wav")
	w, err := Create(path, WriterOptions{SampleRate: 8000})
	require.NoError(t, err)
	frame := tone(160, 8000, 440, 10000)
	for range 75 { // 1.5 s; the header was last rewritten at 1 s
		require.NoError(t, w.Write(frame))
	}
	assert.Equal(t, "8000", strings.TrimSpace(string(runSox(t, "soxi", "-s", path))))
	assert.Equal(t, "1.000000", strings.TrimSpace(string(runSox(t, "soxi", "-D", path))))
	raw := runSox(t, "sox", "-D", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-")
	assert.Len(t, raw, 16000)
	require.NoError(t, w.Close())
	assert.Equal(t, "12000", strings.TrimSpace(string(runSox(t, "soxi", "-s", path))))
	_, err = os.Stat(path)
	require.NoError(t, err)
}
