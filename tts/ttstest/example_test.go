package ttstest_test

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// Tone stands in for a speech engine in tests: one burst per word, of known length.
func ExampleTone() {
	tone := &ttstest.Tone{}
	r, err := tone.Synthesize(context.Background(), "Press one for sales.", tts.Options{SampleRate: 16000})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.SampleRate, "Hz,", len(a.Frames), "frames,", a.Duration())
	fmt.Println("expected", tone.Duration("Press one for sales.", tts.Options{}))
	fmt.Println("first word at", ttstest.WordFrequency("Press"), "Hz")
	// Output:
	// 16000 Hz, 32 frames, 640ms
	// expected 640ms
	// first word at 800 Hz
}
