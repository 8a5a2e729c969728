package stt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/stt"
)

func TestDigits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"one two three four", "1234", true},
		{"  Two OH  four one ", "2041", true},
		{"zero nine eight seven six five", "098765", true},
		{"one two buckle my shoe", "12", false},
		{"", "", false},
		{"hello", "", false},
	} {
		got, ok := stt.Digits(tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
	}
}

func TestYesNo(t *testing.T) {
	for _, tc := range []struct {
		in      string
		yes, ok bool
	}{
		{"yes", true, true},
		{"Yeah sure", true, true},
		{"yes please", true, true},
		{"that's right", true, true},
		{"no thank you", false, true},
		{"nope", false, true},
		{"not really", false, true},
		{"maybe", false, false},
		{"", false, false},
	} {
		yes, ok := stt.YesNo(tc.in)
		require.Equal(t, tc.yes, yes, tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
	}
}

// Every phrase of the yes/no grammar is classified by YesNo as its side.
func TestYesNoGrammarAgreesWithYesNo(t *testing.T) {
	g := stt.YesNoGrammar()
	for _, side := range []struct {
		rule string
		yes  bool
	}{{"<yes> = ", true}, {"<no> = ", false}} {
		i := strings.Index(g, side.rule)
		require.GreaterOrEqual(t, i, 0)
		body := g[i+len(side.rule):]
		body = body[:strings.Index(body, ";")]
		for p := range strings.SplitSeq(body, "|") {
			yes, ok := stt.YesNo(p)
			require.True(t, ok, p)
			require.Equal(t, side.yes, yes, p)
		}
	}
}

func TestWordListGrammar(t *testing.T) {
	g, err := stt.WordListGrammar("Sales", "technical  support", "sales", "billing")
	require.NoError(t, err)
	require.Equal(t, "#JSGF V1.0;\ngrammar words;\npublic <phrase> = sales | technical support | billing;\n", g)
	for _, bad := range [][]string{nil, {""}, {"  "}, {"sales | support"}, {"<rule>"}, {"a;b"}} {
		_, err := stt.WordListGrammar(bad...)
		require.ErrorIs(t, err, stt.ErrGrammar, "%q", bad)
	}
	g, err = stt.WordListGrammar("don't", "café")
	require.NoError(t, err)
	require.Contains(t, g, "don't | café;")
}

func TestGrammarsAreJSGF(t *testing.T) {
	for _, g := range []string{stt.DigitsGrammar(), stt.YesNoGrammar()} {
		require.True(t, strings.HasPrefix(g, "#JSGF V1.0;\ngrammar "), g)
		require.Contains(t, g, "public <")
		require.True(t, strings.HasSuffix(g, ";\n"))
	}
}

func TestEndSilenceOrDefault(t *testing.T) {
	require.Equal(t, stt.DefaultEndSilence, stt.Config{}.EndSilenceOrDefault())
	require.Equal(t, stt.DefaultEndSilence, stt.Config{EndSilence: -time.Second}.EndSilenceOrDefault())
	require.Equal(t, 300*time.Millisecond, stt.Config{EndSilence: 300 * time.Millisecond}.EndSilenceOrDefault())
}

func FuzzDigits(f *testing.F) {
	for _, s := range []string{"one two three", "oh", "zero nine", "one two x", "", "ONE\tTWO\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := stt.Digits(s)
		for _, c := range d {
			if c < '0' || c > '9' {
				t.Fatalf("Digits(%q) = %q: not a digit", s, d)
			}
		}
		if ok && len(d) != len(strings.Fields(s)) {
			t.Fatalf("Digits(%q) = %q, true: one digit per word expected", s, d)
		}
		_, _ = stt.YesNo(s)
	})
}
