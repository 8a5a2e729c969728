package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/baresip"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
)

// Layout of the caller's audio in TestSpeechMenu/accuracy.
const (
	// leadIn is the silence before the first word: the first Gather's voice activity
	// detector learns the line's noise from its first 100 ms.
	leadIn = 500 * time.Millisecond
	// pause follows each utterance. It must outlast the Gather's end silence (600 ms),
	// the start of the next Gather and its detector's 100 ms of noise learning.
	pause = time.Second
)

// utterance is one spoken answer in the caller's audio.
type utterance struct {
	voice  string // "flite/slt", "espeak-ng/en-us", ...
	text   string
	key    string // the menu key it stands for
	speech []int16
	// from and to place the speech in the caller's audio, in samples at the codec's
	// rate.
	from, to int
}

// The menu's words, each said by four flite voices and one of two espeak-ng voices, at
// the codec's rate. (How the menu's grammar takes words it does not hold is measured
// offline, on more words, by TestSpeechMenu/grammar.)
func menuUtterances(t *testing.T, rate int) []utterance {
	t.Helper()
	words := []struct{ text, key, espeak string }{
		{"one", "1", "en-us"}, {"two", "2", "en-us"}, {"three", "3", "en-us"},
		{"time", "1", "en-gb-x-rp"}, {"message", "2", "en-gb-x-rp"}, {"goodbye", "3", "en-gb-x-rp"},
	}
	flite := peer.RequireProgram(t, "flite", "flite")
	espeak := peer.RequireProgram(t, "espeak-ng", "espeak-ng")
	dir := t.TempDir()
	var out []utterance
	for _, w := range words {
		for _, v := range []string{"slt", "kal16", "awb", "rms"} {
			p := filepath.Join(dir, v+"-"+w.text+".wav")
			require.NoError(t, exec.Command(flite, "-voice", v, "-t", w.text, "-o", p).Run())
			out = append(out, utterance{voice: "flite/" + v, text: w.text, key: w.key, speech: trimmed(t, wavFile(t, p, rate), rate)})
		}
		b, err := exec.Command(espeak, "-v", w.espeak, "--stdout", w.text).Output()
		require.NoError(t, err)
		r, err := wav.NewReader(bytes.NewReader(b), wav.Options{SampleRate: rate})
		require.NoError(t, err)
		out = append(out, utterance{voice: "espeak-ng/" + w.espeak, text: w.text, key: w.key, speech: trimmed(t, readAll(r), rate)})
	}
	return out
}

func wavFile(t *testing.T, path string, rate int) []int16 {
	t.Helper()
	r, err := wav.Open(path, wav.Options{SampleRate: rate})
	require.NoError(t, err)
	defer r.Close()
	return readAll(r)
}

func readAll(r media.FrameReader) []int16 {
	var x []int16
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return x
		}
		x = append(x, f.Samples...)
	}
}

// trimmed cuts the silence around speech: from the first to the last 10 ms block above
// -45 dBFS.
func trimmed(t *testing.T, x []int16, rate int) []int16 {
	t.Helper()
	n := rate / 100
	first, last := -1, -1
	for i := 0; i+n <= len(x); i += n {
		if audiotest.RMSdBFS(x[i:i+n]) > -45 {
			if first < 0 {
				first = i
			}
			last = i + n
		}
	}
	require.GreaterOrEqual(t, first, 0, "no speech")
	return x[first:last]
}

// callerAudio lays the utterances out with pauses between them and records where each
// one is.
func callerAudio(utts []utterance, rate int) []int16 {
	x := make([]int16, media.SamplesPer(rate, leadIn))
	for i := range utts {
		utts[i].from = len(x)
		x = append(x, utts[i].speech...)
		utts[i].to = len(x)
		x = append(x, make([]int16, media.SamplesPer(rate, pause))...)
	}
	return x
}

// arrivals is a listener on the IVR's call that keeps what the caller sends, and when
// each frame was handed to the call's listeners (the Gather's recognizer among them).
type arrivals struct {
	rate int
	mu   sync.Mutex
	x    []int16
	at   []time.Time // per frame
	n    int         // samples per frame
}

func (a *arrivals) SampleRate() int { return a.rate }
func (a *arrivals) WriteFrame(f media.Frame) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n = len(f.Samples)
	a.x = append(a.x, f.Samples...)
	a.at = append(a.at, time.Now())
	return nil
}

// decision is one Gather's answer in the menu loop.
type decision struct {
	at  time.Time
	res call.GatherResult
	key string
}

// codecResult is what one call measured.
type codecResult struct {
	codec    string
	utts     []utterance
	answer   []*decision // per utterance: the first decision after it began, or nil
	extra    int         // decisions no utterance explains (a word split in two, noise)
	delays   []time.Duration
	lag      time.Duration // from the caller's audio start to its arrival at the IVR
	gathered int
}

// Issue 6's acceptance test: baresip calls the IVR and says menu words (flite's slt,
// kal16, awb and rms voices and espeak-ng's, 30 utterances) over a narrowband (PCMU) and
// a wideband (G.722) call, both at once. The IVR's handler runs the menu's Gather
// (Menu.gatherOptions: keys or the menu's words through a pocketsphinx grammar) in a
// loop without prompts, one Gather per utterance, each ending at the end of speech;
// every answer is matched to the utterance it followed. The right branch must be taken
// for the flite voices; espeak-ng, which pocketsphinx recognises badly, is reported
// apart. The delay from the caller's last word (as it reached the IVR) to the Gather's
// result is reported too.
//
//	go test -race -run TestSpeechMenu/accuracy -v ./examples/ivr
//
// It runs as TestSpeechMenu/accuracy.
func testSpeechMenuAccuracy(t *testing.T) {
	rec, err := pocketsphinx.New(pocketsphinx.Config{NoLanguageModel: true})
	require.NoError(t, err)
	require.NoError(t, rec.Preload(1, 8000, 16000))
	t.Cleanup(func() { _ = rec.Close() })
	results := make(chan codecResult, 2)
	// The two calls run at once, each in its own subtest; they are started from
	// goroutines rather than marked parallel so that they do not queue for the
	// package's parallel slots (GOMAXPROCS) behind the other tests: they mostly wait.
	var wg sync.WaitGroup
	for _, codec := range []baresip.Codec{baresip.PCMU, baresip.G722} {
		wg.Go(func() {
			t.Run(string(codec[:4]), func(t *testing.T) {
				r := menuCall(t, rec, codec)
				results <- r
				flite := tally(r, menuFlite)
				// Floors below what was measured (24/24 for both codecs in every run so
				// far), so that a regression fails and the machine's noise does not.
				assert.GreaterOrEqual(t, flite.right, flite.total-3, "%s: right branch for the flite voices", r.codec)
				assert.LessOrEqual(t, r.extra, 3, "%s: answers that followed no utterance", r.codec)
			})
		})
	}
	wg.Wait()
	close(results)
	var all []time.Duration
	for r := range results {
		all = append(all, r.delays...)
	}
	if len(all) > 0 {
		t.Logf("delay from the last word to the result, both codecs: median %v over %d answers", median(all), len(all))
	}
}

type score struct{ right, total int }

// Utterance classes.
func menuFlite(u utterance) bool  { return strings.HasPrefix(u.voice, "flite/") }
func menuEspeak(u utterance) bool { return strings.HasPrefix(u.voice, "espeak-ng/") }

func tally(r codecResult, keep func(utterance) bool) score {
	var s score
	for i, u := range r.utts {
		if !keep(u) {
			continue
		}
		s.total++
		if d := r.answer[i]; d != nil && d.key == u.key {
			s.right++
		}
	}
	return s
}

// menuCall runs one call: baresip says every utterance, the IVR gathers in a loop.
func menuCall(t *testing.T, rec *pocketsphinx.Recognizer, codec baresip.Codec) codecResult {
	rate := codec.Rate()
	mcodec := media.PCMU()
	if codec == baresip.G722 {
		mcodec = media.G722()
	}
	utts := menuUtterances(t, rate)
	audio := callerAudio(utts, rate)

	type loop struct {
		start     time.Time
		tap       *arrivals
		decisions []*decision
	}
	done := make(chan loop, 1)
	handler := call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		var l loop
		defer func() { done <- l }()
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		l.start = time.Now()
		m, err := c.Media()
		if err != nil {
			return err
		}
		l.tap = &arrivals{rate: m.SampleRate()}
		stop, err := c.Listen(l.tap)
		if err != nil {
			return err
		}
		defer stop()
		o := Menu{Speech: true}.gatherOptions()
		o.Prompt, o.InvalidPrompt, o.MaxAttempts = call.Prompt{}, call.Prompt{}, 1
		o.Speech.NoInputTimeout, o.Timeout = -1, -1
		for {
			res, err := c.Gather(ctx, o)
			if err != nil {
				return nil // the caller hung up
			}
			l.decisions = append(l.decisions, &decision{at: time.Now(), res: res, key: choice(res)})
		}
	})
	sb, err := switchboard.New(switchboard.Config{MediaTimeout: -1, STT: rec, Codecs: media.CodecSet{mcodec},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Handler: handler})
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, sb.Start(conn))
	t.Cleanup(func() { _ = sb.Close() })

	ua := baresip.Start(t, baresip.Options{Codecs: []baresip.Codec{codec}, Audio: audio, Pad: time.Second})
	length := time.Duration(len(audio)) * time.Second / time.Duration(rate)
	ctx, cancel := context.WithTimeout(context.Background(), length+30*time.Second)
	defer cancel()
	require.NoError(t, ua.Dial(ctx, sb.URI("ivr")))
	_, err = ua.WaitEvent(ctx, baresip.EventCallEstablished)
	require.NoError(t, err)
	_, err = ua.WaitEvent(ctx, baresip.EventCallClosed) // at the end of its audio
	require.NoError(t, err)
	var l loop
	select {
	case l = <-done:
	case <-ctx.Done():
		t.Fatal("the IVR's handler did not end")
	}
	require.NotNil(t, l.tap)

	r := codecResult{codec: string(codec[:4]), utts: utts, answer: make([]*decision, len(utts)), gathered: len(l.decisions)}
	// Align the caller's audio with what arrived: the first loud block of each.
	l.tap.mu.Lock()
	heard, at, n := l.tap.x, l.tap.at, l.tap.n
	l.tap.mu.Unlock()
	require.NotZero(t, n, "no audio reached the IVR")
	onset := -1
	for i := 0; i+n <= len(heard); i += n {
		if audiotest.RMSdBFS(heard[i:i+n]) > -45 {
			onset = i
			break
		}
	}
	require.GreaterOrEqual(t, onset, 0, "no speech reached the IVR")
	shift := onset - (utts[0].from/n)*n // caller sample s arrived as heard sample s+shift
	r.lag = at[onset/n].Sub(l.start) - time.Duration(utts[0].from)*time.Second/time.Duration(rate)
	// Where in the caller's audio each decision came.
	pos := func(tm time.Time) int {
		k := sort.Search(len(at), func(i int) bool { return at[i].After(tm) })
		return k*n - shift
	}
	for _, d := range l.decisions {
		p := pos(d.at)
		k := sort.Search(len(utts), func(i int) bool { return utts[i].from > p }) - 1
		if k < 0 || r.answer[k] != nil {
			r.extra++
			continue
		}
		r.answer[k] = d
		if end := (utts[k].to + shift) / n; end < len(at) {
			r.delays = append(r.delays, d.at.Sub(at[end]))
		}
	}
	report(t, r)
	return r
}

// report logs the accuracy per voice and the delays.
func report(t *testing.T, r codecResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d utterances, %d answers (%d not after an utterance); caller audio reached the IVR %v after answer\n",
		r.codec, len(r.utts), r.gathered, r.extra, r.lag.Round(time.Millisecond))
	var voices []string
	for _, u := range r.utts {
		if !slices.Contains(voices, u.voice) {
			voices = append(voices, u.voice)
		}
	}
	line := func(name string, keep func(utterance) bool) {
		s := tally(r, keep)
		var wrong []string
		for i, u := range r.utts {
			if !keep(u) {
				continue
			}
			switch d := r.answer[i]; {
			case d == nil:
				wrong = append(wrong, fmt.Sprintf("%s→(none)", u.text))
			case d != nil && d.key != u.key:
				wrong = append(wrong, fmt.Sprintf("%s→%q(%s)", u.text, d.res.Transcript, d.res.Status))
			}
		}
		fmt.Fprintf(&b, "  %-22s %d/%d right %s\n", name, s.right, s.total, strings.Join(wrong, " "))
	}
	for _, v := range voices {
		line(v, func(u utterance) bool { return u.voice == v })
	}
	fl, es := tally(r, menuFlite), tally(r, menuEspeak)
	fmt.Fprintf(&b, "  flite %d/%d (%.0f%%), espeak-ng %d/%d\n",
		fl.right, fl.total, 100*float64(fl.right)/float64(fl.total), es.right, es.total)
	if len(r.delays) > 0 {
		d := slices.Clone(r.delays)
		slices.Sort(d)
		fmt.Fprintf(&b, "  last word to result: median %v, min %v, max %v (%d answers)",
			median(d).Round(time.Millisecond), d[0].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond), len(d))
	}
	t.Log(b.String())
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}
