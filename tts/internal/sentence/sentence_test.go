package sentence

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank", " \n\t ", nil},
		{"one", "Hello world.", []string{"Hello world."}},
		{"no final punctuation", "Hello world", []string{"Hello world"}},
		{"two", "Hello there. How are you?", []string{"Hello there.", "How are you?"}},
		{"exclamation and quotes", `He said "stop!" Then he left.`, []string{`He said "stop!"`, "Then he left."}},
		{"bracket", "It works (mostly.) Next one.", []string{"It works (mostly.)", "Next one."}},
		{"decimal", "Pi is 3.14 roughly. Yes.", []string{"Pi is 3.14 roughly.", "Yes."}},
		{"abbreviation", "Dr. Smith met Mrs. Jones e.g. today. Fine.", []string{"Dr. Smith met Mrs. Jones e.g. today.", "Fine."}},
		{"initial", "J. R. Tolkien wrote it. Yes.", []string{"J. R. Tolkien wrote it.", "Yes."}},
		{"newline", "first line\nsecond line\r\nthird", []string{"first line", "second line", "third"}},
		{"ellipsis", "Well… maybe. Or not", []string{"Well…", "maybe.", "Or not"}},
		{"cjk", "你好。今天很好！", []string{"你好。", "今天很好！"}},
		{"short clause", "Note: this stays; together.", []string{"Note: this stays; together."}},
		{"url", "See example.com/a.b for more.", []string{"See example.com/a.b for more."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Split(c.in))
		})
	}
}

func TestSplitLongClauses(t *testing.T) {
	long := strings.Repeat("word ", 24) // 120 bytes
	got := Split(long + "and then; more words follow here.")
	require.Len(t, got, 2)
	assert.True(t, strings.HasSuffix(got[0], "then;"), got[0])
	assert.Equal(t, "more words follow here.", got[1])

	got = Split(long + "a comma, here.")
	assert.Len(t, got, 1, "a comma before twice SoftLen does not split")
	got = Split(long + long + "a comma, here.")
	assert.Len(t, got, 2)

	s := Splitter{SoftLen: -1}
	s.Write(long + long + "a; b: c, d.")
	assert.Len(t, s.Flush(), 1, "negative SoftLen never splits at clauses")
}

func TestSplitMaxLen(t *testing.T) {
	text := strings.Repeat("abcdefghi ", 100) // 1000 bytes, no punctuation
	got := Split(text)
	require.Greater(t, len(got), 3)
	for _, s := range got {
		assert.LessOrEqual(t, len(s), DefaultMaxLen)
	}
	assert.Equal(t, strings.Join(strings.Fields(text), ""), strings.Join(strings.Fields(strings.Join(got, " ")), ""))

	// No white space at all: cut on rune boundaries.
	s := Splitter{MaxLen: 10}
	s.Write(strings.Repeat("é", 30)) // 2 bytes each
	got = s.Flush()
	for _, x := range got {
		assert.True(t, utf8.ValidString(x))
		assert.LessOrEqual(t, len(x), 10)
	}
	assert.Equal(t, strings.Repeat("é", 30), strings.Join(got, ""))
}

// costOf is the length of x with digits at DefaultDigitCost.
func costOf(x string) int {
	n := len(x)
	for _, r := range x {
		if r >= '0' && r <= '9' {
			n += DefaultDigitCost - 1
		}
	}
	return n
}

func TestDigitCost(t *testing.T) {
	digits := strings.Repeat("1234567890 ", 30) // 330 bytes, 2730 with digit costs
	got := Split(digits)
	require.Len(t, got, 10)
	for _, x := range got {
		assert.LessOrEqual(t, costOf(x), DefaultMaxLen)
		assert.Len(t, strings.Fields(x), 3, "three ten-digit numbers fit in a sentence")
	}
	s := Splitter{DigitCost: 1}
	s.Write(digits)
	assert.Len(t, s.Flush(), 2)
}

func TestIncremental(t *testing.T) {
	var s Splitter
	s.Write("Hello there")
	_, ok := s.Next()
	assert.False(t, ok)
	s.Write(".")
	_, ok = s.Next()
	assert.False(t, ok, "a final '.' is undecided until the next rune")
	s.Write(" How")
	got, ok := s.Next()
	require.True(t, ok)
	assert.Equal(t, "Hello there.", got)
	assert.True(t, s.Pending())
	_, ok = s.Next()
	assert.False(t, ok)
	s.Write(" are you?\n")
	got, ok = s.Next()
	require.True(t, ok)
	assert.Equal(t, "How are you?", got)
	assert.False(t, s.Pending())
	assert.Empty(t, s.Flush())
}

// checkInvariants verifies what every split must satisfy: nothing lost or added but
// white space, sentences trimmed, non-empty, without line breaks, within MaxLen, and
// the same whether the text arrives whole or in pieces.
func checkInvariants(t *testing.T, text string, chunk int) {
	whole := Split(text)
	var s Splitter
	var pieces []string
	for i := 0; i < len(text); i += chunk {
		s.Write(text[i:min(i+chunk, len(text))])
		for {
			x, ok := s.Next()
			if !ok {
				break
			}
			pieces = append(pieces, x)
		}
	}
	pieces = append(pieces, s.Flush()...)
	require.Equal(t, whole, pieces, "chunk %d", chunk)

	// squash drops white space and keeps every other byte as it is (invalid UTF-8
	// included); sentences are squashed one by one, since joining them could make
	// new runes out of invalid bytes.
	squash := func(x string) string {
		var b strings.Builder
		for i := 0; i < len(x); {
			r, n := utf8.DecodeRuneInString(x[i:])
			if !unicode.IsSpace(r) {
				b.WriteString(x[i : i+n])
			}
			i += n
		}
		return b.String()
	}
	var joined strings.Builder
	for _, x := range whole {
		joined.WriteString(squash(x))
	}
	require.Equal(t, squash(text), joined.String())
	for _, x := range whole {
		require.NotEmpty(t, x)
		require.Equal(t, strings.TrimSpace(x), x)
		require.NotContains(t, x, "\n")
		require.NotContains(t, x, "\r")
		if utf8.RuneCountInString(x) > 1 {
			require.LessOrEqual(t, costOf(x), DefaultMaxLen, "%q", x)
		}
	}
}

func TestInvariants(t *testing.T) {
	texts := []string{
		"Hello there. How are you? I'm fine!\nNew line; with clause: yes.",
		strings.Repeat("The quick brown fox, jumps over the lazy dog; again: ", 20),
		"Dr. J. Smith (Ph.D.) said \"hi.\" Then…  left。次は？ ok",
		strings.Repeat("x", 700),
		"\xff\xfe. broken \xe2\x82 text. ",
		strings.Repeat("Call 555 0199 or 1234567890123456789, ", 12),
		strings.Repeat("9", 100) + "\xe2\x82\xac" + strings.Repeat("7", 40),
	}
	for _, text := range texts {
		for _, chunk := range []int{1, 2, 3, 7, 64, 1 << 20} {
			checkInvariants(t, text, chunk)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("Hello there. How are you?", 3)
	f.Add("Dr. Smith e.g. J. R. 3.14 \"quoted!\" (paren.) next", 1)
	f.Add(strings.Repeat("word ", 80)+"end", 17)
	f.Add("你好。今天很好！ ok…\r\nyes", 2)
	f.Add("\xe2\x82\xac\xe2\x82", 1)
	f.Fuzz(func(t *testing.T, text string, chunk int) {
		if chunk <= 0 {
			chunk = 1 + (-chunk)%32
		}
		checkInvariants(t, text, chunk)
	})
}

func BenchmarkSplitter(b *testing.B) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	var s Splitter
	for b.Loop() {
		for i := 0; i < len(text); i += 5 { // token-sized pieces, as from a language model
			s.Write(text[i:min(i+5, len(text))])
			for {
				if _, ok := s.Next(); !ok {
					break
				}
			}
		}
		s.Flush()
	}
}
