package call

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
)

// memFile is an in-memory io.WriteSeeker (and io.WriterAt, as *os.File is).
type memFile struct {
	b   []byte
	pos int64
}

func (m *memFile) Write(p []byte) (int, error) {
	n, _ := m.WriteAt(p, m.pos)
	m.pos += int64(n)
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.pos
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	m.pos = off
	return off, nil
}

// sineFrame fills a frame of n samples of freq Hz at 8 kHz at amplitude amp, starting
// at sample index at.
func sineFrame(dst []int16, freq float64, amp float64, at int) {
	for i := range dst {
		dst[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(at+i)/8000))
	}
}

// readBack decodes a WAV file written by a recording: its header and the samples of
// each channel (wav.Reader would mix them to mono).
func readBack(t *testing.T, b []byte) (wav.Header, [][]int16) {
	t.Helper()
	r, err := wav.NewReader(bytes.NewReader(b), wav.Options{})
	require.NoError(t, err)
	h := r.Header()
	require.NoError(t, r.Close())
	data := b[h.DataOffset:]
	if h.DataSize >= 0 {
		data = data[:h.DataSize]
	}
	chans := make([][]int16, h.Channels)
	for i := 0; i+h.BlockAlign <= len(data); i += h.BlockAlign {
		for c := range h.Channels {
			if h.Format == wav.FormatMuLaw {
				chans[c] = append(chans[c], g711.DecodeUlawFrame(data[i+c]))
			} else {
				chans[c] = append(chans[c], int16(binary.LittleEndian.Uint16(data[i+2*c:])))
			}
		}
	}
	return h, chans
}

// nullFile is an io.WriteSeeker that keeps nothing, for measuring allocations.
type nullFile struct{ pos, end int64 }

func (n *nullFile) Write(p []byte) (int, error) {
	n.pos += int64(len(p))
	n.end = max(n.end, n.pos)
	return len(p), nil
}

func (n *nullFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += n.pos
	case io.SeekEnd:
		off += n.end
	}
	n.pos = off
	return off, nil
}

// testRecorder makes a recorder core over an in-memory file, fed by hand.
func testRecorder(t testing.TB, opts RecordOptions) (*recorder, *wav.Writer, *memFile) {
	t.Helper()
	mf := &memFile{}
	if opts.Writer == nil {
		opts.Writer = mf
	}
	if err := opts.validate(); err != nil {
		t.Fatal(err)
	}
	w, _, err := openDestination(opts, 8000)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRecorder(opts, 8000, 160, 20*time.Millisecond, w, make(chan struct{}, 1))
	if err != nil {
		t.Fatal(err)
	}
	return r, w, mf
}

// feed pushes n frames from gen into the rings and records them.
func feed(r *recorder, n int, gen func(i int, caller, ours []int16)) {
	a, b := make([]int16, 160), make([]int16, 160)
	for i := range n {
		gen(i, a, b)
		r.caller.push(media.Frame{Samples: a, SampleRate: 8000})
		if r.sent != nil {
			r.sent.push(media.Frame{Samples: b, SampleRate: 8000})
		}
		if i%5 == 4 {
			r.drain()
		}
	}
	r.drain()
}

func TestFrameRingGapKeepsStep(t *testing.T) {
	wake := make(chan struct{}, 1)
	r := newFrameRing(4, 3, wake, 2)
	f := func(v int16) media.Frame { return media.Frame{Samples: []int16{v, v, v}, SampleRate: 8000} }
	r.push(f(1))
	assert.Empty(t, wake, "below the batch: no wake-up")
	r.push(f(2))
	assert.Len(t, wake, 1, "batch reached: wake")
	r.push(f(3))
	r.push(f(4))
	r.push(f(5)) // full: lost
	r.push(f(6)) // lost
	assert.EqualValues(t, 2, r.lost.Load())
	var got []int16
	take := func() {
		for {
			s, ok := r.peek()
			if !ok {
				return
			}
			got = append(got, s[0])
			r.advance()
		}
	}
	take()
	r.push(f(7))
	take()
	// Frames 5 and 6 were lost: two frames of silence stand in for them before 7.
	assert.Equal(t, []int16{1, 2, 3, 4, 0, 0, 7}, got)
}

func TestRecorderLayouts(t *testing.T) {
	gen := func(i int, a, b []int16) {
		sineFrame(a, 500, 8000, i*160)
		sineFrame(b, 1500, 8000, i*160)
	}
	for _, tc := range []struct {
		layout RecordChannels
		format RecordFormat
		ch     int
	}{
		{RecordCaller, FormatWAV, 1},
		{RecordMixed, FormatWAV, 1},
		{RecordDual, FormatWAV, 2},
		{RecordDual, FormatWAVMuLaw, 2},
	} {
		t.Run(tc.layout.String()+"/"+tc.format.String(), func(t *testing.T) {
			r, w, mf := testRecorder(t, RecordOptions{Channels: tc.layout, Format: tc.format})
			feed(r, 50, gen)
			require.NoError(t, r.finish())
			require.NoError(t, w.Close())
			h, chans := readBack(t, mf.b)
			require.Equal(t, tc.ch, h.Channels)
			assert.Equal(t, time.Second, h.Duration())
			p := func(x []int16, f float64) float64 { return goertzelPower(x, f) }
			switch tc.layout {
			case RecordCaller:
				assert.Greater(t, p(chans[0], 500), 1000*p(chans[0], 1500))
			case RecordMixed:
				assert.InDelta(t, 1, p(chans[0], 500)/p(chans[0], 1500), 0.2, "both at the same level")
			case RecordDual:
				assert.Greater(t, p(chans[0], 500), 100*p(chans[0], 1500), "left is the caller")
				assert.Greater(t, p(chans[1], 1500), 100*p(chans[1], 500), "right is ours")
			}
		})
	}
}

func goertzelPower(x []int16, f float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/8000)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + k*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// Mixing saturates instead of wrapping.
func TestRecorderMixSaturates(t *testing.T) {
	r, w, mf := testRecorder(t, RecordOptions{Channels: RecordMixed})
	feed(r, 1, func(_ int, a, b []int16) {
		for i := range a {
			a[i], b[i] = 30000, 30000
			if i%2 == 1 {
				a[i], b[i] = -30000, -30000
			}
		}
	})
	require.NoError(t, w.Close())
	_, ch := readBack(t, mf.b)
	require.Len(t, ch[0], 160)
	assert.EqualValues(t, math.MaxInt16, ch[0][0])
	assert.EqualValues(t, math.MinInt16, ch[0][1])
}

// Trimming: 1 s of silence, 1 s of tone, 3 s of silence becomes the tone with 100 ms
// of silence either side; the limits stop at the exact frame.
func TestRecorderTrimAndLimits(t *testing.T) {
	signal := func(i int, a, _ []int16) {
		clear(a)
		if i >= 50 && i < 100 {
			sineFrame(a, 700, 8000, i*160)
		}
	}
	t.Run("trim", func(t *testing.T) {
		r, w, mf := testRecorder(t, RecordOptions{TrimSilence: true, Silence: SilenceEnergy})
		feed(r, 250, signal)
		require.NoError(t, r.finish())
		require.NoError(t, w.Close())
		_, ch := readBack(t, mf.b)
		assert.Len(t, ch[0], 1200*8, "100 ms + 1 s + 100 ms")
		assert.Zero(t, ch[0][799], "leading margin is the silence before the tone")
		assert.NotZero(t, ch[0][801])
	})
	t.Run("silence timeout counts from the first sound", func(t *testing.T) {
		r, w, _ := testRecorder(t, RecordOptions{SilenceTimeout: 500 * time.Millisecond, Silence: SilenceEnergy})
		feed(r, 250, signal)
		assert.Equal(t, RecordSilence, r.stop)
		assert.EqualValues(t, 125, r.frames, "1 s before, 1 s of tone, 0.5 s after")
		require.NoError(t, w.Close())
		assert.Equal(t, 2500*time.Millisecond, w.Duration())
	})
	t.Run("silence timeout with trim", func(t *testing.T) {
		r, w, _ := testRecorder(t, RecordOptions{SilenceTimeout: 500 * time.Millisecond, TrimSilence: true, Silence: SilenceEnergy})
		feed(r, 250, signal)
		assert.Equal(t, RecordSilence, r.stop)
		require.NoError(t, r.finish())
		require.NoError(t, w.Close())
		assert.Equal(t, 1200*time.Millisecond, w.Duration())
	})
	t.Run("max length", func(t *testing.T) {
		r, w, _ := testRecorder(t, RecordOptions{MaxLength: 1500 * time.Millisecond})
		feed(r, 250, signal)
		assert.Equal(t, RecordMaxLength, r.stop)
		require.NoError(t, w.Close())
		assert.Equal(t, 1500*time.Millisecond, w.Duration())
	})
	t.Run("pause skips", func(t *testing.T) {
		r, w, _ := testRecorder(t, RecordOptions{MaxLength: time.Second})
		feed(r, 20, signal)
		r.paused = true
		feed(r, 100, signal)
		r.paused = false
		feed(r, 100, signal)
		assert.Equal(t, RecordMaxLength, r.stop, "paused frames do not count")
		assert.EqualValues(t, 50, r.frames)
		require.NoError(t, w.Close())
		assert.Equal(t, time.Second, w.Duration())
	})
}

// A plain io.Writer gets an "unknown length" header that media/wav reads to the end.
func TestStreamWriterHeader(t *testing.T) {
	var buf bytes.Buffer
	opts := RecordOptions{Writer: &buf, Channels: RecordDual}
	require.NoError(t, opts.validate())
	w, closeDst, err := openDestination(opts, 8000)
	require.NoError(t, err)
	x := make([]int16, 8000)
	sineFrame(x, 440, 8000, 0)
	require.NoError(t, w.WriteStereo(x, x))
	size, err := closeDst()
	require.NoError(t, err)
	b := buf.Bytes()
	assert.EqualValues(t, len(b), size)
	assert.Equal(t, "\xff\xff\xff\xff", string(b[4:8]), "RIFF size unknown")
	assert.Equal(t, "\xff\xff\xff\xff", string(b[40:44]), "data size unknown")
	r, err := wav.NewReader(bytes.NewReader(b), wav.Options{})
	require.NoError(t, err)
	n := 0
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		n += len(f.Samples)
	}
	assert.Equal(t, 8000, n)
}

// Options that cannot work are refused before anything starts.
func TestRecordOptionsValidate(t *testing.T) {
	for name, o := range map[string]RecordOptions{
		"no destination":  {},
		"two":             {Path: "x.wav", Writer: io.Discard},
		"channels":        {Path: "x", Channels: 7},
		"format":          {Path: "x", Format: 9},
		"negative":        {Path: "x", MaxLength: -1},
		"threshold":       {Path: "x", SilenceThreshold: 3},
		"endless beep":    {Path: "x", PlayBeep: true, Beep: media.Tone{Frequencies: []float64{1000}}},
		"silence unknown": {Path: "x", Silence: 9},
	} {
		assert.ErrorIs(t, o.validate(), ErrRecordOptions, name)
	}
	o := RecordOptions{Path: "x", PlayBeep: true}
	require.NoError(t, o.validate())
	assert.Equal(t, DefaultBeep(), o.Beep)
	assert.Equal(t, DefaultSilenceThreshold, o.SilenceThreshold)
}

// The per-frame path of a recording (hand-over through the rings, mixing, silence
// detection, trimming, WAV encoding) allocates nothing in steady state.
func TestRecorderAllocatesNothing(t *testing.T) {
	for name, opts := range map[string]RecordOptions{
		"caller":             {},
		"mixed":              {Channels: RecordMixed},
		"dual mu-law":        {Channels: RecordDual, Format: FormatWAVMuLaw},
		"dual trim vad":      {Channels: RecordDual, TrimSilence: true, SilenceTimeout: time.Hour, Silence: SilenceVAD},
		"caller trim energy": {TrimSilence: true, Silence: SilenceEnergy},
	} {
		opts.Writer = &nullFile{}
		r, w, _ := testRecorder(t, opts)
		a, b := make([]int16, 160), make([]int16, 160)
		i := 0
		step := func() {
			// Alternate a second of tone and a second of silence, so trimming
			// exercises both its rings.
			clear(a)
			if i/50%2 == 0 {
				sineFrame(a, 700, 8000, i*160)
			}
			sineFrame(b, 300, 800, i*160)
			i++
			r.caller.push(media.Frame{Samples: a, SampleRate: 8000})
			if r.sent != nil {
				r.sent.push(media.Frame{Samples: b, SampleRate: 8000})
			}
			r.drain()
		}
		for range 500 { // warm up: every buffer reaches its size
			step()
		}
		allocs := testing.AllocsPerRun(1000, step)
		assert.Zero(t, allocs, name)
		_ = w.Close()
	}
}

func BenchmarkRecorderFrame(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts RecordOptions
	}{
		{"caller", RecordOptions{}},
		{"dual", RecordOptions{Channels: RecordDual}},
		{"dual-trim-vad", RecordOptions{Channels: RecordDual, TrimSilence: true, Silence: SilenceVAD}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.opts.Writer = &nullFile{}
			r, w, _ := testRecorder(b, tc.opts)
			defer w.Close()
			a, s := make([]int16, 160), make([]int16, 160)
			sineFrame(a, 700, 8000, 0)
			sineFrame(s, 300, 8000, 0)
			fa, fs := media.Frame{Samples: a, SampleRate: 8000}, media.Frame{Samples: s, SampleRate: 8000}
			b.ReportAllocs()
			for b.Loop() {
				r.caller.push(fa)
				if r.sent != nil {
					r.sent.push(fs)
				}
				r.drain()
			}
		})
	}
}

// speech synthesises text with espeak-ng at 8 kHz.
func speech(t *testing.T, text string) []int16 {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatalf("espeak-ng not found in PATH: install the Debian package %q (apt-get install espeak-ng)", "espeak-ng")
	}
	path := filepath.Join(t.TempDir(), "speech.wav")
	out, err := exec.Command(bin, "-w", path, text).CombinedOutput()
	require.NoError(t, err, "%s", out)
	r, err := wav.Open(path, wav.Options{SampleRate: 8000})
	require.NoError(t, err)
	defer r.Close()
	var x []int16
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return x
		}
		require.NoError(t, err)
		x = append(x, f.Samples...)
	}
}

// With the VAD, a spoken message in line noise is trimmed to the speech and the
// recording stops once the caller has been quiet for the timeout; the noise alone
// neither counts as speech nor stops it before anyone spoke.
func TestRecorderVADSpeech(t *testing.T) {
	talk := speech(t, "Hello, this is a message for the voicemail. Please call me back.")
	rng := uint32(1)
	noise := func() int16 { // white noise at about -55 dBFS
		rng = rng*1664525 + 1013904223
		return int16(int32(rng>>16)%120 - 60)
	}
	// 2 s of noise, the speech, then 4 s of noise.
	var signal []int16
	for range 16000 {
		signal = append(signal, noise())
	}
	for _, v := range talk {
		signal = append(signal, v+noise())
	}
	for range 32000 {
		signal = append(signal, noise())
	}
	r, w, mf := testRecorder(t, RecordOptions{TrimSilence: true, SilenceTimeout: 1500 * time.Millisecond})
	require.NotNil(t, r.vad, "8 kHz picks the VAD")
	feed(r, len(signal)/160, func(i int, a, _ []int16) { copy(a, signal[i*160:]) })
	assert.Equal(t, RecordSilence, r.stop)
	require.NoError(t, r.finish())
	require.NoError(t, w.Close())
	_, ch := readBack(t, mf.b)
	got := time.Duration(len(ch[0])) * time.Second / 8000
	spoken := time.Duration(len(talk)) * time.Second / 8000
	t.Logf("speech %v (espeak-ng's file, its own silence included); trimmed recording %v", spoken, got)
	assert.Less(t, got, spoken+500*time.Millisecond, "the leading and trailing noise are gone")
	assert.Greater(t, got, spoken-time.Second, "the speech is kept")
	// Stopped 1.5 s (75 frames) after the speech ended, give or take the VAD's
	// hangover and espeak-ng's own trailing silence.
	assert.InDelta(t, (16000+len(talk))/160+75, r.frames, 25)
}
