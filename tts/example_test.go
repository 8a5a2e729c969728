package tts_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// Synthesize streams frames until io.EOF; the reader must be closed.
func Example() {
	var s tts.Synthesizer = &ttstest.Tone{} // or espeak.New, flite.New, cache.New
	r, err := s.Synthesize(context.Background(), "Welcome to Switchboard.", tts.Options{SampleRate: 8000})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	frames := 0
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		frames++
		_ = f.Samples // hand the frame to the call's playout, a file, ...
	}
	fmt.Println(r.SampleRate(), "Hz,", frames, "frames of 20 ms")
	// Output: 8000 Hz, 24 frames of 20 ms
}

// StreamText speaks text while it is still being written, as from a language model
// producing tokens: each sentence is spoken as soon as it is complete.
func ExampleStreamText() {
	st, err := tts.StreamText(context.Background(), &ttstest.Tone{}, tts.Options{SampleRate: 8000})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	for _, token := range []string{"Your ", "balance ", "is ", "ten ", "dollars. ", "Anything ", "else"} {
		fmt.Fprint(st, token)
	}
	// The first sentence is complete: its audio can be read before the rest arrives.
	f, err := st.ReadFrame()
	if err != nil {
		panic(err)
	}
	fmt.Println("first frame:", f.Duration())
	fmt.Fprint(st, "?")
	st.CloseWrite()
	n := 1
	for {
		if _, err := st.ReadFrame(); err != nil {
			fmt.Println(n, "frames, then", err)
			break
		}
		n++
	}
	// Output:
	// first frame: 20ms
	// 56 frames, then EOF
}
