package espeak

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/tts"
)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkLatency measures, for the 30-word sentence (and ten of them), the time from Synthesize to the
// first frame and to the last (the whole synthesis, process start-up included), and
// reports their medians and the real-time factor (synthesis time / audio duration).
func BenchmarkLatency(b *testing.B) {
	for _, c := range []struct {
		name string
		text string
		opts tts.Options
	}{
		{"30words", text30, tts.Options{}},
		{"30words-8kHz", text30, tts.Options{SampleRate: 8000}},
		{"300words", strings.Repeat(text30+" ", 10), tts.Options{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newSynth(b)
			if _, err := s.table(b.Context()); err != nil {
				b.Fatal(err)
			}
			var first, total []time.Duration
			var audio time.Duration
			for b.Loop() {
				start := time.Now()
				r, err := s.Synthesize(b.Context(), c.text, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				f, err := r.ReadFrame()
				if err != nil {
					b.Fatal(err)
				}
				first = append(first, time.Since(start))
				audio = f.Duration()
				for {
					f, err := r.ReadFrame()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					audio += f.Duration()
				}
				total = append(total, time.Since(start))
				_ = r.Close()
			}
			b.ReportMetric(ms(median(first)), "ms-first-frame")
			b.ReportMetric(ms(median(total)), "ms-total")
			b.ReportMetric(audio.Seconds(), "s-audio")
			b.ReportMetric(float64(median(total))/float64(audio), "rtf")
		})
	}
}

// BenchmarkStreamText measures a text stream: the time from writing a complete first
// sentence (just after StreamText, so espeak-ng is still starting) to its first frame.
func BenchmarkStreamText(b *testing.B) {
	s := newSynth(b)
	var first []time.Duration
	for b.Loop() {
		st, err := s.StreamText(b.Context(), tts.Options{SampleRate: 8000})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := io.WriteString(st, text30+" And"); err != nil {
			b.Fatal(err)
		}
		if _, err := st.ReadFrame(); err != nil {
			b.Fatal(err)
		}
		first = append(first, time.Since(start))
		_ = st.Close()
	}
	b.ReportMetric(ms(median(first)), "ms-first-frame")
}

// BenchmarkReadFrame measures the per-frame cost of reading (pipe, WAV parsing,
// resampling to 8 kHz); budget: zero allocations per frame.
func BenchmarkReadFrame(b *testing.B) {
	s := newSynth(b)
	long := strings.Repeat(text30+" ", 5)
	r, err := s.Synthesize(b.Context(), long, tts.Options{SampleRate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadFrame(); err != nil {
			b.StopTimer()
			_ = r.Close()
			if r, err = s.Synthesize(b.Context(), long, tts.Options{SampleRate: 8000}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	_ = r.Close()
}
