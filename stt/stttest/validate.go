package stttest

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-go/switchboard/stt"
)

// ErrInvalid is wrapped by the errors Validate returns.
var ErrInvalid = errors.New("stttest: invalid result sequence")

// Validate checks that results, everything a session returned before io.EOF, follow the
// stt.Result contract:
//
//   - Confidence is in [0, 1], 0 <= Start <= End;
//   - final results come in time order and do not overlap (each starts at or after the
//     previous one's End);
//   - a partial result belongs to the utterance after the last final (it starts at or
//     after that final's End), and the sequence does not end with a partial: Close
//     finishes the utterance in progress;
//   - a final's Words, when present, lie inside [Start, End] in order without overlap,
//     and spell Text; partial results carry no Words.
func Validate(results []stt.Result) error { return validate(results, true) }

// validate is Validate; complete false accepts a sequence cut short by cancellation,
// which may end with a partial result.
func validate(results []stt.Result, complete bool) error {
	var prevFinalEnd time.Duration
	open := false // a partial was seen since the last final
	for i, r := range results {
		if !(r.Confidence >= 0 && r.Confidence <= 1) {
			return fmt.Errorf("%w: result %d (%q): confidence %v outside [0, 1]", ErrInvalid, i, r.Text, r.Confidence)
		}
		if r.Start < 0 || r.End < r.Start {
			return fmt.Errorf("%w: result %d (%q): bad times [%v, %v]", ErrInvalid, i, r.Text, r.Start, r.End)
		}
		if r.Start < prevFinalEnd {
			return fmt.Errorf("%w: result %d (%q, final=%v) starts at %v, before the previous final ended (%v)",
				ErrInvalid, i, r.Text, r.Final, r.Start, prevFinalEnd)
		}
		if !r.Final {
			if r.Words != nil {
				return fmt.Errorf("%w: partial result %d (%q) has Words", ErrInvalid, i, r.Text)
			}
			open = true
			continue
		}
		open = false
		prevFinalEnd = r.End
		if r.Words == nil {
			continue
		}
		var texts []string
		prev := r.Start
		for j, w := range r.Words {
			if w.Start < prev || w.End < w.Start || w.End > r.End {
				return fmt.Errorf("%w: result %d (%q): word %d %q at [%v, %v] is out of order or outside [%v, %v]",
					ErrInvalid, i, r.Text, j, w.Text, w.Start, w.End, r.Start, r.End)
			}
			if !(w.Confidence >= 0 && w.Confidence <= 1) {
				return fmt.Errorf("%w: result %d word %q: confidence %v outside [0, 1]", ErrInvalid, i, w.Text, w.Confidence)
			}
			prev = w.End
			texts = append(texts, w.Text)
		}
		if got := strings.Join(texts, " "); got != r.Text {
			return fmt.Errorf("%w: result %d: words %q do not spell text %q", ErrInvalid, i, got, r.Text)
		}
	}
	if open && complete {
		return fmt.Errorf("%w: the results end with a partial result, not a final", ErrInvalid)
	}
	return nil
}

// Words splits a transcript into normalised words for comparison: lower case, with
// punctuation other than apostrophes inside words removed.
func Words(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	out := f[:0]
	for _, w := range f {
		if w = strings.Trim(w, "'"); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// WordErrors counts the word errors of hyp against the reference transcript ref: the
// smallest number of substituted, deleted and inserted words that turns ref into hyp
// (after normalising both with Words), and the number of reference words. The word
// error rate is errs/words.
func WordErrors(ref, hyp string) (errs, words int) {
	r, h := Words(ref), Words(hyp)
	// Levenshtein distance over words, one row at a time.
	prev := make([]int, len(h)+1)
	cur := make([]int, len(h)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = i
		for j := 1; j <= len(h); j++ {
			sub := prev[j-1]
			if r[i-1] != h[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(h)], len(r)
}
