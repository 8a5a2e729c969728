package switchboard_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
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

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/sip"
)

// recPair starts two Switchboards and calls from one to the other. rec is the
// answering leg, which records; far is the dialling leg, the "caller" whose audio rec
// records. Both use codecs (PCMU when empty).
func recPair(t *testing.T, codecs media.CodecSet) (rec, far *call.Call) {
	t.Helper()
	if len(codecs) == 0 {
		codecs = media.CodecSet{media.PCMU()}
	}
	calls := make(chan *call.Call, 1)
	cfg := switchboard.Config{MediaTimeout: -1, Codecs: codecs}
	acfg := cfg
	acfg.Handler = call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		calls <- c
		<-ctx.Done()
		return nil
	})
	a := startWith(t, acfg)
	b := startWith(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	far, err := b.Dial(ctx, a.URI("rec"), call.DialOptions{})
	require.NoError(t, err)
	select {
	case rec = <-calls:
	case <-ctx.Done():
		t.Fatal("the call was not answered")
	}
	return rec, far
}

// playOut plays d of a sine of freq Hz on c and waits until it has been sent.
func playOut(t *testing.T, c *call.Call, freq float64, d time.Duration) {
	t.Helper()
	playTone(t, c, freq, d)
	m, err := c.Media()
	require.NoError(t, err)
	require.NoError(t, m.WaitPlayout(context.Background()))
}

// pause waits d of the far end's silence: frames of silence are sent meanwhile.
func pause(d time.Duration) { time.Sleep(d) }

// wavChannels reads a recording: its header and the samples of each channel.
func wavChannels(t *testing.T, b []byte) (wav.Header, [][]int16) {
	t.Helper()
	r, err := wav.NewReader(bytes.NewReader(b), wav.Options{})
	require.NoError(t, err)
	h := r.Header()
	require.NoError(t, r.Close())
	data := b[h.DataOffset:]
	if h.DataSize >= 0 {
		require.LessOrEqual(t, h.DataSize, int64(len(data)), "the header claims no more than the file holds")
		data = data[:h.DataSize]
	}
	chans := make([][]int16, h.Channels)
	for i := 0; i+h.BlockAlign <= len(data); i += h.BlockAlign {
		for c := range h.Channels {
			switch h.Format {
			case wav.FormatMuLaw:
				chans[c] = append(chans[c], g711.DecodeUlawFrame(data[i+c]))
			case wav.FormatPCM:
				chans[c] = append(chans[c], int16(binary.LittleEndian.Uint16(data[i+2*c:])))
			default:
				t.Fatalf("unexpected format %v", h.Format)
			}
		}
	}
	return h, chans
}

func readWAVFile(t *testing.T, path string) (wav.Header, [][]int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return wavChannels(t, b)
}

// soxi runs soxi with one option on path and returns its answer.
func soxi(t *testing.T, opt, path string) string {
	t.Helper()
	if _, err := exec.LookPath("soxi"); err != nil {
		t.Fatalf("soxi not found in PATH: install the Debian package %q (apt-get install sox)", "sox")
	}
	out, err := exec.Command("soxi", opt, path).CombinedOutput()
	require.NoError(t, err, "soxi %s %s: %s", opt, path, out)
	return strings.TrimSpace(string(out))
}

// power returns the Goertzel power of x at f relative to that at ref, in dB.
func powerRatioDB(x []int16, rate int, f, ref float64) float64 {
	return audiotest.PowerDB(audiotest.Goertzel(x, rate, f)) - audiotest.PowerDB(audiotest.Goertzel(x, rate, ref))
}

func within(t *testing.T, got, want, tol time.Duration, msg string) {
	t.Helper()
	assert.InDelta(t, want.Seconds(), got.Seconds(), tol.Seconds(), "%s: %v, want %v ± %v", msg, got, want, tol)
}

// The caller's audio, mono, to a file: the far end plays a tone, the WAV holds it at
// the call's rate (8 kHz with PCMU, 16 kHz with G.722), and the result describes the
// file.
func TestRecordCallerMono(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		codec media.Codec
		rate  int
	}{{"PCMU", media.PCMU(), 8000}, {"G722", media.G722(), 16000}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, far := recPair(t, media.CodecSet{tc.codec})
			path := filepath.Join(t.TempDir(), "caller.wav")
			ctx := context.Background()
			r, err := rec.Record(ctx, call.RecordOptions{Path: path, ID: "rec-1"})
			require.NoError(t, err)
			assert.Equal(t, "rec-1", r.ID())
			playOut(t, far, 700, time.Second)
			pause(100 * time.Millisecond)
			res, err := r.Stop(ctx)
			require.NoError(t, err)

			h, ch := readWAVFile(t, path)
			require.Len(t, ch, 1)
			assert.Equal(t, tc.rate, h.SampleRate)
			assert.Equal(t, wav.FormatPCM, h.Format)
			checkTone(t, "recording", ch[0], tc.rate, 700)
			assert.Equal(t, call.RecordStopped, res.Reason)
			assert.Equal(t, path, res.Path)
			assert.Equal(t, 1, res.Channels)
			assert.Equal(t, tc.rate, res.SampleRate)
			assert.Equal(t, call.FormatWAV, res.Format)
			assert.Equal(t, call.RecordCaller, res.Layout)
			assert.Equal(t, h.Duration(), res.Duration)
			t.Logf("%v of audio recorded in %v", res.Duration, res.EndedAt.Sub(res.StartedAt).Round(time.Millisecond))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, fi.Size(), res.Size)
			assert.Zero(t, res.FramesLost)
			assert.ErrorIs(t, r.Pause(), call.ErrRecordingDone)
			res2, err := r.Stop(ctx) // idempotent
			require.NoError(t, err)
			assert.Equal(t, res, res2)
		})
	}
}

// Dual channel: the caller (tone A) left, us (tone B) right, and the two stay in step;
// mixed mono holds both tones; two recordings of one call run at once.
func TestRecordDualAndMixed(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	dir := t.TempDir()
	ctx := context.Background()
	dual, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(dir, "dual.wav"), Channels: call.RecordDual})
	require.NoError(t, err)
	mixed, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(dir, "mixed.wav"), Channels: call.RecordMixed})
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); playOut(t, far, 500, 1200*time.Millisecond) }()
	playOut(t, rec, 1300, 1200*time.Millisecond)
	<-done
	pause(100 * time.Millisecond)
	dres, err := dual.Stop(ctx)
	require.NoError(t, err)
	mres, err := mixed.Stop(ctx)
	require.NoError(t, err)

	assert.Equal(t, 2, dres.Channels)
	h, ch := readWAVFile(t, dres.Path)
	require.Equal(t, 2, h.Channels)
	require.Len(t, ch, 2)
	checkTone(t, "left (caller)", ch[0], 8000, 500)
	checkTone(t, "right (us)", ch[1], 8000, 1300)
	assert.Less(t, powerRatioDB(ch[0], 8000, 1300, 500), -30.0, "our tone stays out of the caller's channel")
	assert.Less(t, powerRatioDB(ch[1], 8000, 500, 1300), -30.0, "the caller's tone stays out of ours")

	assert.Equal(t, 1, mres.Channels)
	_, m := readWAVFile(t, mres.Path)
	from, to, ok := audiotest.ActiveSpan(m[0], 8000, 20*time.Millisecond, -30)
	require.True(t, ok)
	seg := m[0][from:to]
	assert.InDelta(t, 0, powerRatioDB(seg, 8000, 500, 1300), 6, "both tones, at similar levels")
	assert.Greater(t, powerRatioDB(seg, 8000, 500, 900), 30.0, "tones, not noise")
	assert.Zero(t, dres.FramesLost+mres.FramesLost)
}

// μ-law: the file is WAV format 7, read back by media/wav and by SoX.
func TestRecordMuLaw(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	path := filepath.Join(t.TempDir(), "mulaw.wav")
	ctx := context.Background()
	r, err := rec.Record(ctx, call.RecordOptions{Path: path, Format: call.FormatWAVMuLaw, Channels: call.RecordDual})
	require.NoError(t, err)
	playOut(t, far, 800, time.Second)
	res, err := r.Stop(ctx)
	require.NoError(t, err)
	assert.Equal(t, call.FormatWAVMuLaw, res.Format)

	h, ch := readWAVFile(t, path)
	assert.Equal(t, wav.FormatMuLaw, h.Format)
	assert.Equal(t, 8, h.BitsPerSample)
	checkTone(t, "μ-law left", ch[0], 8000, 800)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), res.Size)
	assert.Equal(t, int64(58)+h.DataSize+h.DataSize&1, res.Size, "header with fact chunk, data, pad")

	assert.Equal(t, "u-law", soxi(t, "-e", path))
	assert.Equal(t, "8000", soxi(t, "-r", path))
	assert.Equal(t, "2", soxi(t, "-c", path))
	secs, err := strconv.ParseFloat(soxi(t, "-D", path), 64)
	require.NoError(t, err)
	assert.InDelta(t, res.Duration.Seconds(), secs, 0.001, "SoX reads the duration the header gives")
}

// plainWriter hides bytes.Buffer's other methods: a writer that cannot seek.
type plainWriter struct{ buf bytes.Buffer }

func (p *plainWriter) Write(b []byte) (int, error) { return p.buf.Write(b) }

// Any io.Writer: a plain one gets the streaming header ("unknown" sizes) and the audio;
// an *os.File handed in as a Writer gets exact sizes.
func TestRecordToWriter(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx := context.Background()
	var pw plainWriter
	f, err := os.Create(filepath.Join(t.TempDir(), "seekable.wav"))
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteString("prefix") // the WAV starts where the file stands
	require.NoError(t, err)
	r1, err := rec.Record(ctx, call.RecordOptions{Writer: &pw})
	require.NoError(t, err)
	r2, err := rec.Record(ctx, call.RecordOptions{Writer: f})
	require.NoError(t, err)
	playOut(t, far, 650, time.Second)
	res1, err := r1.Stop(ctx)
	require.NoError(t, err)
	res2, err := r2.Stop(ctx)
	require.NoError(t, err)

	b := pw.buf.Bytes()
	assert.Equal(t, int64(len(b)), res1.Size)
	assert.Empty(t, res1.Path)
	assert.Equal(t, "\xff\xff\xff\xff", string(b[4:8]))
	h, ch := wavChannels(t, b)
	assert.EqualValues(t, -1, h.DataSize, "open-ended")
	checkTone(t, "plain writer", ch[0], 8000, 650)
	assert.Equal(t, time.Duration(len(ch[0]))*time.Second/8000, res1.Duration)

	all, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	require.Equal(t, "prefix", string(all[:6]))
	assert.Equal(t, int64(len(all)-6), res2.Size)
	h2, ch2 := wavChannels(t, all[6:])
	assert.Equal(t, res2.Duration, h2.Duration(), "exact sizes, finalised on close")
	checkTone(t, "file writer", ch2[0], 8000, 650)
}

// MaxLength stops the recording at exactly that much audio.
func TestRecordMaxLength(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	go playTone(t, far, 600, 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(t.TempDir(), "m.wav"), MaxLength: 700 * time.Millisecond})
	require.NoError(t, err)
	res, err := r.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, call.RecordMaxLength, res.Reason)
	assert.Equal(t, 700*time.Millisecond, res.Duration)
}

// SilenceTimeout stops the recording once the caller has been quiet that long after
// speaking; the silence before the first sound does not count.
func TestRecordSilenceStop(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rec.Record(ctx, call.RecordOptions{
		Path: filepath.Join(t.TempDir(), "s.wav"), SilenceTimeout: 800 * time.Millisecond, Silence: call.SilenceEnergy,
	})
	require.NoError(t, err)
	pause(1200 * time.Millisecond) // longer than the timeout, but before any sound
	playOut(t, far, 600, 500*time.Millisecond)
	res, err := r.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, call.RecordSilence, res.Reason)
	_, ch := readWAVFile(t, res.Path)
	from, to, ok := audiotest.ActiveSpan(ch[0], 8000, 20*time.Millisecond, -40)
	require.True(t, ok)
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second / 8000 }
	t.Logf("recorded %v: %v of silence, %v of tone, %v of silence", res.Duration, sec(from), sec(to-from), sec(len(ch[0])-to))
	assert.Greater(t, sec(from), 900*time.Millisecond, "the silence before the tone did not stop it")
	within(t, sec(to-from), 500*time.Millisecond, 60*time.Millisecond, "the tone")
	within(t, sec(len(ch[0])-to), 800*time.Millisecond, 60*time.Millisecond, "it stopped after 800 ms of silence")
}

// A termination digit from the far end (RFC 4733) stops the recording; other digits
// do not.
func TestRecordTerminationDigit(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(t.TempDir(), "d.wav"), TerminationDigits: "#*"})
	require.NoError(t, err)
	require.NoError(t, far.SendDTMF(ctx, "12", 80*time.Millisecond))
	pause(300 * time.Millisecond)
	select {
	case <-r.Done():
		t.Fatal("a digit not in TerminationDigits stopped the recording")
	default:
	}
	require.NoError(t, far.SendDTMF(ctx, "#", 80*time.Millisecond))
	res, err := r.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, call.RecordDigit, res.Reason)
	assert.Equal(t, '#', res.Digit)
}

// PlayBeep: the far end hears the beep; Record returns once it has been sent, and the
// recording (our side on the right) starts after it.
func TestRecordBeepFirst(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	heard := make(chan []int16, 1)
	go func() {
		x, _ := record(t, far, 1500*time.Millisecond)
		heard <- x
	}()
	pause(200 * time.Millisecond)
	began := time.Now()
	r, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(t.TempDir(), "b.wav"), Channels: call.RecordDual, PlayBeep: true})
	require.NoError(t, err)
	t.Logf("Record returned %v after it was called (400 ms beep)", time.Since(began).Round(time.Millisecond))
	playOut(t, rec, 500, 400*time.Millisecond) // something of ours after the beep
	res, err := r.Stop(ctx)
	require.NoError(t, err)

	x := <-heard
	checkBeep := audiotest.Goertzel(x, 8000, 1000)
	assert.Greater(t, audiotest.PowerDB(checkBeep)-audiotest.PowerDB(audiotest.Goertzel(x, 8000, 700)), 30.0, "the far end heard the 1 kHz beep")
	from, to, ok := audiotest.ActiveSpan(x, 8000, 20*time.Millisecond, -30)
	require.True(t, ok)
	beep := x[from:to]
	assert.InDelta(t, 1000, audiotest.DominantFrequency(beep[:1600], 8000, 100, 3900, 1), 5, "the first sound the far end hears is the beep")

	_, ch := readWAVFile(t, res.Path)
	right := ch[1]
	assert.Less(t, powerRatioDB(right, 8000, 1000, 500), -30.0, "the beep is not in the recording")
	checkTone(t, "our side after the beep", right, 8000, 500)
}

// Pause leaves the paused audio out: the duration excludes it, and what the caller
// played meanwhile is not in the file.
func TestRecordPauseResume(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx := context.Background()
	r, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(t.TempDir(), "p.wav")})
	require.NoError(t, err)
	playOut(t, far, 500, 500*time.Millisecond)
	pause(150 * time.Millisecond) // the tone's last packets reach us
	require.NoError(t, r.Pause())
	playOut(t, far, 1100, 800*time.Millisecond)
	pause(150 * time.Millisecond)
	require.NoError(t, r.Resume())
	playOut(t, far, 500, 500*time.Millisecond)
	pause(150 * time.Millisecond)
	res, err := r.Stop(ctx)
	require.NoError(t, err)
	_, ch := readWAVFile(t, res.Path)
	assert.Less(t, powerRatioDB(ch[0], 8000, 1100, 500), -25.0, "the paused tone is not in the file")
	var loud int // 20 ms blocks of the 500 Hz tone
	for off := 0; off+160 <= len(ch[0]); off += 160 {
		if audiotest.RMSdBFS(ch[0][off:off+160]) > -30 {
			loud++
		}
	}
	within(t, time.Duration(loud)*20*time.Millisecond, time.Second, 80*time.Millisecond, "both halves of the tone are there")
	// About 650 ms before the pause and as much after; with the 950 ms in between it
	// would be over 2 s.
	assert.Less(t, res.Duration, 1800*time.Millisecond, "paused time is left out")
	t.Logf("recorded %v", res.Duration)
}

// TrimSilence drops the silence before the first and after the last sound, keeping
// 100 ms at each end.
func TestRecordTrim(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx := context.Background()
	r, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(t.TempDir(), "t.wav"), TrimSilence: true, Silence: call.SilenceEnergy})
	require.NoError(t, err)
	pause(time.Second)
	playOut(t, far, 700, time.Second)
	pause(1500 * time.Millisecond)
	res, err := r.Stop(ctx)
	require.NoError(t, err)
	within(t, res.Duration, 1200*time.Millisecond, 60*time.Millisecond, "tone plus 100 ms either side")
	_, ch := readWAVFile(t, res.Path)
	lead := ch[0][:700] // the first 88 ms: the margin of silence
	assert.Less(t, audiotest.RMSdBFS(lead), -50.0)
	checkTone(t, "trimmed", ch[0], 8000, 700)
}

// The file on disk is a valid WAV file while the recording runs, describing all but at
// most about the last second: what a crash would leave.
func TestRecordFileValidWhileRecording(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	go playTone(t, far, 600, 4*time.Second)
	path := filepath.Join(t.TempDir(), "live.wav")
	ctx := context.Background()
	// A reference consumer of the same audio: how much the recording has been given.
	ref := &collector{rate: 8000}
	stop, err := rec.Listen(ref)
	require.NoError(t, err)
	defer stop()
	r, err := rec.Record(ctx, call.RecordOptions{Path: path})
	require.NoError(t, err)
	given := func() time.Duration {
		ref.mu.Lock()
		defer ref.mu.Unlock()
		return time.Duration(len(ref.x)) * time.Second / 8000
	}
	for _, after := range []time.Duration{300 * time.Millisecond, 1500 * time.Millisecond, 2700 * time.Millisecond} {
		for given() < after {
			pause(10 * time.Millisecond)
		}
		// A copy of the file as it is now: what a crash at this moment leaves.
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		heard := given()
		h, ch := wavChannels(t, b)
		got := h.Duration()
		if got < 0 { // nothing synced yet: the data size is still open, the audio is what there is
			got = time.Duration(len(ch[0])) * time.Second / 8000
		}
		t.Logf("after %v of audio: the file holds %v (%d bytes)", heard, got, len(b))
		assert.LessOrEqual(t, got, heard)
		assert.GreaterOrEqual(t, got, heard-1200*time.Millisecond, "at most about a second is missing")
		snap := filepath.Join(t.TempDir(), "snapshot.wav")
		require.NoError(t, os.WriteFile(snap, b, 0o600))
		secs, err := strconv.ParseFloat(soxi(t, "-D", snap), 64)
		require.NoError(t, err)
		if h.DataSize >= 0 {
			assert.InDelta(t, got.Seconds(), secs, 0.001, "SoX agrees")
		}
	}
	res, err := r.Stop(ctx)
	require.NoError(t, err)
	within(t, res.Duration, given(), 100*time.Millisecond, "the whole recording")
}

// A recording running when the call ends is finished with reason hangup, and its
// call.recording.saved event, with every field, comes before call.hangup.
func TestRecordSavedEventOnHangup(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "e.wav")
	r, err := rec.Record(ctx, call.RecordOptions{Path: path, ID: "vm-7", Channels: call.RecordDual, Format: call.FormatWAVMuLaw})
	require.NoError(t, err)
	playOut(t, far, 600, 600*time.Millisecond)
	require.NoError(t, far.Hangup(ctx, sip.CauseNormalClearing))

	var saved *call.RecordingSaved
	var names []string
	for ev := range rec.Events() {
		names = append(names, ev.Name())
		if s, ok := ev.(call.RecordingSaved); ok {
			saved = &s
		}
	}
	require.NotNil(t, saved, "events: %v", names)
	n := len(names)
	require.GreaterOrEqual(t, n, 2)
	assert.Equal(t, []string{"call.recording.saved", "call.hangup"}, names[n-2:])
	assert.Equal(t, "vm-7", saved.ID)
	assert.Equal(t, path, saved.Path)
	assert.Equal(t, call.RecordHangup, saved.Reason)
	assert.Equal(t, 2, saved.Channels)
	assert.Equal(t, call.RecordDual, saved.Layout)
	assert.Equal(t, call.FormatWAVMuLaw, saved.Format)
	assert.Equal(t, "wav-mulaw", saved.Format.String())
	assert.Equal(t, 8000, saved.SampleRate)
	assert.NoError(t, saved.Err)
	assert.False(t, saved.When().Before(saved.EndedAt))
	assert.True(t, saved.EndedAt.After(saved.StartedAt))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), saved.Size)
	h, _ := readWAVFile(t, path)
	assert.Equal(t, h.Duration(), saved.Duration)
	assert.Greater(t, saved.Duration, 500*time.Millisecond)
	res, err := r.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, saved.RecordingResult, res)
	_, err = rec.Record(ctx, call.RecordOptions{Path: path})
	assert.ErrorIs(t, err, call.ErrCallEnded)
}

// Cancelling Record's ctx ends the recording (cancelled), not the call; a destination
// that fails ends it with call.recording.error.
func TestRecordCancelAndWriteError(t *testing.T) {
	t.Parallel()
	rec, _ := recPair(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := rec.Record(ctx, call.RecordOptions{Path: filepath.Join(t.TempDir(), "c.wav")})
	require.NoError(t, err)
	pause(200 * time.Millisecond)
	cancel()
	res, err := r.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, call.RecordCancelled, res.Reason)
	assert.Equal(t, call.StateAnswered, rec.State())

	fw := &failingWriter{after: 3000}
	r, err = rec.Record(context.Background(), call.RecordOptions{Writer: fw})
	require.NoError(t, err)
	res, err = r.Wait(context.Background())
	require.ErrorIs(t, err, errDiskFull)
	assert.Equal(t, call.RecordFailed, res.Reason)
	assert.ErrorIs(t, res.Err, errDiskFull)

	_, err = rec.Record(context.Background(), call.RecordOptions{Path: filepath.Join(t.TempDir(), "no", "such", "dir.wav")})
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = rec.Record(context.Background(), call.RecordOptions{})
	assert.ErrorIs(t, err, call.ErrRecordOptions)
}

var errDiskFull = errors.New("disk full")

// failingWriter accepts after bytes, then fails.
type failingWriter struct{ after, n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.after {
		return 0, errDiskFull
	}
	w.n += len(p)
	return len(p), nil
}

// Live audio as byte streams: the far end writes 16 kHz PCM bytes (resampled to the
// call's 8 kHz), we read them back at 16 kHz with PCMReader while an AudioReader and a
// recording consume the same audio; at hangup the byte reader ends with io.EOF.
func TestPCMReaderWriter(t *testing.T) {
	t.Parallel()
	rec, far := recPair(t, nil)
	pr, err := rec.PCMReader(16000)
	require.NoError(t, err)
	defer pr.Close()
	ar, err := rec.AudioReader(0)
	require.NoError(t, err)
	defer ar.Close()
	r, err := rec.Record(context.Background(), call.RecordOptions{Writer: io.Discard})
	require.NoError(t, err)

	pw, err := far.PCMWriter(16000)
	require.NoError(t, err)
	samples := audiotest.Sine(16000, 440, time.Second, -9)
	raw := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(s))
	}
	go func() {
		// Odd-sized writes, as a byte stream delivers them.
		for off := 0; off < len(raw); off += 333 {
			if _, err := pw.Write(raw[off:min(off+333, len(raw))]); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()

	framesc := make(chan []int16, 1)
	go func() { // a consumer of its own, at the same time
		var frames []int16
		for len(frames) < 8000*1300/1000 {
			f, err := ar.ReadFrame()
			if err != nil {
				break
			}
			frames = append(frames, f.Samples...)
		}
		framesc <- frames
	}()
	buf := make([]byte, 2*16000*1300/1000)
	_, err = io.ReadFull(pr, buf)
	require.NoError(t, err)
	got := make([]int16, len(buf)/2)
	for i := range got {
		got[i] = int16(binary.LittleEndian.Uint16(buf[2*i:]))
	}
	checkTone(t, "PCMReader at 16 kHz", got, 16000, 440)
	checkTone(t, "AudioReader at 8 kHz", <-framesc, 8000, 440)
	assert.Zero(t, ar.Overruns())

	require.NoError(t, far.Hangup(context.Background(), sip.CauseNormalClearing))
	rest, err := io.Copy(io.Discard, pr)
	assert.NoError(t, err, "io.Copy ends cleanly at the end of the call")
	t.Logf("read %d more bytes to the end", rest)
	res, err := r.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, call.RecordHangup, res.Reason)
	require.NoError(t, pr.Close())
	_, err = pr.Read(buf)
	assert.Error(t, err)
	_, err = rec.PCMWriter(0)
	assert.ErrorIs(t, err, call.ErrCallEnded)
}
