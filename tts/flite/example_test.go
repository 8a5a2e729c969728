package flite_test

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/flite"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// kal speaks at 8 kHz natively, ready for G.711 without resampling.
func Example() {
	s, err := flite.New(flite.Config{Voice: "kal"})
	if err != nil {
		fmt.Println(err) // e.g. built without cgo
		return
	}
	r, err := s.Synthesize(context.Background(), "Your call is important to us. Please hold.", tts.Options{})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	a, err := ttstest.ReadAll(r)
	if err != nil {
		panic(err)
	}
	fmt.Println("sample rate:", a.SampleRate)
	fmt.Printf("audio: %.1f s\n", a.Duration().Seconds())
	// Output:
	// sample rate: 8000
	// audio: 3.2 s
}
