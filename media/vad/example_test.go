package vad_test

import (
	"fmt"
	"math"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/vad"
)

// counter is the next stage: it counts the frames flagged as speech.
type counter struct{ speech, total int }

func (c *counter) SampleRate() int { return 8000 }
func (c *counter) WriteFrame(f media.Frame) error {
	c.total++
	if f.Has(media.FlagSpeech) {
		c.speech++
	}
	return nil
}

// A VAD stage in front of another stage: it flags speech frames and reports when
// speech starts and ends.
func Example() {
	next := &counter{}
	stage, err := vad.NewWriter(next, vad.Config{
		OnEvent: func(e vad.Event) { fmt.Println(e) },
	})
	if err != nil {
		panic(err)
	}

	// Two seconds at 8 kHz: faint hiss, with a voiced sound from 0.5 s to 1.3 s.
	seed := uint32(1)
	frame := make([]int16, 160)
	for n := range 100 {
		for i := range frame {
			t := float64(n*160+i) / 8000
			seed = seed*1664525 + 1013904223
			v := float64(int32(seed)>>20) / 8 // about −50 dBFS of noise
			if t >= 0.5 && t < 1.3 {
				for k := 1; k <= 20; k++ {
					v += 3000 / float64(k) * math.Sin(2*math.Pi*150*float64(k)*t)
				}
			}
			frame[i] = int16(v)
		}
		if err := stage.WriteFrame(media.Frame{Samples: frame, SampleRate: 8000}); err != nil {
			panic(err)
		}
	}
	fmt.Println(next.speech, "of", next.total, "frames flagged as speech")
	// Output:
	// speech-start at 500ms (detected 570ms)
	// speech-end at 1.303s (detected 1.61s)
	// 52 of 100 frames flagged as speech
}
