package pocketsphinx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
)

// Recognise a spoken account number in telephone-quality audio with a digits grammar.
// The audio comes from flite's 8 kHz voice, as it would from a G.711 call.
func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	prompt := filepath.Join(dir, "digits.wav")
	if out, err := exec.Command("flite", "-voice", "kal", "-t", "four one five two", "-o", prompt).CombinedOutput(); err != nil {
		panic(fmt.Sprint("flite (Debian package flite): ", err, string(out)))
	}

	rec, err := pocketsphinx.New(pocketsphinx.Config{})
	if err != nil {
		panic(err)
	}
	defer rec.Close()
	s, err := rec.Start(context.Background(), stt.Config{SampleRate: 8000, Grammar: stt.DigitsGrammar()})
	if err != nil {
		panic(err)
	}

	// Feed the call audio; in a call this happens on the media goroutine.
	audio, err := wav.Open(prompt, wav.Options{})
	if err != nil {
		panic(err)
	}
	for {
		f, err := audio.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		if err := s.WriteFrame(f); err != nil {
			panic(err)
		}
	}
	audio.Close()
	s.Close() // end of audio: the utterance in progress is finished

	for {
		r, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		if r.Final {
			digits, ok := stt.Digits(r.Text)
			fmt.Printf("%q → %s %v\n", r.Text, digits, ok)
		}
	}
	// Output:
	// "four one five two" → 4152 true
}
