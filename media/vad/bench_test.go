package vad

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Budget: zero allocations per frame in steady state. Each op is one 20 ms frame.
func BenchmarkProcess(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8k", 16000: "16k"}[rate], func(b *testing.B) {
			d, err := New(rate, Config{})
			if err != nil {
				b.Fatal(err)
			}
			x := synth(rate, 10*time.Second, [2]time.Duration{2 * time.Second, 6 * time.Second})
			frame := rate / 50
			n := len(x) / frame
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				d.Process(x[i*frame : (i+1)*frame])
				if i++; i == n {
					i = 0
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	w, err := NewWriter(&nopSink{rate: 8000}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	x := synth(8000, time.Second, [2]time.Duration{0, time.Second})
	f := media.Frame{Samples: x[:160], SampleRate: 8000}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteFrame(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
