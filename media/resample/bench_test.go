package resample

import (
	"testing"

	"github.com/switchboard-go/switchboard/media"
)

// Budget: zero allocations per frame in steady state. Each op is one 20 ms frame.
func BenchmarkProcess(b *testing.B) {
	pairs := append([][2]int{{22050, 8000}, {22050, 16000}}, standardPairs...)
	for _, p := range pairs {
		r, err := New(p[0], p[1])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(r.String(), func(b *testing.B) {
			frame := tone(media.SamplesPer(p[0], media.DefaultFrameDuration), p[0], 440, 8000, 0)
			out := r.Process(nil, frame)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				out = r.Process(out[:0], frame)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	for _, p := range standardPairs[:2] {
		w, err := NewWriter(&sink{rate: p[1]}, p[0])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(w.String(), func(b *testing.B) {
			f := media.Frame{Samples: tone(media.SamplesPer(p[0], media.DefaultFrameDuration), p[0], 440, 8000, 0), SampleRate: p[0]}
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteFrame(f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}
