// Analyze inspects a recording (any WAV the media/wav package reads).
//
// This example shows how to:
//  1. read a WAV file as frames at the rate an analyser wants (media/wav resamples);
//  2. find the DTMF digits in it by in-band detection (media/dtmf);
//  3. decide whether a person or an answering machine answered (amd), and when its
//     greeting's beep ended;
//  4. transcribe it (stt/pocketsphinx, offline).
//
// Usage:
//
//	analyze -dtmf FILE.wav   prints the digits found, as one string
//	analyze -amd FILE.wav    prints {"result": ..., "decision_ms": N, "beep_end_ms": N or null}
//	                         for a recording that starts at the moment of answer
//	analyze -stt FILE.wav    prints the transcript
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/dtmf"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
)

func main() {
	doDTMF := flag.Bool("dtmf", false, "print the DTMF digits in the recording")
	doAMD := flag.Bool("amd", false, "answering machine detection, as JSON")
	doSTT := flag.Bool("stt", false, "print the transcript")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: analyze -dtmf|-amd|-stt FILE.wav")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	path := flag.Arg(0)
	var err error
	switch {
	case *doDTMF:
		var digits string
		digits, err = findDTMF(path)
		if err == nil {
			fmt.Println(digits)
		}
	case *doAMD:
		var out []byte
		out, err = detectMachine(path)
		if err == nil {
			fmt.Println(string(out))
		}
	case *doSTT:
		var text string
		text, err = transcribe(path)
		if err == nil {
			fmt.Println(text)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "analyze:", err)
		os.Exit(1)
	}
}

// each feeds every frame of the file, at rate, to w.
func each(path string, rate int, w media.FrameWriter) error {
	r, err := wav.Open(path, wav.Options{SampleRate: rate})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.WriteFrame(f); err != nil {
			return err
		}
	}
}

func findDTMF(path string) (string, error) {
	var digits strings.Builder
	d, err := dtmf.NewDetector(dtmf.DetectorConfig{SampleRate: 8000, OnDigit: func(det dtmf.Detection) {
		if det.Kind == dtmf.DigitStart {
			digits.WriteRune(det.Digit)
		}
	}})
	if err != nil {
		return "", err
	}
	if err := each(path, 8000, d); err != nil {
		return "", err
	}
	for _, det := range d.Flush(nil) {
		if det.Kind == dtmf.DigitStart {
			digits.WriteRune(det.Digit)
		}
	}
	return digits.String(), nil
}

func detectMachine(path string) ([]byte, error) {
	d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
	if err != nil {
		return nil, err
	}
	if err := each(path, 8000, d); err != nil {
		return nil, err
	}
	d.Finish() // the recording ended: settle what is still open
	det, _ := d.Detection()
	out := struct {
		Result     string `json:"result"`
		DecisionMS int64  `json:"decision_ms"`
		BeepEndMS  *int64 `json:"beep_end_ms"`
	}{Result: det.Verdict.String(), DecisionMS: det.At.Milliseconds()}
	if g, ok := d.Greeting(); ok && g.Result == amd.GreetingBeep {
		ms := g.At.Milliseconds()
		out.BeepEndMS = &ms
	}
	return json.Marshal(out)
}

func transcribe(path string) (string, error) {
	rec, err := pocketsphinx.New(pocketsphinx.Config{})
	if err != nil {
		return "", err
	}
	defer rec.Close()
	ctx := context.Background()
	sess, err := rec.Start(ctx, stt.Config{SampleRate: 16000})
	if err != nil {
		return "", err
	}
	if err := each(path, 16000, sess); err != nil {
		sess.Close()
		return "", err
	}
	if err := sess.Close(); err != nil {
		return "", err
	}
	var parts []string
	for {
		res, err := sess.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		if res.Final && res.Text != "" {
			parts = append(parts, res.Text)
		}
	}
	return strings.Join(parts, " "), nil
}
