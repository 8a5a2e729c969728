package amd_test

import (
	"fmt"
	"math"
	"time"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/media"
)

// synthGreeting returns 8 kHz audio standing in for an answering machine: 300 ms of
// silence, 3 s of voiced "syllables" (a 140 Hz buzz rich in harmonics, 200 ms on and
// 60 ms off), 400 ms of silence, a 1 kHz beep of 300 ms, and 1 s of silence.
func synthGreeting() []int16 {
	const rate = 8000
	var s []int16
	pad := func(ms int) { s = append(s, make([]int16, ms*rate/1000)...) }
	pad(300)
	for i := range 3 * rate {
		if i%(260*rate/1000) >= 200*rate/1000 {
			s = append(s, 0)
			continue
		}
		var v float64
		for h := 1; h <= 20; h++ {
			v += math.Sin(2*math.Pi*140*float64(h)*float64(i)/rate) / float64(h)
		}
		s = append(s, int16(2000*v))
	}
	pad(400)
	for i := range 300 * rate / 1000 {
		s = append(s, int16(6000*math.Sin(2*math.Pi*1000*float64(i)/rate)))
	}
	pad(1000)
	return s
}

func Example() {
	d, err := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
	if err != nil {
		panic(err)
	}
	audio := synthGreeting()
	// Feed 20 ms frames from the moment of answer, and collect the events.
	for i := 0; i+160 <= len(audio) && !d.Done(); i += 160 {
		if err := d.WriteFrame(media.Frame{Samples: audio[i : i+160], SampleRate: 8000}); err != nil {
			panic(err)
		}
		for e, ok := d.Next(); ok; e, ok = d.Next() {
			switch e.Type {
			case amd.EventDetection:
				fmt.Println("verdict:", e.Detection.Verdict, "because", e.Detection.Reason)
			case amd.EventGreeting:
				g := e.Greeting
				fmt.Printf("greeting: %v, beep %.0f Hz ended at %v\n", g.Result, g.Beep.Frequency, g.At.Round(10*time.Millisecond))
			}
		}
	}
	// Output:
	// verdict: machine because long-greeting
	// greeting: beep_detected, beep 1000 Hz ended at 4s
}

func ExampleBeepDetector() {
	b, err := amd.NewBeepDetector(8000, amd.BeepConfig{})
	if err != nil {
		panic(err)
	}
	tone, err := media.NewToneReader(media.Tone{Frequencies: []float64{800}, Level: -20, Duration: 250 * time.Millisecond}, 8000, 20*time.Millisecond)
	if err != nil {
		panic(err)
	}
	silence := make([]int16, 160)
	for range 10 { // 200 ms of silence first
		_ = b.WriteFrame(media.Frame{Samples: silence, SampleRate: 8000})
	}
	for {
		f, err := tone.ReadFrame()
		if err != nil {
			break
		}
		_ = b.WriteFrame(f)
	}
	for range 10 {
		_ = b.WriteFrame(media.Frame{Samples: silence, SampleRate: 8000})
	}
	beep, n := b.Last()
	fmt.Printf("%d beep: %.0f Hz from %v to %v\n", n, beep.Frequency, beep.Start.Round(10*time.Millisecond), beep.End.Round(10*time.Millisecond))
	// Output:
	// 1 beep: 800 Hz from 200ms to 450ms
}
