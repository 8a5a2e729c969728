package stt

import (
	"fmt"
	"strings"
	"unicode"
)

// digitWords maps the spoken forms of digits to the digits. "oh" is how most people say
// 0 inside a number.
var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
}

// Words of the yes/no grammar. The first word of an answer decides it.
var (
	yesPhrases = []string{"yes", "yes please", "yeah", "yep", "sure", "correct", "right", "that's right"}
	noPhrases  = []string{"no", "no thanks", "no thank you", "nope", "not really", "wrong"}
	yesFirst   = map[string]bool{"yes": true, "yeah": true, "yep": true, "sure": true, "correct": true, "right": true, "that's": true}
	noFirst    = map[string]bool{"no": true, "nope": true, "not": true, "wrong": true}
)

// DigitsGrammar returns a JSGF grammar that accepts one or more spoken digits: "zero"
// (or "oh") to "nine". Digits turns the transcript into digit characters.
func DigitsGrammar() string {
	return "#JSGF V1.0;\ngrammar digits;\npublic <digits> = <digit>+;\n" +
		"<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;\n"
}

// YesNoGrammar returns a JSGF grammar that accepts a short yes or no answer ("yes",
// "yeah", "yes please", "no", "nope", "no thank you", …). YesNo classifies the
// transcript.
func YesNoGrammar() string {
	return "#JSGF V1.0;\ngrammar yesno;\npublic <answer> = <yes> | <no>;\n" +
		"<yes> = " + strings.Join(yesPhrases, " | ") + ";\n" +
		"<no> = " + strings.Join(noPhrases, " | ") + ";\n"
}

// WordListGrammar returns a JSGF grammar that accepts exactly one of phrases, such as
// the options of a menu ("sales", "technical support", "billing"). Phrases are
// lower-cased and their spaces normalised; each word may hold letters, digits and
// apostrophes only (JSGF tokens), and the engine must know how to pronounce it. The
// error wraps ErrGrammar.
func WordListGrammar(phrases ...string) (string, error) {
	if len(phrases) == 0 {
		return "", fmt.Errorf("%w: no phrases", ErrGrammar)
	}
	alts := make([]string, 0, len(phrases))
	seen := make(map[string]bool, len(phrases))
	for _, p := range phrases {
		words := strings.Fields(strings.ToLower(p))
		if len(words) == 0 {
			return "", fmt.Errorf("%w: empty phrase", ErrGrammar)
		}
		for _, w := range words {
			if !isToken(w) {
				return "", fmt.Errorf("%w: word %q in phrase %q: only letters, digits and apostrophes are allowed", ErrGrammar, w, p)
			}
		}
		alt := strings.Join(words, " ")
		if !seen[alt] {
			seen[alt] = true
			alts = append(alts, alt)
		}
	}
	return "#JSGF V1.0;\ngrammar words;\npublic <phrase> = " + strings.Join(alts, " | ") + ";\n", nil
}

// isToken reports whether w can be written as a bare JSGF token that a pronunciation
// dictionary can hold.
func isToken(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' {
			return false
		}
	}
	return w != ""
}

// Digits turns a transcript of spoken digits ("one two oh four") into digit characters
// ("1204"). It reports false, with the digits read so far, when a word is not a digit.
// Case and surrounding space do not matter.
func Digits(text string) (string, bool) {
	var b strings.Builder
	for w := range strings.FieldsSeq(strings.ToLower(text)) {
		d, ok := digitWords[w]
		if !ok {
			return b.String(), false
		}
		b.WriteByte(d)
	}
	return b.String(), b.Len() > 0
}

// YesNo classifies a transcript of a yes/no answer by its first word: yes is true for
// "yes", "yeah", "yep", "sure", "correct", "right", "that's right"; false for "no",
// "nope", "not really", "wrong". ok is false when the answer is neither.
func YesNo(text string) (yes, ok bool) {
	for w := range strings.FieldsSeq(strings.ToLower(text)) {
		switch {
		case yesFirst[w]:
			return true, true
		case noFirst[w]:
			return false, true
		}
		return false, false
	}
	return false, false
}
