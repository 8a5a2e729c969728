package pocketsphinx

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// The test corpus: what callers of a voice application say. Utterances are made with
// flite at test time.
var (
	digitUtts = []string{
		"one two three four",
		"five six seven",
		"eight nine zero",
		"two oh four one",
		"nine eight seven six five",
		"three one four one five",
	}
	yesNoUtts = []string{
		"yes", "no", "yes please", "no thank you", "yeah", "nope", "sure", "no thanks",
	}
	menuUtts = []string{
		"sales", "support", "billing", "technical support", "operator",
	}
	sentenceUtts = []string{
		"please transfer me to the sales department",
		"i would like to check my account balance",
		"can i speak to a representative",
		"my order has not arrived yet",
		"i want to cancel my subscription",
		"what are your opening hours",
	}
)

// allUtts is the whole corpus, 25 utterances.
func allUtts() []string { return slices.Concat(digitUtts, yesNoUtts, menuUtts, sentenceUtts) }

// corpusRun is the outcome of decoding a corpus in one session.
type corpusRun struct {
	refs, hyps  []string // per utterance (hyps: finals whose times fall in its span)
	errs, words int
	sentOK      int
	audio, wall time.Duration
	cpu         time.Duration // process CPU time (user+system) while decoding
	finals      int
}

func (c corpusRun) wer() float64    { return float64(c.errs) / float64(max(c.words, 1)) }
func (c corpusRun) rtf() float64    { return c.wall.Seconds() / c.audio.Seconds() }
func (c corpusRun) cpuRTF() float64 { return c.cpu.Seconds() / c.audio.Seconds() }

// cpuTime is the CPU time used by the process so far. Decoding runs on the test's
// goroutines only, so differences measure it even when the machine is busy.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// span is where an utterance lies in a corpus stream.
type span struct{ from, to time.Duration }

// streamCache memoises corpus streams: making the telephone version is not free under
// the race detector.
var streamCache sync.Map

type cachedStream struct {
	audio []int16
	spans []span
}

// corpusAudio speaks the utterances with voice and joins them into one stream with
// 0.8 s pauses, at rate Hz: through a μ-law telephone channel when rate is 8000.
func corpusAudio(t testing.TB, voice string, rate int, utts []string) ([]int16, []span) {
	t.Helper()
	key := fmt.Sprint(voice, "|", rate, "|", strings.Join(utts, "|"))
	if v, ok := streamCache.Load(key); ok {
		c := v.(cachedStream)
		return c.audio, c.spans
	}
	synthAll(t, voice, utts, 16000)
	const gap = 0.8 // seconds of silence between utterances
	spans := make([]span, len(utts))
	audio := silence(16000, 0.3)
	for i, u := range utts {
		pcm := synth(t, voice, u, 16000)
		spans[i].from = time.Duration(len(audio)) * time.Second / 16000
		audio = append(audio, pcm...)
		spans[i].to = time.Duration(len(audio)) * time.Second / 16000
		audio = append(audio, silence(16000, gap)...)
	}
	if rate == 8000 {
		audio = telephone(t, audio)
	}
	streamCache.Store(key, cachedStream{audio, spans})
	return audio, spans
}

// decodeCorpus speaks the utterances with voice, joins them with gaps of silence into
// one stream at rate Hz (through a μ-law telephone channel when rate is 8000), decodes
// it in one session of r and scores the finals against the text. Each final is given
// to the utterance whose audio its midpoint falls in.
func decodeCorpus(t testing.TB, r stt.Recognizer, cfg stt.Config, voice string, rate int, utts []string) corpusRun {
	t.Helper()
	audio, spans := corpusAudio(t, voice, rate, utts)
	cfg.SampleRate = rate
	began, cpu0 := time.Now(), cpuTime()
	s, err := r.Start(t.Context(), cfg)
	require.NoError(t, err)
	var results []stt.Result
	var wg sync.WaitGroup
	var recvErr error
	wg.Go(func() {
		for {
			res, err := s.Recv()
			if err != nil {
				recvErr = err
				return
			}
			results = append(results, res)
		}
	})
	for _, f := range stttest.Frames(audio, rate) {
		for {
			err := s.WriteFrame(f)
			if !errors.Is(err, stt.ErrOverflow) {
				require.NoError(t, err)
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	require.NoError(t, s.Close())
	wg.Wait()
	require.ErrorIs(t, recvErr, io.EOF)
	require.NoError(t, stttest.Validate(results))
	run := corpusRun{refs: utts, hyps: make([]string, len(utts)), wall: time.Since(began), cpu: cpuTime() - cpu0,
		audio: time.Duration(len(audio)) * time.Second / time.Duration(rate)}
	for _, res := range results {
		if !res.Final || res.Text == "" {
			continue
		}
		run.finals++
		mid := (res.Start + res.End) / 2
		for i, sp := range spans {
			if mid >= sp.from-400*time.Millisecond && mid < sp.to+400*time.Millisecond {
				run.hyps[i] = strings.TrimSpace(run.hyps[i] + " " + res.Text)
				break
			}
		}
	}
	for i := range utts {
		e, n := stttest.WordErrors(utts[i], run.hyps[i])
		run.errs += e
		run.words += n
		if e == 0 {
			run.sentOK++
		}
	}
	return run
}

// logRun prints a result row and, with -v, the utterances that were wrong.
func logRun(t testing.TB, name string, run corpusRun) {
	t.Helper()
	t.Logf("%-34s WER %5.1f%% (%3d/%3d words)  sentences %2d/%2d  RTF wall %.3f cpu %.3f  (%v audio, %d finals)",
		name, 100*run.wer(), run.errs, run.words, run.sentOK, len(run.refs), run.rtf(), run.cpuRTF(),
		run.audio.Round(10*time.Millisecond), run.finals)
	for i := range run.refs {
		if e, _ := stttest.WordErrors(run.refs[i], run.hyps[i]); e > 0 {
			t.Logf("    %-45q -> %q", run.refs[i], run.hyps[i])
		}
	}
}
