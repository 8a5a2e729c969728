package amd_test

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/media"
)

// Budget: zero allocations per frame in steady state. Each op is one 20 ms frame.

func benchAudio(rate int) []int16 {
	ms := time.Millisecond
	return newSig(rate).silence(300*ms).talk(4*time.Second, 0.05).silence(300*ms).tone(1000, 300*ms, 0.05).
		silence(time.Second).noise(0.001).pcm()
}

func benchDetector(b *testing.B, rate int, cfg amd.Config) {
	d, err := amd.New(rate, cfg)
	if err != nil {
		b.Fatal(err)
	}
	audio := benchAudio(rate)
	frame := rate / 50
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i+frame > len(audio) {
			i = 0
			d.Reset()
		}
		if err := d.WriteFrame(media.Frame{Samples: audio[i : i+frame], SampleRate: rate}); err != nil {
			b.Fatal(err)
		}
		for _, ok := d.Next(); ok; _, ok = d.Next() {
		}
		i += frame
	}
}

// The detector never finishes early here (an hour's beep timeout), so every frame is
// fully analysed.
func BenchmarkDetector(b *testing.B) {
	b.Run("cadence/8k", func(b *testing.B) {
		benchDetector(b, 8000, amd.Config{Mode: amd.DetectBeep, BeepTimeout: time.Hour})
	})
	b.Run("classic/8k", func(b *testing.B) {
		benchDetector(b, 8000, amd.Config{Mode: amd.DetectBeep, Rules: amd.Classic, BeepTimeout: time.Hour})
	})
	b.Run("cadence/16k", func(b *testing.B) {
		benchDetector(b, 16000, amd.Config{Mode: amd.DetectBeep, BeepTimeout: time.Hour})
	})
}

func BenchmarkBeepDetector(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8k", 16000: "16k"}[rate], func(b *testing.B) {
			d, err := amd.NewBeepDetector(rate, amd.BeepConfig{})
			if err != nil {
				b.Fatal(err)
			}
			audio := benchAudio(rate)
			frame := rate / 50
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i+frame > len(audio) {
					i = 0
				}
				if err := d.WriteFrame(media.Frame{Samples: audio[i : i+frame], SampleRate: rate}); err != nil {
					b.Fatal(err)
				}
				i += frame
			}
		})
	}
}
