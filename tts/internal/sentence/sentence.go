// Package sentence splits text into sentences for speech engines that synthesize one
// sentence at a time, incrementally: text can arrive in pieces (tokens from a language
// model) and each sentence is released as soon as its end is certain.
//
// A sentence ends at
//
//   - '.', '!', '?' or '…' (with any closing quotes or brackets after it) followed by
//     white space, unless the '.' ends a common abbreviation ("Dr.", "e.g.") or a
//     single-letter initial ("J. Smith");
//   - a line break;
//   - CJK full stops and marks ('。', '！', '？'), immediately;
//   - ';' or ':' followed by white space, once the sentence is SoftLen bytes long, and
//     ',' followed by white space once it is twice that: long sentences are spoken in
//     clauses so the first audio comes sooner;
//   - at the last white space before MaxLen, when no boundary came earlier (or at
//     MaxLen itself, on a rune boundary, when there is no white space at all).
//
// Lengths are in bytes, except that an ASCII digit counts as DigitCost bytes: engines
// read numbers as words ("1234" is "one thousand two hundred thirty four"), so a
// sentence of digits takes some eight times as long to speak, and to synthesize, as
// as many letters.
//
// The decision at each position depends only on the text before it and one rune after
// it, so feeding text in any pieces yields the same sentences as splitting it whole.
// Sentences are trimmed of surrounding white space and never empty.
package sentence

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Default lengths, in bytes.
const (
	// DefaultMaxLen bounds a sentence. It keeps the time to the first audio of engines
	// that synthesize whole sentences bounded whatever the text.
	DefaultMaxLen = 300
	// DefaultSoftLen is the length from which ';' and ':' end a sentence (and twice it
	// for ',').
	DefaultSoftLen = 100
	// DefaultDigitCost is the length an ASCII digit counts for.
	DefaultDigitCost = 8
)

// abbreviations end with '.' without ending a sentence. Compared lowercased, without
// the final dot. Read-only.
var abbreviations = [...]string{
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "e.g", "i.e", "cf", "approx", "dept",
}

// Splitter accumulates text and releases complete sentences. The zero value uses
// DefaultMaxLen and DefaultSoftLen. A Splitter is not safe for concurrent use.
type Splitter struct {
	// MaxLen bounds the length of a sentence in bytes; zero means DefaultMaxLen.
	MaxLen int
	// SoftLen is the length from which clause punctuation ends a sentence; zero means
	// DefaultSoftLen, negative never.
	SoftLen int
	// DigitCost is the length an ASCII digit counts for; zero means DefaultDigitCost.
	DigitCost int

	buf []byte
	// scanned is how far buf has been examined without finding a boundary, and
	// scannedLen the length (with digit costs) of buf from the sentence start to
	// there, so each byte is looked at about once however the text arrives.
	scanned    int
	scannedLen int
}

// Write appends text.
func (s *Splitter) Write(text string) { s.buf = append(s.buf, text...) }

// Pending reports whether text is held that has not been released as a sentence
// (white space aside).
func (s *Splitter) Pending() bool {
	return len(strings.TrimSpace(string(s.buf))) > 0
}

// Next returns the next complete sentence, or ok false when the text held so far does
// not yet contain the end of one.
func (s *Splitter) Next() (sentence string, ok bool) {
	for {
		end, skip := s.boundary()
		if end < 0 {
			return "", false
		}
		out := strings.TrimSpace(string(s.buf[:end]))
		s.buf = s.buf[:copy(s.buf, s.buf[skip:])]
		s.scanned, s.scannedLen = 0, 0
		if out != "" {
			return out, true
		}
	}
}

// Flush returns what is held as the last sentences (there may be more than one when
// the text is longer than MaxLen) and empties the Splitter.
func (s *Splitter) Flush() []string {
	var out []string
	for {
		if sent, ok := s.Next(); ok {
			out = append(out, sent)
			continue
		}
		break
	}
	rest := strings.TrimSpace(string(s.buf))
	s.buf = s.buf[:0]
	s.scanned, s.scannedLen = 0, 0
	if rest != "" {
		out = append(out, rest)
	}
	return out
}

// Split returns the sentences of text.
func Split(text string) []string {
	var s Splitter
	s.Write(text)
	return s.Flush()
}

func (s *Splitter) limits() (maxLen, softLen int) {
	maxLen, softLen = s.MaxLen, s.SoftLen
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	if softLen == 0 {
		softLen = DefaultSoftLen
	}
	return maxLen, softLen
}

// cost is the length the rune r, encoded in n bytes, counts for.
func (s *Splitter) cost(r rune, n int) int {
	if r >= '0' && r <= '9' {
		if s.DigitCost > 0 {
			return s.DigitCost
		}
		return DefaultDigitCost
	}
	return n
}

// boundary finds the first sentence end in buf: end is where the sentence text stops,
// skip where the next one starts. end is -1 when no end is certain yet.
func (s *Splitter) boundary() (end, skip int) {
	maxLen, softLen := s.limits()
	b := s.buf
	// Leading white space belongs to no sentence.
	start := 0
	for start < len(b) {
		r, n := utf8.DecodeRune(b[start:])
		if !unicode.IsSpace(r) || (r == utf8.RuneError && !utf8.FullRune(b[start:])) {
			break
		}
		start += n
	}
	i, length := start, 0 // length: of b[start:i], with digit costs
	if s.scanned > start {
		i, length = s.scanned, s.scannedLen
	}
	for i < len(b) {
		if !utf8.FullRune(b[i:]) {
			break // wait for the rest of the rune
		}
		r, n := utf8.DecodeRune(b[i:])
		c := s.cost(r, n)
		if length+c > maxLen {
			return s.cap(start, maxLen)
		}
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			return i, i + n
		case r == '。' || r == '！' || r == '？':
			return i + n, i + n
		case r == '.' || r == '!' || r == '?' || r == '…' || r == ';' || r == ':' || r == ',':
			j := i + n
			for j < len(b) && strings.IndexByte(`"')]}`, b[j]) >= 0 {
				j++
			}
			if j >= len(b) || !utf8.FullRune(b[j:]) {
				s.scanned, s.scannedLen = i, length // undecided until the next rune arrives
				return -1, -1
			}
			next, _ := utf8.DecodeRune(b[j:])
			if !unicode.IsSpace(next) {
				break
			}
			switch r {
			case '.':
				if isAbbreviation(b[start:i]) {
					break
				}
				return j, j
			case ';', ':':
				if softLen > 0 && length >= softLen {
					return j, j
				}
			case ',':
				if softLen > 0 && length >= 2*softLen {
					return j, j
				}
			default:
				return j, j
			}
		}
		i += n
		length += c
	}
	s.scanned, s.scannedLen = i, length
	if length+len(b)-i > maxLen { // an incomplete rune at the end that cannot fit
		return s.cap(start, maxLen)
	}
	return -1, -1
}

// cap ends a sentence that reached maxLen without a boundary: at the last white space
// within it, or else at the last rune boundary within it.
func (s *Splitter) cap(start, maxLen int) (end, skip int) {
	b := s.buf
	last, i, length := -1, start, 0
	for i < len(b) && utf8.FullRune(b[i:]) {
		r, n := utf8.DecodeRune(b[i:])
		c := s.cost(r, n)
		if length+c > maxLen {
			break
		}
		if unicode.IsSpace(r) {
			last = i
		}
		i += n
		length += c
	}
	if last > start {
		return last, last
	}
	if i == start { // a single rune longer than maxLen: take it whole
		_, n := utf8.DecodeRune(b[start:])
		i = start + n
	}
	return i, i
}

// isAbbreviation reports whether the word that ends text (before a '.') is a known
// abbreviation or a single letter.
func isAbbreviation(text []byte) bool {
	k := len(text)
	for k > 0 {
		r, n := utf8.DecodeLastRune(text[:k])
		if unicode.IsSpace(r) || r == '(' || r == '"' || r == '\'' {
			break
		}
		k -= n
	}
	word := text[k:]
	if utf8.RuneCount(word) == 1 {
		r, _ := utf8.DecodeRune(word)
		return unicode.IsLetter(r)
	}
	w := strings.ToLower(string(word))
	for _, a := range abbreviations {
		if w == a {
			return true
		}
	}
	return false
}
