package pocketsphinx

import (
	"slices"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// BenchmarkWriteFrame is the cost on the media path: buffering one 20 ms frame.
// Budget: zero allocations.
func BenchmarkWriteFrame(b *testing.B) {
	r := newTestRecognizer(b, Config{})
	s, err := r.Start(b.Context(), stt.Config{SampleRate: 8000})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ps := s.(*session)
	frame := media.Frame{Samples: make([]int16, 160), SampleRate: 8000}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.WriteFrame(frame); err != nil {
			b.Fatal(err)
		}
		ps.mu.Lock()
		if len(ps.in)-ps.head >= 8000 {
			ps.head = len(ps.in) // stand in for Recv taking the audio
		}
		ps.mu.Unlock()
	}
}

// BenchmarkDecode is the recognition cost per 20 ms frame of speech with pauses
// (resampling, VAD, decoding, results), as Recv spends it. The rtf metric is that
// cost over 20 ms. Partial and final results allocate their strings.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate int
		cfg  stt.Config
	}{
		{"16kHz-LM", 16000, stt.Config{}},
		{"8kHz-LM", 8000, stt.Config{}},
		{"8kHz-digits", 8000, stt.Config{Grammar: stt.DigitsGrammar()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := newTestRecognizer(b, Config{})
			audio := slices.Concat(synth(b, "slt", "please transfer me to the sales department", 16000), silence(16000, 0.8),
				synth(b, "slt", "one two three four", 16000), silence(16000, 0.8))
			if bc.rate == 8000 {
				audio = telephone(b, audio)
			}
			frames := stttest.Frames(audio, bc.rate)
			cfg := bc.cfg
			cfg.SampleRate = bc.rate
			s, err := r.Start(b.Context(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ps := s.(*session)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WriteFrame(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
				i++
				ps.work.Lock()
				ps.decodeAll()
				ps.work.Unlock()
				ps.mu.Lock()
				ps.queue, ps.qhead = ps.queue[:0], 0
				ps.mu.Unlock()
			}
			perFrame := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(perFrame.Nanoseconds()), "ns/frame")
			b.ReportMetric(perFrame.Seconds()/media.DefaultFrameDuration.Seconds(), "rtf")
		})
	}
}
