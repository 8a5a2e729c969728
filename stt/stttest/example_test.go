package stttest_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// A Script stands in for a speech engine: here each stretch of sound in the audio is
// "recognised" as the next scripted utterance, with word-by-word partial results.
func ExampleScript() {
	rec := &stttest.Script{
		Trigger:  stttest.BySpeech,
		Partials: true,
		Utterances: []stttest.Utterance{
			{Text: "billing please", Confidence: 0.9},
			{Text: "yes", Confidence: 0.8},
		},
	}
	s, err := rec.Start(context.Background(), stt.Config{SampleRate: 8000})
	if err != nil {
		panic(err)
	}
	// Three bursts of sound separated by a second of silence; the third has no
	// scripted utterance.
	for _, f := range stttest.Frames(stttest.Synthetic(8000), 8000) {
		if err := s.WriteFrame(f); err != nil {
			panic(err)
		}
	}
	s.Close()
	for {
		r, err := s.Recv()
		if err == io.EOF {
			break
		}
		kind := "partial"
		if r.Final {
			kind = "final"
		}
		fmt.Printf("%-7s %-16q %.1fs-%.1fs\n", kind, r.Text, r.Start.Seconds(), r.End.Round(100*time.Millisecond).Seconds())
	}
	fmt.Println(len(rec.Starts()), "session")
	// Output:
	// partial "billing"        0.3s-0.5s
	// final   "billing please" 0.3s-1.0s
	// final   "yes"            2.0s-2.7s
	// 1 session
}

// WordErrors scores a transcript against the reference.
func ExampleWordErrors() {
	errs, words := stttest.WordErrors("please transfer me to the sales department", "please transfer meeting the sales department")
	fmt.Printf("%d errors in %d words: WER %.0f%%\n", errs, words, 100*float64(errs)/float64(words))
	// Output:
	// 2 errors in 7 words: WER 29%
}
