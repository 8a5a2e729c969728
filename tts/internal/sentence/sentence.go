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
//   - at the last white space before MaxLen bytes, when no boundary came earlier (or at
//     MaxLen itself, on a rune boundary, when there is no white space at all).
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

	buf []byte
	// scanned is how far buf has been examined without finding a boundary, so each
	// byte is looked at about once however the text arrives.
	scanned int
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
		s.scanned = 0
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
	s.scanned = 0
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
	i := max(s.scanned, start)
	for i < len(b) {
		if !utf8.FullRune(b[i:]) {
			break // wait for the rest of the rune
		}
		r, n := utf8.DecodeRune(b[i:])
		if i+n-start > maxLen {
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
			if j < len(b) && !utf8.FullRune(b[j:]) {
				s.scanned = i
				return -1, -1
			}
			if j >= len(b) {
				s.scanned = i // undecided until the next rune arrives
				return -1, -1
			}
			next, _ := utf8.DecodeRune(b[j:])
			if !unicode.IsSpace(next) {
				break
			}
			length := i - start
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
	}
	s.scanned = i
	if len(b)-start > maxLen {
		return s.cap(start, maxLen)
	}
	return -1, -1
}

// cap ends a sentence that reached maxLen without a boundary: at the last white space
// within it, or else at the last rune boundary within it.
func (s *Splitter) cap(start, maxLen int) (end, skip int) {
	b := s.buf
	limit := start + maxLen
	last := -1
	for i := start; i < limit; {
		r, n := utf8.DecodeRune(b[i:])
		if i+n > limit {
			break
		}
		if unicode.IsSpace(r) {
			last = i
		}
		i += n
	}
	if last > start {
		return last, last
	}
	end = limit
	for end > start && !utf8.RuneStart(b[end]) {
		end--
	}
	if end == start { // a single rune longer than maxLen: take it whole
		_, n := utf8.DecodeRune(b[start:])
		end = start + n
	}
	return end, end
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
