package espeak_test

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/espeak"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

func Example() {
	s, err := espeak.New(espeak.Config{})
	if err != nil {
		fmt.Println(err) // espeak-ng not found: install the Debian package espeak-ng
		return
	}
	r, err := s.Synthesize(context.Background(), "Thank you for calling.", tts.Options{Language: "en-US", SampleRate: 8000})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	if err != nil {
		panic(err)
	}
	fmt.Println("sample rate:", a.SampleRate)
	fmt.Println("speech:", a.Duration().Seconds() > 0.5 && a.ActiveDuration(-45) > 0)
	// Output:
	// sample rate: 8000
	// speech: true
}
