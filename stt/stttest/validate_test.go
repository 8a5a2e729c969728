package stttest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

func TestValidate(t *testing.T) {
	s := time.Second
	ok := []stt.Result{
		{Text: "one", Start: 1 * s, End: 2 * s},
		{Text: "one two", Start: 1 * s, End: 3 * s, Final: true, Confidence: 0.5, Words: []stt.Word{
			{Text: "one", Start: 1 * s, End: 2 * s}, {Text: "two", Start: 2 * s, End: 3 * s, Confidence: 1},
		}},
		{Text: "", Start: 3 * s, End: 3 * s, Final: true},
		{Text: "yes", Start: 4 * s, End: 5 * s},
		{Text: "yes", Start: 4 * s, End: 5 * s, Final: true},
	}
	require.NoError(t, stttest.Validate(ok))
	require.NoError(t, stttest.Validate(nil))

	bad := map[string][]stt.Result{
		"confidence":          {{Text: "a", Confidence: 1.5, Final: true}},
		"NaN confidence":      {{Text: "a", Confidence: nan(), Final: true}},
		"negative start":      {{Text: "a", Start: -1, Final: true}},
		"end before start":    {{Text: "a", Start: 2 * s, End: s, Final: true}},
		"finals overlap":      {{Text: "a", Start: 0, End: 2 * s, Final: true}, {Text: "b", Start: s, End: 3 * s, Final: true}},
		"partial in the past": {{Text: "a", Start: 0, End: 2 * s, Final: true}, {Text: "b", Start: s, End: 3 * s}},
		"ends with partial":   {{Text: "a", Start: 0, End: s}},
		"partial words":       {{Text: "a", Words: []stt.Word{{Text: "a"}}}, {Text: "a", Final: true}},
		"words misspell": {{Text: "a b", End: 2 * s, Final: true, Words: []stt.Word{
			{Text: "a", End: s}, {Text: "c", Start: s, End: 2 * s}}}},
		"word outside": {{Text: "a", End: s, Final: true, Words: []stt.Word{{Text: "a", End: 2 * s}}}},
		"words overlap": {{Text: "a b", End: 2 * s, Final: true, Words: []stt.Word{
			{Text: "a", End: s + 1}, {Text: "b", Start: s, End: 2 * s}}}},
		"word confidence": {{Text: "a", End: s, Final: true, Words: []stt.Word{{Text: "a", End: s, Confidence: -0.1}}}},
	}
	for name, rs := range bad {
		require.ErrorIs(t, stttest.Validate(rs), stttest.ErrInvalid, name)
	}
}

func nan() float64 {
	var z float64
	return z / z
}

func TestWordErrors(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp    string
		errs, words int
	}{
		{"one two three", "one two three", 0, 3},
		{"One, two. THREE!", "one two three", 0, 3},
		{"one two three", "one three", 1, 3},
		{"one two three", "one two two three", 1, 3},
		{"one two three", "one too three", 1, 3},
		{"one two three", "", 3, 3},
		{"", "hello there", 2, 0},
		{"please transfer me to the sales department", "please transfer meeting the sales department", 2, 7},
		{"no thank you", "nalbandian", 3, 3},
		{"don't stop", "'don't' stop", 0, 2},
	} {
		e, n := stttest.WordErrors(tc.ref, tc.hyp)
		require.Equal(t, tc.errs, e, "%q vs %q", tc.ref, tc.hyp)
		require.Equal(t, tc.words, n, "%q", tc.ref)
	}
	require.Equal(t, []string{"don't", "stop", "now"}, stttest.Words(" Don't -- STOP, now! "))
}
