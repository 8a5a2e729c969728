package flite

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

// announcement is three sentences, 30 words in all.
const announcement = "Thank you for calling the city library. " +
	"Our opening hours are nine to five from Monday to Friday. " +
	"Please stay on the line and an assistant will be with you shortly."

// BenchmarkLatency measures, per voice, the time from Synthesize to the first frame
// and to the last, and reports their medians and the real-time factor (synthesis time
// / audio duration). "30words" is one 30-word sentence, so the first frame waits for
// all of it; "3sentences" is 30 words in three sentences, where it waits for the first.
func BenchmarkLatency(b *testing.B) {
	for _, voice := range []string{"kal", "kal16", "slt", "rms", "awb"} {
		for _, c := range []struct{ name, text string }{{"30words", text30}, {"3sentences", announcement}} {
			b.Run(voice+"/"+c.name, func(b *testing.B) {
				s := newSynth(b, voice)
				var first, total []time.Duration
				var audio time.Duration
				for b.Loop() {
					start := time.Now()
					r, err := s.Synthesize(b.Context(), c.text, tts.Options{})
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
}

// BenchmarkReadFrame measures reading frames, resampling slt to 8 kHz, sentence
// synthesis included; budget: no allocation per frame (a sentence may allocate while
// its buffers grow).
func BenchmarkReadFrame(b *testing.B) {
	s := newSynth(b, "kal16")
	long := strings.Repeat(announcement+" ", 3)
	o := tts.Options{SampleRate: 8000}
	r, err := s.Synthesize(b.Context(), long, o)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadFrame(); err != nil {
			b.StopTimer()
			_ = r.Close()
			if r, err = s.Synthesize(b.Context(), long, o); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	_ = r.Close()
}
