package amd_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/amd/internal/corpus"
	"github.com/switchboard-go/switchboard/media"
)

var (
	genFlag  = flag.Bool("gen", false, "rewrite testdata/corpus.jsonl and testdata/eval.md")
	evalSeed = flag.Uint64("eval.seed", 0, "evaluate on a freshly generated corpus with this seed instead of the manifest")
	evalCase = flag.String("eval.case", "", "log the events of the cases whose ID contains this")
)

// corpusSeed is the seed of the committed manifest.
const corpusSeed = 1

const (
	manifestPath = "testdata/corpus.jsonl"
	cacheDir     = "testdata/cache"
	reportPath   = "testdata/eval.md"
)

type rendered struct {
	c corpus.Case
	a corpus.Audio
}

// loadCorpus renders every case of the manifest (or of -eval.seed), synthesizing speech
// into the cache on first use.
func loadCorpus(t *testing.T) []rendered {
	t.Helper()
	require.NoError(t, corpus.CheckEngines())
	var cases []corpus.Case
	if *evalSeed != 0 {
		cases = corpus.Generate(*evalSeed)
	} else {
		data, err := os.ReadFile(manifestPath)
		require.NoError(t, err)
		cases, err = corpus.ReadManifest(data)
		require.NoError(t, err)
	}
	require.NoError(t, os.MkdirAll(cacheDir, 0o755))
	missing := 0
	for _, c := range cases {
		if !corpus.Cached(cacheDir, c) {
			missing++
		}
	}
	if missing > 0 {
		// Render in a separate process built without the race detector, which would
		// make synthesis and resampling many times slower.
		args := []string{"run", "./internal/corpus/cmd/render", "-dir", cacheDir, "-manifest", manifestPath}
		if *evalSeed != 0 {
			args = []string{"run", "./internal/corpus/cmd/render", "-dir", cacheDir, "-seed", strconv.FormatUint(*evalSeed, 10)}
		}
		start := time.Now()
		out, err := exec.Command(goTool(), args...).CombinedOutput()
		require.NoError(t, err, "rendering the corpus: %s", out)
		t.Logf("rendered %d cases into %s in %v", missing, cacheDir, time.Since(start).Round(time.Second))
	}
	out := make([]rendered, len(cases))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				a, err := corpus.Render(cacheDir, cases[i])
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w", cases[i].ID, err))
					mu.Unlock()
					continue
				}
				out[i] = rendered{cases[i], a}
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	require.Empty(t, errs)
	return out
}

// goTool is the go command: the one on PATH, else the one GOROOT names.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if r := os.Getenv("GOROOT"); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	return "go"
}

func TestCorpusManifest(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, corpus.WriteManifest(&buf, corpus.Generate(corpusSeed)))
	if *genFlag {
		require.NoError(t, os.WriteFile(manifestPath, buf.Bytes(), 0o644))
	}
	data, err := os.ReadFile(manifestPath)
	require.NoError(t, err)
	require.Equal(t, buf.String(), string(data), "the manifest is Generate(%d); rerun with -gen after changing the generator", corpusSeed)
	cases, err := corpus.ReadManifest(data)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 200)
}

// outcome is one detector's result on one case.
type outcome struct {
	det     amd.Detection
	greet   amd.Greeting
	greeted bool
}

func run(t *testing.T, r rendered, cfg amd.Config) outcome {
	t.Helper()
	// Runs on several goroutines: assert, never require.
	var o outcome
	d, err := amd.New(corpus.Rate, cfg)
	if !assert.NoError(t, err) {
		return o
	}
	frame := media.SamplesPer(corpus.Rate, 20*time.Millisecond)
	s := r.a.Samples
	for len(s) > 0 && !d.Done() {
		n := min(frame, len(s))
		if !assert.NoError(t, d.WriteFrame(media.Frame{Samples: s[:n], SampleRate: corpus.Rate})) {
			return o
		}
		s = s[n:]
		for e, ok := d.Next(); ok; e, ok = d.Next() {
			if *evalCase != "" && strings.Contains(r.c.ID, *evalCase) {
				t.Logf("%s %v: %+v", r.c.ID, cfg.Rules, e)
			}
		}
	}
	d.Finish()
	o.det, _ = d.Detection()
	o.greet, o.greeted = d.Greeting()
	return o
}

func truthVerdict(c corpus.Case) amd.Verdict {
	switch c.Kind {
	case corpus.KindHuman:
		return amd.Human
	case corpus.KindMachine:
		return amd.Machine
	}
	return amd.Silence
}

// score sums up one rule set over the corpus.
type score struct {
	rules     amd.Rules
	n, ok     int
	nEasy     int
	okEasy    int
	confusion [4][4]int // [truth][verdict]
	latency   map[amd.Verdict][]time.Duration
	beeps     int // cases with a beep
	beepErrs  []time.Duration
	beepMiss  int
	falseBeep int // beeps reported in cases without one
	wrong     []string
	beepNotes []string
}

func evaluate(t *testing.T, rs []rendered, rules amd.Rules) *score {
	t.Helper()
	sc := &score{rules: rules, latency: map[amd.Verdict][]time.Duration{}}
	cfg := amd.Config{Rules: rules, Mode: amd.DetectBeep}
	for _, r := range rs {
		o := run(t, r, cfg)
		truth := truthVerdict(r.c)
		sc.n++
		sc.confusion[truth][o.det.Verdict]++
		if !r.c.Hard {
			sc.nEasy++
		}
		if o.det.Verdict == truth {
			sc.ok++
			if !r.c.Hard {
				sc.okEasy++
			}
		} else {
			sc.wrong = append(sc.wrong, fmt.Sprintf("%s→%v@%v(%v)", r.c.ID, o.det.Verdict, o.det.At.Round(10*time.Millisecond), o.det.Reason))
		}
		if truth == amd.Human || truth == amd.Machine {
			sc.latency[truth] = append(sc.latency[truth], o.det.At)
		}
		gotBeep := o.greeted && o.greet.Result == amd.GreetingBeep
		if r.a.Truth.BeepStart >= 0 {
			sc.beeps++
			if gotBeep {
				e := o.greet.At - time.Duration(r.a.Truth.BeepEnd)*time.Second/corpus.Rate
				sc.beepErrs = append(sc.beepErrs, e)
				if absD(e) > 100*time.Millisecond {
					sc.beepNotes = append(sc.beepNotes, fmt.Sprintf("%s: end off by %v", r.c.ID, e))
				}
			} else {
				sc.beepMiss++
				sc.beepNotes = append(sc.beepNotes, fmt.Sprintf("%s: missed (%v, greeting %v)", r.c.ID, o.det, o.greet))
			}
		} else if gotBeep {
			sc.falseBeep++
			sc.beepNotes = append(sc.beepNotes, fmt.Sprintf("%s: false beep (%v, %v)", r.c.ID, o.det, o.greet.Beep))
		}
	}
	return sc
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func absD(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (sc *score) beepWithin(tol time.Duration) int {
	n := 0
	for _, e := range sc.beepErrs {
		if absD(e) <= tol {
			n++
		}
	}
	return n
}

func report(scores []*score, cases int, source string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# amd evaluation\n\nCorpus: %s, %d cases (see amd/internal/corpus). Mode DetectBeep, default Config; 20 ms frames at 8 kHz.\n\n", source, cases)
	b.WriteString("## Verdicts\n\n| rules | correct | correct (without hard cases) | human median / p90 | machine median / p90 |\n|---|---|---|---|---|\n")
	for _, s := range scores {
		fmt.Fprintf(&b, "| %v | %d/%d (%.1f%%) | %d/%d (%.1f%%) | %v / %v | %v / %v |\n", s.rules, s.ok, s.n, pct(s.ok, s.n),
			s.okEasy, s.nEasy, pct(s.okEasy, s.nEasy),
			quantile(s.latency[amd.Human], 0.5), quantile(s.latency[amd.Human], 0.9),
			quantile(s.latency[amd.Machine], 0.5), quantile(s.latency[amd.Machine], 0.9))
	}
	b.WriteString("\nDecision times are audio time from the answer, over all cases of that truth.\n")
	for _, s := range scores {
		fmt.Fprintf(&b, "\n## Confusion, %v (rows: truth, columns: verdict)\n\n| truth \\ verdict | human | machine | silence | not_sure |\n|---|---|---|---|---|\n", s.rules)
		for _, tv := range []amd.Verdict{amd.Human, amd.Machine, amd.Silence} {
			c := s.confusion[tv]
			fmt.Fprintf(&b, "| %v | %d | %d | %d | %d |\n", tv, c[amd.Human], c[amd.Machine], c[amd.Silence], c[amd.NotSure])
		}
	}
	b.WriteString("\n## Beep end (after a Machine verdict; the beep detector is the same for both)\n\n| rules | beeped greetings | beep found | end within 20 / 50 / 100 ms | median / p90 abs error | false beeps |\n|---|---|---|---|---|---|\n")
	for _, s := range scores {
		var abs []time.Duration
		for _, e := range s.beepErrs {
			abs = append(abs, absD(e))
		}
		fmt.Fprintf(&b, "| %v | %d | %d | %.1f%% / %.1f%% / %.1f%% | %v / %v | %d |\n", s.rules, s.beeps, len(s.beepErrs),
			pct(s.beepWithin(20*time.Millisecond), s.beeps), pct(s.beepWithin(50*time.Millisecond), s.beeps),
			pct(s.beepWithin(100*time.Millisecond), s.beeps), quantile(abs, 0.5), quantile(abs, 0.9), s.falseBeep)
	}
	b.WriteString("\nPercentages are of all beeped greetings: a beep missed, or missed because the verdict was not Machine, counts as an error.\n")
	for _, s := range scores {
		fmt.Fprintf(&b, "\n## Errors, %v\n\n%s\n", s.rules, strings.Join(s.wrong, ", "))
		fmt.Fprintf(&b, "\nBeep errors: %s\n", strings.Join(s.beepNotes, "; "))
	}
	return b.String()
}

// beepAlone runs a BeepDetector on every case: beeped greetings give the share of beep
// ends found within 100 ms, the others the false beeps.
type beepAloneScore struct {
	beeps, within, falseBeeps int
	notes                     []string
}

func beepAlone(t *testing.T, rs []rendered) beepAloneScore {
	t.Helper()
	var sc beepAloneScore
	for _, r := range rs {
		b, err := amd.NewBeepDetector(corpus.Rate, amd.BeepConfig{})
		if !assert.NoError(t, err) {
			return sc
		}
		s := r.a.Samples
		for len(s) > 0 {
			n := min(160, len(s))
			if !assert.NoError(t, b.WriteFrame(media.Frame{Samples: s[:n], SampleRate: corpus.Rate})) {
				return sc
			}
			s = s[n:]
		}
		last, n := b.Last()
		if r.a.Truth.BeepStart < 0 {
			if n > 0 {
				sc.falseBeeps++
				sc.notes = append(sc.notes, fmt.Sprintf("%s: false %v", r.c.ID, last))
			}
			continue
		}
		sc.beeps++
		if n > 1 {
			sc.falseBeeps += n - 1
			sc.notes = append(sc.notes, fmt.Sprintf("%s: %d beeps, the last %v", r.c.ID, n, last))
		}
		e := last.End - time.Duration(r.a.Truth.BeepEnd)*time.Second/corpus.Rate
		if n > 0 && absD(e) <= 100*time.Millisecond {
			sc.within++
		} else {
			sc.notes = append(sc.notes, fmt.Sprintf("%s: %d found, last %v, error %v", r.c.ID, n, last, e))
		}
	}
	return sc
}

func TestEvaluation(t *testing.T) {
	rs := loadCorpus(t)
	// Three independent passes over the corpus, in parallel (the race detector makes
	// each several times slower).
	var (
		wg               sync.WaitGroup
		classic, cadence *score
		alone            beepAloneScore
	)
	wg.Go(func() { classic = evaluate(t, rs, amd.Classic) })
	wg.Go(func() { cadence = evaluate(t, rs, amd.Cadence) })
	wg.Go(func() { alone = beepAlone(t, rs) })
	wg.Wait()
	source := fmt.Sprintf("manifest %s (seed %d)", manifestPath, corpusSeed)
	if *evalSeed != 0 {
		source = fmt.Sprintf("Generate(%d)", *evalSeed)
	}
	md := report([]*score{classic, cadence}, len(rs), source)
	md += fmt.Sprintf("\n## Beep detector alone (BeepDetector on every case, whatever the verdict)\n\n"+
		"Last beep's end within 100 ms of the true one: %d/%d (%.1f%%); false beeps (in the %d cases without a beep, or before the true one): %d.\n\n%s\n",
		alone.within, alone.beeps, pct(alone.within, alone.beeps), len(rs)-alone.beeps, alone.falseBeeps, strings.Join(alone.notes, "; "))
	t.Log("\n" + md)
	require.NoError(t, os.WriteFile(filepath.Join(cacheDir, "eval.md"), []byte(md), 0o644))
	if *genFlag && *evalSeed == 0 {
		require.NoError(t, os.WriteFile(reportPath, []byte(md), 0o644))
	}

	// Floors this corpus meets with margin; the report above has the exact figures.
	assert.Greater(t, cadence.ok, classic.ok, "cadence beats classic")
	assert.GreaterOrEqual(t, pct(cadence.ok, cadence.n), 90.0)
	assert.Less(t, quantile(cadence.latency[amd.Human], 0.5), 2600*time.Millisecond)
	assert.GreaterOrEqual(t, pct(cadence.beepWithin(100*time.Millisecond), cadence.beeps), 85.0)
	assert.GreaterOrEqual(t, pct(alone.within, alone.beeps), 95.0)
	assert.LessOrEqual(t, alone.falseBeeps, 3)
}
