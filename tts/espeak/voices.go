package espeak

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"

	"github.com/switchboard-go/switchboard/tts"
)

// voiceEntry is one line of `espeak-ng --voices`.
type voiceEntry struct {
	language string   // as espeak spells it, e.g. "en-us"
	others   []string // other languages it speaks, best first
	gender   string   // "male", "female" or ""
	file     string   // e.g. "gmw/en-US"
}

// voiceTable is what the installed espeak-ng offers, for validating and mapping
// Options before a process is started.
type voiceTable struct {
	voices []voiceEntry
	// names maps each lower-cased accepted voice name (language, file, file base) to
	// the spelling passed to -v.
	names map[string]string
	// languages maps lower-cased language codes to the espeak spelling.
	languages map[string]string
	// variants maps lower-cased variant names to their file names.
	variants map[string]string
}

var otherLanguage = regexp.MustCompile(`\(([^ ()]+) +\d+\)`)

// parseVoices reads the output of `espeak-ng --voices` (table) and
// `espeak-ng --voices=variant` (variants). MBROLA voices are left out: they need the
// separate mbrola program and voice data, which are rarely installed.
func parseVoices(table, variants []byte) (*voiceTable, error) {
	t := &voiceTable{names: map[string]string{}, languages: map[string]string{}, variants: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] == "Pty" {
			continue
		}
		// VoiceName (f[3]) has no spaces (they are written as '_'), so File is f[4].
		e := voiceEntry{language: f[1], file: f[4]}
		if strings.HasPrefix(e.file, "mb/") {
			continue
		}
		switch {
		case strings.HasSuffix(f[2], "/M"):
			e.gender = "male"
		case strings.HasSuffix(f[2], "/F"):
			e.gender = "female"
		}
		for _, m := range otherLanguage.FindAllStringSubmatch(strings.Join(f[5:], " "), -1) {
			e.others = append(e.others, m[1])
		}
		t.voices = append(t.voices, e)
		for _, n := range []string{e.language, e.file, path.Base(e.file)} {
			if _, dup := t.names[strings.ToLower(n)]; !dup {
				t.names[strings.ToLower(n)] = n
			}
		}
		for _, l := range append([]string{e.language}, e.others...) {
			if _, dup := t.languages[strings.ToLower(l)]; !dup {
				t.languages[strings.ToLower(l)] = l
			}
		}
	}
	if len(t.voices) == 0 {
		return nil, fmt.Errorf("espeak: no voices in the output of espeak-ng --voices")
	}
	sc = bufio.NewScanner(bytes.NewReader(variants))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[1] != "variant" {
			continue
		}
		base := path.Base(f[4]) // "!v/f3" → "f3"
		t.variants[strings.ToLower(base)] = base
	}
	return t, nil
}

// list returns the voices as tts.Voices. Each is named by its language code, which is
// what -v takes, except where a language has several voices: the later ones are named
// by their file.
func (t *voiceTable) list() []tts.Voice {
	out := make([]tts.Voice, 0, len(t.voices))
	seen := map[string]bool{}
	for _, e := range t.voices {
		name := e.language
		if seen[name] {
			name = e.file
		}
		seen[name] = true
		out = append(out, tts.Voice{
			Name:       name,
			Languages:  append([]string{e.language}, e.others...),
			Gender:     e.gender,
			SampleRate: NativeRate,
		})
	}
	return out
}

// resolveVoice maps Options.Voice ("en-us", "gmw/en-US", "en-us+f3") to the argument of
// -v, checking that the voice and variant exist.
func (t *voiceTable) resolveVoice(v string) (string, error) {
	name, variant, hasVariant := strings.Cut(v, "+")
	canon, ok := t.names[strings.ToLower(name)]
	if !ok {
		return "", fmt.Errorf("%w: espeak-ng has no voice %q (see espeak-ng --voices)", tts.ErrUnknownVoice, name)
	}
	if !hasVariant {
		return canon, nil
	}
	cv, ok := t.variants[strings.ToLower(variant)]
	if !ok {
		return "", fmt.Errorf("%w: espeak-ng has no voice variant %q (see espeak-ng --voices=variant)", tts.ErrUnknownVoice, variant)
	}
	return canon + "+" + cv, nil
}

// resolveLanguage maps a BCP 47 tag to an espeak language code: the tag itself
// lower-cased ("en-US" → "en-us"), or else with subtags dropped from the end until one
// matches ("de-DE" → "de", "zh-Hant-TW" → "zh").
func (t *voiceTable) resolveLanguage(tag string) (string, error) {
	l := strings.ToLower(strings.ReplaceAll(tag, "_", "-"))
	for l != "" {
		if canon, ok := t.languages[l]; ok {
			return canon, nil
		}
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	return "", fmt.Errorf("%w: espeak-ng has no voice for language %q", tts.ErrUnknownVoice, tag)
}

// Speed limits of espeak-ng, in words per minute.
const (
	defaultWPM = 175
	minWPM     = 80
	maxWPM     = 900
)

// wpm maps Options.Rate to -s: 175 words per minute scaled, within what espeak-ng
// speaks (below 80 it speaks at 80).
func wpm(rate float64) int {
	return min(max(int(math.Round(defaultWPM*rate)), minWPM), maxWPM)
}

// pitchTable is the shift in semitones, relative to the default -p 50, that each -p
// value gives, as measured (median F0 of a 10-word sentence) with espeak-ng 1.51 and
// voice en-us. espeak-ng's pitch scale is neither linear nor logarithmic in frequency.
var pitchTable = [...]struct{ p, semitones float64 }{
	{0, -6.13}, {12, -4.97}, {25, -3.55}, {38, -1.86}, {50, 0},
	{62, 1.82}, {75, 3.98}, {88, 6.43}, {99, 8.86},
}

// pitchArg maps Options.Pitch in semitones to -p by interpolating pitchTable; shifts
// beyond what espeak-ng does (about -6 to +9 semitones) are clamped.
func pitchArg(semitones float64) int {
	tb := pitchTable[:]
	if semitones <= tb[0].semitones {
		return int(tb[0].p)
	}
	for i := 1; i < len(tb); i++ {
		if semitones <= tb[i].semitones {
			a, b := tb[i-1], tb[i]
			return int(math.Round(a.p + (semitones-a.semitones)/(b.semitones-a.semitones)*(b.p-a.p)))
		}
	}
	return int(tb[len(tb)-1].p)
}
