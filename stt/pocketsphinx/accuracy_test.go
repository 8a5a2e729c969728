package pocketsphinx

import (
	"flag"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/stt"
)

// full widens the accuracy measurements to every voice and the whole corpus; the
// default keeps the package's test time short.
var full = flag.Bool("full", false, "measure open-vocabulary accuracy on every voice and the whole corpus (slow)")

// TestAccuracy measures word error rate and real-time factor per configuration and
// logs a table (go test -run Accuracy -v, add -full for every voice). Assertions are
// floors the measurements clear with a margin, plus the one comparison the narrowband
// tuning exists for.
func TestAccuracy(t *testing.T) {
	tuned := newTestRecognizer(t, Config{})
	plain := newTestRecognizer(t, Config{Narrowband: NarrowbandPlain})
	// Load the decoders first, so that loading time does not count as decoding time.
	require.NoError(t, tuned.Preload(1, 8000, 16000))
	require.NoError(t, plain.Preload(1, 8000, 16000))

	lmVoices, lmUtts := []string{"slt"}, slices.Concat(menuUtts, sentenceUtts)
	nbVoices, nbUtts := []string{"kal16"}, sentenceUtts
	if *full {
		lmVoices, lmUtts = []string{"slt", "kal16", "awb"}, allUtts()
		nbVoices, nbUtts = lmVoices, lmUtts
	}

	t.Run("wideband-LM", func(t *testing.T) {
		for _, v := range lmVoices {
			run := decodeCorpus(t, tuned, stt.Config{}, v, 16000, lmUtts)
			logRun(t, "16 kHz, LM, "+v, run)
			assert.LessOrEqual(t, run.wer(), 0.25, "%s: wideband word error rate", v)
		}
	})
	t.Run("narrowband-grammars", func(t *testing.T) {
		for _, v := range []string{"slt", "kal16", "awb"} {
			for _, rc := range []struct {
				name string
				r    *Recognizer
			}{{"plain", plain}, {"tuned", tuned}} {
				if rc.r == plain && v != "slt" && !*full {
					continue // for comparison; one voice is enough by default
				}
				d := decodeCorpus(t, rc.r, stt.Config{Grammar: stt.DigitsGrammar()}, v, 8000, digitUtts)
				logRun(t, "8 kHz μ-law, digits, "+rc.name+", "+v, d)
				y := decodeCorpus(t, rc.r, stt.Config{Grammar: stt.YesNoGrammar()}, v, 8000, yesNoUtts)
				logRun(t, "8 kHz μ-law, yes/no, "+rc.name+", "+v, y)
				right := 0
				for i, ref := range y.refs {
					want, _ := stt.YesNo(ref)
					got, ok := stt.YesNo(y.hyps[i])
					if ok && got == want {
						right++
					}
				}
				t.Logf("%-34s yes/no answers right: %d/%d", "", right, len(y.refs))
				if rc.r == tuned {
					assert.LessOrEqual(t, d.wer(), 0.25, "%s: narrowband digits word error rate", v)
					assert.GreaterOrEqual(t, right, len(y.refs)-1, "%s: narrowband yes/no answers", v)
				}
			}
		}
	})
	t.Run("narrowband-LM", func(t *testing.T) {
		for _, v := range nbVoices {
			p := decodeCorpus(t, plain, stt.Config{}, v, 8000, nbUtts)
			logRun(t, "8 kHz μ-law, LM, plain, "+v, p)
			q := decodeCorpus(t, tuned, stt.Config{}, v, 8000, nbUtts)
			logRun(t, "8 kHz μ-law, LM, tuned, "+v, q)
			assert.Less(t, q.errs, p.errs, "%s: the narrowband tuning must reduce word errors", v)
		}
	})
}
